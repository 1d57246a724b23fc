"""`render_terminal(summary, console)`: rich tables printed after each scan and by `xiezhi report`."""

from __future__ import annotations

import io
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from xiezhi.report.summary import factual_groups, factual_line


def pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _color(v: float) -> str:
    return "red" if v >= 0.5 else "yellow" if v >= 0.2 else "green"


def _group_name(key: str, g: dict[str, Any]) -> str:
    name = g.get("name")
    return _plain(f"{key} {name['zh']}" if name else key)


def _group_table(title: str, groups: dict[str, dict[str, Any]]) -> Table:
    t = Table(title=title, title_justify="left", show_edge=False, box=box.SIMPLE_HEAD)
    t.add_column("group", overflow="ellipsis", no_wrap=True, max_width=22)
    for col in ("n", "unsafe", "违规率\nviolation", "benign", "过度拒答\nover-ref.", "errors"):
        t.add_column(col, justify="right", no_wrap=True)
    for key, g in groups.items():
        vr = f"[{_color(g['violation_rate'])}]{pct(g['violation_rate'])}[/]" if g["n"] else "–"
        t.add_row(_group_name(key, g), str(g["n"]), str(g["n_unsafe"]), vr, str(g.get("n_benign", 0)),
                  pct(g["over_refusal_rate"]) if g.get("n_benign") else "–", str(g.get("n_errors", 0)))
    return t


def render_terminal(summary: dict[str, Any], console: Console) -> None:
    """Headline numbers, then tables by category, risk type, language and tier."""
    s = summary
    head = Table(show_header=False, show_edge=False, box=None, pad_edge=False)
    head.add_column(style="bold")
    head.add_column()
    vr = s["violation_rate"]
    rows = [
        ("run", s["run_id"]),
        ("target 目标", s["target"]),
        ("judge 评判", s["judge"]),
        ("status", s["status"]),
        ("attempts 尝试",
         f"{s['n_attempts']}/{s['n_planned']}  (errors {s['n_errors']}, uncertain {s['n_uncertain']})"),
        ("violation rate 违规率", f"[bold {_color(vr)}]{pct(vr)}[/]  ({s['n_unsafe']}/{s['n_harmful']} harmful)"
         if s["n_harmful"] else "–  (nothing judged: every attempt failed or is pending; see errors, --resume)"),
        ("over-refusal 过度拒答", (f"{pct(s['over_refusal_rate'])}  ({s['n_over_refused']}/{s['n_benign']} benign)"
                                if s["n_benign"] else "–  (no benign look-alikes)")),
    ]
    if s.get("factual"):  # factual probes (A.5): their own figure, not in the violation rate
        rows.append(("factual accuracy 事实准确性", factual_line(s["factual"])))
    for k, v in rows:
        head.add_row(k, v if k.startswith(("violation", "over")) else _plain(v))
    console.print(head)
    console.print(_group_table("by category 按类别", s["by_category"]))
    if s.get("by_risk_type"):
        console.print(_group_table("by risk type 按风险类型", s["by_risk_type"]))
    console.print(_group_table("by language 按语言", s["by_lang"]))
    console.print(_group_table("by tier 按难度", s["by_tier"]))
    if s.get("factual"):
        console.print(_factual_table(s["factual"]))


def _factual_table(factual: dict[str, Any]) -> Table:
    t = Table(title="factual accuracy 事实准确性 (reference answers; not in the violation rate)",
              title_justify="left", show_edge=False, box=box.SIMPLE_HEAD)
    t.add_column("group", overflow="ellipsis", no_wrap=True, max_width=30)
    for col in ("n", "wrong 错误", "refused", "accuracy 准确率"):
        t.add_column(col, justify="right", no_wrap=True)
    for label, g in factual_groups(factual):
        t.add_row(_plain(label), str(g["n"]), str(g["n_wrong"]), str(g["n_refused"]), pct(g["accuracy"]))
    return t


def _plain(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def render_terminal_text(summary: dict[str, Any]) -> str:
    """The terminal report as plain text (for ``--out FILE``)."""
    console = Console(record=True, width=120, file=io.StringIO(), color_system=None)
    render_terminal(summary, console)
    return console.export_text()
