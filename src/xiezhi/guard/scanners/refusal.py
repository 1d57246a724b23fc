"""`refusal`: does a response refuse? Informational (a refusal is not a harm): policies flag it."""

from __future__ import annotations

import re

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner
from xiezhi.registry import register

_FALLBACK = re.compile(
    r"\b(?:I\s*(?:can(?:'|no)?t|cannot|won'?t|am\s+(?:not\s+able|unable))\s+(?:help|assist|provide|comply|do\s+that)"
    r"|I'?m\s+(?:sorry|afraid)|as\s+an\s+ai)\b|抱歉|对不起|我不能|我无法|无法(?:提供|协助|帮助)|不能(?:提供|协助|帮助)",
    re.I,
)


def refusal_score(text: str) -> float:
    """0 = no refusal cue .. 1 = an up-front refusal (uses the refusal judge's cues when present)."""
    try:
        from xiezhi.judges.refusal import refusal_strength
    except ImportError:
        return 1.0 if not text.strip() else (0.8 if _FALLBACK.search(text[:300]) else 0.0)
    return refusal_strength(text)


@register("scanner", "refusal", stages=("output",))
class RefusalScanner(BaseScanner):
    """Risk here is the refusal likelihood; use it with ``action: flag, informational: true``."""

    name = "refusal"
    stages = frozenset({"output"})

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        s = refusal_score(text)
        return self.result(s, ["refusal cue"] if s >= 0.5 else [])
