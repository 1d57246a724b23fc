"""Reports over stored runs: run summaries and renderers, leaderboard, trend and the CI gate.

    >>> from xiezhi.report import summarize, render_html
    >>> html = render_html(summarize(store.get_run(run_id), store.attempts(run_id)))
"""

from xiezhi.report.gate import GateResult, evaluate_gate
from xiezhi.report.render import render_html, render_json, render_markdown, render_terminal
from xiezhi.report.summary import summarize

__all__ = ["GateResult", "evaluate_gate", "render_html", "render_json", "render_markdown", "render_terminal",
           "summarize"]
