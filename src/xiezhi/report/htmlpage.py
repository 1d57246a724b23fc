"""The self-contained HTML page shell shared by every HTML report (inline CSS, no network).

A strict Content-Security-Policy forbids scripts and remote loads, so even a model
response that slipped past escaping could not run or phone home.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;
margin:0 auto;max-width:1100px;padding:24px;color:#1c2833;background:#fbfcfc}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:1px solid #d5d8dc}
.card{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.kpi{background:#fff;border:1px solid #d5d8dc;border-radius:8px;padding:10px 14px;min-width:130px}
.kpi b{display:block;font-size:1.5em}.kpi span{color:#566573;font-size:.85em}
.bad b{color:#c0392b}.warn b{color:#2e86c1}
.meta{color:#566573;font-size:.9em;word-break:break-all}
table{border-collapse:collapse;width:100%;font-size:.88em;background:#fff}
th,td{border:1px solid #d5d8dc;padding:4px 7px;text-align:left;vertical-align:top}
th{background:#eaeded}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.txt{max-width:380px;white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,monospace;font-size:.92em}
.v-unsafe{color:#c0392b;font-weight:600}.v-refusal{color:#1e8449}.v-uncertain{color:#b9770e}
.chart{max-width:100%;height:auto;background:#fff;border:1px solid #eaeded;border-radius:6px;margin:6px 0}
.chart text{font-size:11px;fill:#1c2833}.chart .lg{font-size:12px}.chart .ax{stroke:#909497}
.chart .grid{stroke:#eaeded}.row{display:flex;flex-wrap:wrap;gap:16px}
footer{margin-top:2em;color:#909497;font-size:.8em}
"""


def e(value: object) -> str:
    """HTML-escape any value (model output and user text are hostile)."""
    return escape("" if value is None else str(value), quote=True)


def pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def kpi(label: str, value: str, cls: str = "") -> str:
    return f'<div class="kpi {cls}"><b>{e(value)}</b><span>{e(label)}</span></div>'


def table(headers: Sequence[str], rows: Sequence[Sequence[tuple[str, str]]]) -> str:
    """A table; each cell is (css class, already-escaped html)."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="{c}">{h}</td>' for c, h in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, sections: Sequence[str]) -> str:
    """A complete HTML document around the given (already-escaped) sections."""
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(sections)
        + "<footer>獬豸 xiezhi — generated offline; this file loads nothing from the network.</footer>"
        "</body></html>\n"
    )
