"""Run-report renderers, registered as ``report`` plugins (json, md, html, terminal).

Each registered renderer is ``(summary) -> str``; `render_terminal` prints to a rich
console instead (colours) and is what `xiezhi scan` shows after a run.
"""

from __future__ import annotations

import json
from typing import Any

from xiezhi.registry import register
from xiezhi.report.html import render_html
from xiezhi.report.markdown import render_markdown
from xiezhi.report.terminal import render_terminal, render_terminal_text


def render_json(summary: dict[str, Any]) -> str:
    """The summary as one JSON object (UTF-8, Chinese kept readable)."""
    return json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=False)


register("report", "json", description="run summary as one JSON object")(render_json)
register("report", "md", description="run report as Markdown")(render_markdown)
register("report", "html", description="run report as one self-contained HTML file")(render_html)
register("report", "terminal", description="run report as rich tables")(render_terminal_text)

SUFFIX_FORMATS = {".json": "json", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".txt": "terminal"}

__all__ = ["SUFFIX_FORMATS", "render_html", "render_json", "render_markdown", "render_terminal",
           "render_terminal_text"]
