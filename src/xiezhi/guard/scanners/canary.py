"""`canary`: leakage of the system prompt or of canary tokens into a response.

A canary (a random marker placed in the system prompt) found in the output is a sure
leak. Otherwise the share of the system prompt's character 12-grams (whitespace folded)
that reappear in the output measures a verbatim or near-verbatim leak.
"""

from __future__ import annotations

import re

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner
from xiezhi.registry import register

_WS = re.compile(r"\s+")
MAX_CHARS = 200_000  # longer outputs are checked on their first 200k characters


def _grams(text: str, n: int) -> set[str]:
    t = _WS.sub(" ", text.lower()).strip()
    return {t[i : i + n] for i in range(max(0, len(t) - n + 1))}


def overlap(system_prompt: str, output: str, n: int = 12) -> float:
    """Fraction of the system prompt's character n-grams present in the output."""
    sp = _grams(system_prompt, n)
    if not sp:
        return 0.0
    return len(sp & _grams(output, n)) / len(sp)


@register("scanner", "canary", stages=("output",))
class CanaryScanner(BaseScanner):
    """Risk 1 for a canary token in the output; else system-prompt overlap scaled so 50% -> 1."""

    name = "canary"
    stages = frozenset({"output"})

    def __init__(self, canaries: list[str] | None = None, ngram: int = 12) -> None:
        self.canaries = list(canaries or [])
        self.ngram = ngram

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        text = text[:MAX_CHARS]
        low = text.lower()
        for c in [*self.canaries, *context.canaries]:
            if c and c.lower() in low:
                return self.result(1.0, ["canary token leaked"])
        if context.system_prompt and len(context.system_prompt.strip()) >= self.ngram:
            ov = overlap(context.system_prompt, text, self.ngram)
            if ov > 0:
                return self.result(min(1.0, 2.0 * ov), [f"system prompt overlap {ov:.0%}"])
        return self.result(0.0)
