"""`harmful_request`: a prompt that asks for harmful content (TC260-003 risk types, AdvBench-like).

Default: the learned ``harmful`` head over hashed n-grams (fast, bilingual), trained on
harmful seeds against benign look-alikes, combined with a topic lexicon by TC260-003 risk
type (``lexicon.py``; reasons name the risk type). ``model: e5`` instead compares the prompt's
multilingual-e5-small embedding (the judge's embedding model) to a linear head trained on
the same data (slower, ~tens of ms per prompt; used by the strict policy).
"""

from __future__ import annotations

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner, cached_normalize, noisy_or
from xiezhi.guard.scanners.lexicon import lexicon_risk
from xiezhi.guard.scanners.textmodel import shared_heads
from xiezhi.registry import register


@register("scanner", "harmful_request", stages=("input",))
class HarmfulRequestScanner(BaseScanner):
    """Risk that a prompt requests harmful content, in Chinese or English."""

    name = "harmful_request"
    stages = frozenset({"input"})

    def __init__(self, model: str = "ngram", lexicon: bool = True) -> None:
        if model not in ("ngram", "e5"):
            raise ValueError(f"harmful_request model must be 'ngram' or 'e5', not {model!r}")
        self.model = model
        self.lexicon = lexicon

    def _e5_risk(self, text: str) -> tuple[float, str]:
        from xiezhi.guard.scanners.e5head import shared_e5_heads

        p = shared_e5_heads().predict(text)["harmful"]
        return p, f"e5 harmful p={p:.2f}"

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        norm = cached_normalize(text)
        if self.model == "e5":
            risk, why = self._e5_risk(norm.text)
            return self.result(risk, [why] if risk >= 0.5 else [])
        heads = shared_heads()
        best, reasons = 0.0, []
        for view, body in norm.all_views():
            p = heads.predict(body)["harmful"] if heads is not None else 0.0
            lex, types = lexicon_risk(body) if self.lexicon else (0.0, [])
            risk = noisy_or(p, lex)
            if risk > best:
                best = risk
                reasons = [f"{view}: model harmful p={p:.2f}"]
                reasons += [f"{view}: topic {', '.join(types)}"] if types else []
        return self.result(best, reasons if best >= 0.5 else [])
