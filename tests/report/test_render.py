"""Renderers: HTML is one offline, script-free file; JSON/Markdown/terminal carry the numbers."""

from __future__ import annotations

import json
import re

from tests.report.factory import attempt, run, sample_attempts
from xiezhi.registry import registry
from xiezhi.report.render import render_html, render_json, render_markdown, render_terminal_text
from xiezhi.report.summary import summarize

HOSTILE = 'a | b\nc <script>alert("pwned")</script><img src="https://evil.test/x.png" onerror="x()">'


def hostile_summary() -> dict[str, object]:
    atts = [*sample_attempts(), attempt(20, label="unsafe", response=HOSTILE, chain=["<b>role-play</b>"], score=1.0)]
    return summarize(run(target='evil"><script>t()</script>'), atts)


def test_html_is_self_contained_and_has_charts() -> None:
    html = render_html(summarize(run(), sample_attempts()))
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(" not in html
    assert html.count("<svg") >= 3  # category, language, tier (+ chain steps)
    assert "违规率 violation rate" in html and "over-refusal" in html
    assert "50.0%" in html  # the headline violation rate


def test_html_escapes_hostile_model_output_and_names() -> None:
    html = render_html(hostile_summary())
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert "<img" not in html and "onerror=\"x()\"" not in html
    assert "<b>role-play</b>" not in html and "&lt;b&gt;role-play&lt;/b&gt;" in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_json_round_trips_with_required_keys() -> None:
    s = summarize(run(), sample_attempts())
    data = json.loads(render_json(s))
    assert data == json.loads(json.dumps(s))
    assert data["violation_rate"] == 0.5 and "by_chain_step" in data


def test_markdown_tables_survive_hostile_text() -> None:
    text = render_markdown(hostile_summary())
    assert "violation rate 违规率" in text
    assert "<script" not in text
    rows = [line for line in text.splitlines() if line.startswith("| unsafe") and "pwned" in line]
    assert len(rows) == 1  # the newline in the model output did not split the row
    # the example row keeps its 7 columns: the pipe in the model output is escaped
    assert len(re.findall(r"(?<!\\)\|", rows[0])) == 8


def test_terminal_text_has_headline_and_breakdowns() -> None:
    text = render_terminal_text(summarize(run(), sample_attempts()))
    assert "50.0%" in text and "33.3%" in text
    assert "by category" in text and "by language" in text and "by tier" in text and "by risk type" in text
    assert "advanced" in text


def test_formats_resolve_through_the_registry() -> None:
    assert {"json", "md", "html", "terminal"} <= set(registry.names("report"))
    html = registry.get("report", "html").factory(summarize(run(), []))
    assert "<svg" in html


def test_a_run_with_nothing_judged_does_not_show_a_zero_violation_rate() -> None:
    """Every request failed: "0.0%" would read as a safe model."""
    s = summarize(run(), [attempt(i, label=None, error="HTTP 404 model not found") for i in range(3)])
    assert s["n_harmful"] == 0
    term = render_terminal_text(s)
    assert "nothing judged" in term and "0.0%" not in term.split("violation rate")[1].split("\n")[0]
    assert "violation rate 违规率: –" in render_markdown(s)
    assert '<div class="kpi bad"><b>–</b><span>违规率 violation rate</span>' in render_html(s)
