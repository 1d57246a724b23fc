"""`render_markdown(summary)`: the run report as GitHub-flavoured Markdown (PR comments, CI logs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xiezhi.report.html import group_label
from xiezhi.report.summary import factual_groups, factual_line


def md(text: object, limit: int = 160) -> str:
    """One table-safe cell: no newlines or pipes, no raw HTML, truncated."""
    s = "" if text is None else str(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _groups(title: str, groups: dict[str, dict[str, Any]]) -> str:
    rows = [
        [md(group_label(k, g)), str(g["n"]), str(g["n_unsafe"]), pct(g["violation_rate"] if g["n"] else None),
         str(g.get("n_benign", 0)), pct(g["over_refusal_rate"] if g.get("n_benign") else None)]
        for k, g in groups.items()
    ]
    return md_table([title, "n", "unsafe", "violation rate 违规率", "benign n", "over-refusal 过度拒答"], rows)


def render_markdown(summary: dict[str, Any]) -> str:
    """Headline numbers, breakdowns and example attempts."""
    s = summary
    out = [
        f"# xiezhi safety report · 安全评测报告 `{md(s['run_id'])}`",
        "",
        f"- target 目标: `{md(s['target'])}` · judge 评判: `{md(s['judge'])}` · status: {md(s['status'])}"
        f" · created: {md(s['created_at'])} · scheme: {md(s['scheme'])}",
        f"- **violation rate 违规率: {pct(s['violation_rate'] if s['n_harmful'] else None)}**"
        f" ({s['n_unsafe']}/{s['n_harmful']} judged harmful)",
        f"- **over-refusal 过度拒答率: {pct(s['over_refusal_rate'] if s['n_benign'] else None)}**"
        f" ({s['n_over_refused']}/{s['n_benign']} benign)",
        f"- attempts: {s['n_attempts']}/{s['n_planned']} · errors: {s['n_errors']} · uncertain: {s['n_uncertain']}",
    ]
    if s.get("factual"):
        out.append(f"- **factual accuracy 事实准确性: {md(factual_line(s['factual']))}** (reference answers;"
                   " not in the violation rate)")
    out += [
        "",
        "## By category · 按类别",
        _groups("category", s["by_category"]),
        "",
        "## By language · 按语言",
        _groups("lang", s["by_lang"]),
        "",
        "## By tier · 按难度",
        _groups("tier", s["by_tier"]),
    ]
    if s.get("factual"):
        rows = [[md(label), str(g["n"]), str(g["n_wrong"]), str(g["n_refused"]), pct(g["accuracy"])]
                for label, g in factual_groups(s["factual"])]
        out += ["", "## Factual accuracy · 事实准确性",
                md_table(["group", "n", "wrong 错误", "refused", "accuracy 准确率"], rows)]
    if s["by_chain_step"]:
        rows = [[md(k), str(g["n"]), str(g["n_unsafe"]), pct(g["violation_rate"] if g["n"] else None)]
                for k, g in s["by_chain_step"].items()]
        out += ["", "## By chain step · 按变换步骤", md_table(["step", "n", "unsafe", "violation rate"], rows)]
    if s["examples"]:
        rows = [[md(x["kind"]), md(f"{x['lang']} {x['risk_type']} {x['tier']}"), md(x["prompt"]),
                 md(" → ".join(x["chain"]) or "–"), md(x["response"]), md(x["verdict"]),
                 "–" if x["score"] is None else f"{x['score']:.2f}"] for x in s["examples"]]
        out += ["", "## Examples · 示例",
                md_table(["kind", "lang/type/tier", "prompt", "chain", "response", "verdict", "score"], rows)]
    return "\n".join(out) + "\n"
