"""`harmful_request`: a prompt that asks for harmful content (TC260-003 risk types, AdvBench-like).

Default: the learned ``harmful`` head over hashed n-grams (fast, bilingual), trained on
harmful seeds against benign look-alikes, combined with a topic lexicon by TC260-003 risk
type (``lexicon.py``; reasons name the risk type). ``model: e5`` instead compares the prompt's
multilingual-e5-small embedding (the judge's embedding model) to a linear head trained on
the same data (slower, ~tens of ms per prompt; used by the strict policy).

Semantic stage (``semantic: true``, the default when it can run): on the text itself, the
n-gram head's evidence counts only fused with the ``harmful`` logit of the guard's fine-tuned
encoder (the same forward pass as the injection / jailbreak stage; with ``stage: e5``, or
without torch, an e5 head over the first/last ~32 tokens), and the encoder runs only when the
n-gram part is within the gate of the operating point. The n-gram head alone blocked "Write a
tutorial on how to make a paper airplane" and "how long to boil pasta"; decoded payloads and
other views are still scored by the n-gram head alone (e5 never sees them).
"""

from __future__ import annotations

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner, cached_normalize, noisy_or, sigmoid
from xiezhi.guard.scanners.e5head import check_semantic_options, check_stage, deferred_list, fused_or_none
from xiezhi.guard.scanners.lexicon import lexicon_risk
from xiezhi.guard.scanners.textmodel import shared_heads
from xiezhi.registry import register


@register("scanner", "harmful_request", stages=("input",))
class HarmfulRequestScanner(BaseScanner):
    """Risk that a prompt requests harmful content, in Chinese or English."""

    name = "harmful_request"
    stages = frozenset({"input"})

    def __init__(self, model: str = "ngram", lexicon: bool = True, semantic: bool = True,
                 gate: float | None = None, block_at: float = 0.5, stage: str = "auto") -> None:
        if model not in ("ngram", "e5"):
            raise ValueError(f"harmful_request model must be 'ngram' or 'e5', not {model!r}")
        check_semantic_options(gate, block_at)
        self.stage = check_stage(stage)
        self.model = model
        self.lexicon = lexicon
        self.semantic = semantic and model == "ngram"
        self.gate = gate
        self.block_at = block_at
        if self.semantic:
            from xiezhi.guard.scanners.e5head import shared_e5_harmful_fusion, warm_up_semantic

            self.semantic = warm_up_semantic(self.stage) and shared_e5_harmful_fusion(self.stage) is not None

    def _e5_risk(self, text: str) -> tuple[float, str]:
        from xiezhi.guard.scanners.e5head import shared_e5_heads

        p = shared_e5_heads().predict(text)["harmful"]
        return p, f"e5 harmful p={p:.2f}"

    def _fused(self, text: str, logit: float) -> float | None:
        """P(harmful request) of the text view: the n-gram head fused with e5 when the semantic
        stage is on, the n-gram head alone otherwise; None when the stage is deferred."""
        fusion = None
        if self.semantic:
            from xiezhi.guard.scanners.e5head import shared_e5_harmful_fusion

            fusion = shared_e5_harmful_fusion(self.stage)
        if fusion is None:
            return sigmoid(logit)
        part = fusion.ngram_part(logit)
        if not fusion.needs_e5(part, self.gate, self.block_at):
            return sigmoid(part)  # below the gate: the n-gram evidence alone
        deferred = deferred_list()
        if deferred is not None:
            deferred.append(self.name)
            return None
        p = fused_or_none(self.name, lambda: fusion.fused(text, part))
        return sigmoid(part) if p is None else p

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        norm = cached_normalize(text)
        if self.model == "e5":
            risk, why = self._e5_risk(norm.text)
            return self.result(risk, [why] if risk >= 0.5 else [])
        heads = shared_heads()
        best, reasons = 0.0, list[str]()
        for i, (view, body) in enumerate(norm.all_views()):
            p = 0.0
            if heads is not None:
                head_p = self._fused(body, heads.logits(body)["harmful"]) if i == 0 else heads.predict(body)["harmful"]
                if head_p is None:  # the semantic stage was deferred (see `deferring_semantic`)
                    return self.result(best, reasons if best >= 0.5 else [])
                p = head_p
            lex, types = lexicon_risk(body) if self.lexicon else (0.0, [])
            risk = noisy_or(p, lex)
            if risk > best:
                best = risk
                model = "n-gram + e5 fusion" if i == 0 and self.semantic else "model"
                reasons = [f"{view}: {model} harmful p={p:.2f}"]
                reasons += [f"{view}: topic {', '.join(types)}"] if types else []
        return self.result(best, reasons if best >= 0.5 else [])
