"""`size`: limits on characters and (approximate) tokens, so oversized prompts never reach a model."""

from __future__ import annotations

import re

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner
from xiezhi.registry import register

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W\d_]+|\d+|[^\w\s]", re.UNICODE)


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate: one token per CJK character, ~1.3 per other word or symbol."""
    cjk = len(_CJK.findall(text))
    rest = len(_WORD.findall(_CJK.sub(" ", text)))
    return cjk + int(rest * 1.3 + 0.5)


@register("scanner", "size", stages=("input", "output"))
class SizeScanner(BaseScanner):
    """Risk 1 when the text exceeds `max_chars` or `max_tokens`; otherwise its fill ratio / 2."""

    name = "size"

    def __init__(self, max_chars: int = 32000, max_tokens: int = 8192) -> None:
        if max_chars <= 0 or max_tokens <= 0:
            raise ValueError("max_chars and max_tokens must be positive")
        self.max_chars = max_chars
        self.max_tokens = max_tokens

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        n_chars = len(text)
        if n_chars > self.max_chars:
            return self.result(1.0, [f"{n_chars} characters > {self.max_chars}"])
        # approx_tokens never exceeds 1.3 x the character count + 1, so short texts skip the count
        n_tok = approx_tokens(text) if n_chars * 1.3 + 1 > self.max_tokens else n_chars // 2
        if n_tok > self.max_tokens:
            return self.result(1.0, [f"~{n_tok} tokens > {self.max_tokens}"])
        fill = max(n_chars / self.max_chars, n_tok / self.max_tokens)
        return self.result(0.49 * fill)
