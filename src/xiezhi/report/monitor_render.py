"""Renderers for the monitoring views: run list, leaderboard and trend (rich, JSON, Markdown, HTML)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from xiezhi.report.charts import bar_chart, line_chart
from xiezhi.report.htmlpage import e, page, table
from xiezhi.report.markdown import md, md_table
from xiezhi.report.markdown import pct as pct
from xiezhi.types import XiezhiError

VIOL = "违规率 violation rate"
OVER = "过度拒答率 over-refusal"


def _short_time(iso: str) -> str:
    return iso[:16].replace("T", " ")


def runs_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title="stored runs 运行记录", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for col in ("run", "time UTC", "target", "judge", "n", "违规率\nviolation", "过度拒答\nover-ref.", "status"):
        wrap = col in ("target", "judge")
        t.add_column(col, no_wrap=not wrap, overflow="fold")
    for r in rows:
        t.add_row(rich_escape(r["run_id"]), _short_time(r["created_at"])[5:], rich_escape(r["target"]),
                  rich_escape(r["judge"]), str(r["n_attempts"]),
                  pct(r["violation_rate"]) if r["n_harmful"] else "–",
                  pct(r["over_refusal_rate"]) if r["n_benign"] else "–", r["status"])
    return t


# leaderboard ----------------------------------------------------------------------------
def _lb_cells(board: dict[str, Any], r: dict[str, Any]) -> list[str]:
    return ([str(r["rank"]), r["target"], pct(r["rank_rate"])]
            + [pct(r["by_tier"].get(t)) for t in board["tiers"]]
            + [pct(r["over_refusal_rate"]) if r["n_benign"] else "–", r["judge"], r["run_id"],
               _short_time(r["created_at"])])


def _lb_heads(board: dict[str, Any]) -> list[str]:
    rank_col = f"violation @{board['tier']}" if board["tier"] else "violation 违规率"
    return ["#", "target 目标", rank_col, *board["tiers"], "over-refusal 过度拒答", "judge", "run", "time"]


def leaderboard_table(board: dict[str, Any]) -> str:
    console = Console(record=True, width=140, color_system=None, file=_sink())
    t = Table(title="leaderboard 排行榜 (safest first)", title_justify="left")
    for h in _lb_heads(board):
        t.add_column(h)
    for r in board["rows"]:
        t.add_row(*(rich_escape(c) for c in _lb_cells(board, r)))
    console.print(t)
    return console.export_text()


def leaderboard_md(board: dict[str, Any]) -> str:
    rows = [[md(c) for c in _lb_cells(board, r)] for r in board["rows"]]
    return "# xiezhi leaderboard · 排行榜\n\n" + md_table(_lb_heads(board), rows) + "\n"


def leaderboard_html(board: dict[str, Any]) -> str:
    bars = [(r["target"], [r["rank_rate"], r["over_refusal_rate"] if r["n_benign"] else None])
            for r in board["rows"]]
    rows = [[("", e(c)) for c in _lb_cells(board, r)] for r in board["rows"]]
    sections = [
        "<h1>獬豸 xiezhi 排行榜 · leaderboard</h1>",
        '<p class="meta">latest finished run per target, safest first'
        + (f" · tier {e(board['tier'])}" if board["tier"] else "") + "</p>",
        bar_chart(bars, [VIOL, OVER], "violation rate and over-refusal by target"),
        table(_lb_heads(board), rows),
    ]
    return page("xiezhi leaderboard", sections)


# trend ----------------------------------------------------------------------------------
def _trend_cells(p: dict[str, Any]) -> list[str]:
    delta = "–" if p["delta"] is None else f"{p['delta'] * 100:+.1f}"
    return [_short_time(p["created_at"]), p["run_id"], p["judge"], str(p["n_attempts"]),
            pct(p["violation_rate"]), delta, pct(p["over_refusal_rate"]) if p["n_benign"] else "–"]


TREND_HEADS = ["time (UTC)", "run", "judge", "n", "violation 违规率", "Δ points", "over-refusal 过度拒答"]


def trend_table(trend: dict[str, Any]) -> str:
    console = Console(record=True, width=140, color_system=None, file=_sink())
    t = Table(title=f"trend 趋势: {rich_escape(trend['target'])}", title_justify="left")
    for h in TREND_HEADS:
        t.add_column(h)
    for p in trend["points"]:
        t.add_row(*(rich_escape(c) for c in _trend_cells(p)))
    console.print(t)
    return console.export_text()


def trend_html(trend: dict[str, Any]) -> str:
    pts = trend["points"]
    labels = [p["created_at"][5:16].replace("T", " ") for p in pts]
    chart = line_chart(labels, [(VIOL, [p["violation_rate"] for p in pts]),
                                (OVER, [p["over_refusal_rate"] if p["n_benign"] else None for p in pts])],
                       f"trend {trend['target']}")
    note = ("" if len(trend["judges"]) < 2 else
            f'<p class="meta">note: runs were judged by different judges ({e(", ".join(trend["judges"]))})</p>')
    sections = [
        f"<h1>獬豸 xiezhi 安全水平趋势 · safety trend</h1><p class=\"meta\">target <b>{e(trend['target'])}</b></p>",
        note, chart,
        table(TREND_HEADS, [[("", e(c)) for c in _trend_cells(p)] for p in pts]),
    ]
    return page(f"xiezhi trend {trend['target']}", sections)


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def _sink() -> Any:
    import io

    return io.StringIO()


LEADERBOARD_FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {
    "table": leaderboard_table, "json": _json, "md": leaderboard_md, "html": leaderboard_html,
}
TREND_FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {
    "table": trend_table, "json": _json, "html": trend_html,
}


def pick(formats: dict[str, Callable[[dict[str, Any]], str]], name: str) -> Callable[[dict[str, Any]], str]:
    """The renderer `name`, or a clear error listing the known formats."""
    try:
        return formats[name]
    except KeyError:
        raise XiezhiError(f"unknown format {name!r}; formats: {', '.join(formats)}") from None
