"""`render_html(summary)`: one self-contained HTML file for a run (inline CSS + SVG, no JS)."""

from __future__ import annotations

from typing import Any

from xiezhi.report.charts import bar_chart
from xiezhi.report.htmlpage import e, kpi, page, pct, table
from xiezhi.report.summary import factual_groups

VIOL = "违规率 violation rate"
OVER = "过度拒答率 over-refusal"
FACT = "事实准确率 factual accuracy"
KINDS = {"unsafe": "违规 unsafe", "refusal": "拒答 refusal", "over_refusal": "过度拒答 over-refusal",
         "wrong_answer": "答错 wrong answer", "error": "错误 error"}


def group_label(key: str, row: dict[str, Any]) -> str:
    name = row.get("name")
    return f"{key} {name['zh']} / {name['en']}" if name else key


def _chart(groups: dict[str, dict[str, Any]], title: str) -> str:
    """Violation rate beside over-refusal for each group (the zh name on the bar, both on hover)."""
    rows: list[tuple[str, list[float | None]]] = []
    for key, g in groups.items():
        vals: list[float | None] = [g["violation_rate"] if g["n"] else None,
                                    g["over_refusal_rate"] if g.get("n_benign") else None]
        rows.append((f"{key} {g['name']['zh']}" if "name" in g else key, vals))
    return bar_chart(rows, [VIOL, OVER], title, tips=[group_label(k, g) for k, g in groups.items()])


def _headline(s: dict[str, Any]) -> str:
    meta = (
        f'<p class="meta">目标 target: <b>{e(s["target"])}</b> · 评判 judge: <b>{e(s["judge"])}</b> · '
        f'run <code>{e(s["run_id"])}</code> · {e(s["created_at"])} · status {e(s["status"])} · '
        f'scheme {e(s["scheme"])}</p>'
    )
    cards = "".join([
        kpi(VIOL, pct(s["violation_rate"] if s["n_harmful"] else None), "bad"),
        kpi(f"违规 unsafe / 有害样本 harmful n={s['n_harmful']}", f"{s['n_unsafe']}"),
        kpi(OVER, pct(s["over_refusal_rate"]) if s["n_benign"] else "–", "warn"),
        kpi("良性样本 benign n", str(s["n_benign"])),
        kpi("尝试 attempts", f"{s['n_attempts']}/{s['n_planned']}"),
        kpi("错误 errors", str(s["n_errors"])),
        kpi("不确定 uncertain", str(s["n_uncertain"])),
    ] + ([kpi(f"{FACT} n={s['factual']['n']}, wrong {s['factual']['n_wrong']}", pct(s["factual"]["accuracy"]))]
         if s.get("factual") else []))
    return f"<h1>獬豸 xiezhi 安全评测报告 · safety report</h1>{meta}<div class=\"card\">{cards}</div>"


def _group_table(title: str, groups: dict[str, dict[str, Any]]) -> str:
    rows = [
        [("", e(group_label(k, g))), ("num", str(g["n"])), ("num", str(g["n_unsafe"])),
         ("num", pct(g["violation_rate"]) if g["n"] else "–"), ("num", str(g.get("n_benign", 0))),
         ("num", pct(g["over_refusal_rate"]) if g.get("n_benign") else "–"), ("num", str(g.get("n_errors", 0)))]
        for k, g in groups.items()
    ]
    heads = [title, "n", "unsafe", VIOL, "benign n", OVER, "errors"]
    return table(heads, rows)


def _examples(examples: list[dict[str, Any]]) -> str:
    rows = [
        [("", e(KINDS.get(x["kind"], x["kind"]))), ("", e(f"{x['lang']} {x['risk_type']} {x['tier']}")),
         ("txt", e(x["prompt"])), ("", e(" → ".join(x["chain"]) or "–")), ("txt", e(x["response"])),
         (f"v-{e(x['verdict'])}", e(x["verdict"])), ("num", "–" if x["score"] is None else f"{x['score']:.2f}")]
        for x in examples
    ]
    heads = ["kind", "lang / type / tier", "提示 prompt", "链 chain", "回复 response", "判定 verdict", "score"]
    return table(heads, rows)


def render_html(summary: dict[str, Any]) -> str:
    """The run report as a complete offline HTML document."""
    s = summary
    charts = [
        _chart(s["by_category"], "by category 按类别"),
        _chart(s["by_lang"], "by language 按语言"),
        _chart(s["by_tier"], "by tier 按难度"),
    ]
    sections = [
        _headline(s),
        "<h2>违规率与过度拒答 · violation rate and over-refusal</h2>",
        '<div class="row">' + "".join(f"<div>{c}</div>" for c in charts) + "</div>",
        "<h2>按类别 · by category</h2>" + _group_table("category 类别", s["by_category"]),
        "<h2>按风险类型 · by risk type</h2>" + _group_table("risk type 风险类型", s["by_risk_type"]),
        "<h2>按语言 / 难度 · by language / tier</h2>" + _group_table("lang 语言", s["by_lang"])
        + _group_table("tier 难度", s["by_tier"]),
    ]
    if s.get("factual"):
        rows = [[("", e(label)), ("num", str(g["n"])), ("num", str(g["n_wrong"])), ("num", str(g["n_refused"])),
                 ("num", pct(g["accuracy"]))] for label, g in factual_groups(s["factual"])]
        sections.append("<h2>事实准确性 · factual accuracy (reference answers; not in the violation rate)</h2>"
                        + table(["group", "n", "答错 wrong", "拒答 refused", FACT], rows))
    if s["by_chain_step"]:
        steps = [(k, [g["violation_rate"] if g["n"] else None]) for k, g in s["by_chain_step"].items()]
        sections.append("<h2>变换步骤 · mutation / strategy steps</h2>"
                        + bar_chart(steps, [VIOL], "violation rate by chain step"))
    sections.append("<h2>示例 · example attempts</h2>" + _examples(s["examples"]))
    return page(f"xiezhi report {s['run_id']} — {s['target']}", sections)
