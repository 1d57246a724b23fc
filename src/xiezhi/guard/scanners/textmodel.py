"""A tiny bilingual text classifier: hashed character n-grams and linear heads, numpy only.

Why not the e5 embeddings? Embedding a 512-token prompt with multilingual-e5-small takes
tens of milliseconds on a CPU core; the input guard's budget is ~10 ms. Character 1-4 grams
of the normalised, lower-cased text work for Chinese (no word segmentation needed) and
English alike, and hashing them costs a few vectorised numpy operations.

The weights (``weights/guard_heads.npz``) are trained by ``scripts/train_guard.py``; each
head is a logistic regression over the L2-normalised hashed n-gram counts.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

WEIGHTS = Path(__file__).resolve().parent / "weights" / "guard_heads.npz"
DIM_BITS = 17
NGRAMS = (1, 2, 3, 4)
MAX_CHARS = 4000
_MULT = 0x100000001B3
_SALTS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD)


def hashed_ngrams(text: str, dim_bits: int = DIM_BITS) -> NDArray[np.int64]:
    """Bucket ids of the character n-grams of `text` (lower-cased, whitespace squeezed)."""
    import numpy as np

    t = " ".join(text.lower().split())[:MAX_CHARS]
    t = f" {t} "
    cps = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    shift = np.uint64(64 - dim_bits)
    out: list[NDArray[np.uint64]] = []
    with np.errstate(over="ignore"):
        h = np.zeros_like(cps)
        for n in range(1, max(NGRAMS) + 1):
            if n > len(cps):
                break
            h = h[: len(cps) - n + 1] * np.uint64(_MULT) + cps[n - 1 :]
            if n in NGRAMS:
                out.append(((h ^ np.uint64(_SALTS[n])) * np.uint64(_SALTS[0])) >> shift)
    if not out:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(out).astype(np.int64)


def features(text: str, dim_bits: int = DIM_BITS) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Sparse L2-normalised count vector: (bucket ids, values)."""
    import numpy as np

    ids, counts = np.unique(hashed_ngrams(text, dim_bits), return_counts=True)
    vals = counts.astype(np.float64)
    norm = float(np.sqrt((vals * vals).sum())) or 1.0
    return ids, vals / norm


class TextHeads:
    """Linear heads over hashed n-grams; `predict(text)` -> {head: probability}."""

    def __init__(self, weights: Any, bias: Any, heads: list[str], dim_bits: int) -> None:
        self.weights = weights  # (n_heads, 2**dim_bits) float32
        self.bias = bias
        self.heads = heads
        self.dim_bits = dim_bits

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> TextHeads:
        import numpy as np

        with np.load(path, allow_pickle=False) as z:
            w = z["weights"].astype(np.float32)
            b = z["bias"].astype(np.float64)
            heads = [str(h) for h in z["heads"]]
            dim_bits = int(z["dim_bits"])
        return cls(w, b, heads, dim_bits)

    def logits(self, text: str) -> dict[str, float]:
        """Per-head logit (0 at the head's operating point); a long text is scored in
        overlapping windows (worst window wins)."""
        return dict(_logits(self, text))

    def predict(self, text: str) -> dict[str, float]:
        """Per-head probability (the sigmoid of `logits`)."""
        from xiezhi.guard.scanners.common import sigmoid

        return {h: sigmoid(z) for h, z in self.logits(text).items()}


@functools.lru_cache(maxsize=256)
def _logits(heads: TextHeads, text: str) -> dict[str, float]:
    """Memoised per text: a prompt is scored by the injection, jailbreak and harmful-request
    scanners and by the semantic stage, each of which asks for the same n-gram logits."""
    import numpy as np

    step = MAX_CHARS * 3 // 4
    starts = range(0, max(1, len(text) - MAX_CHARS // 4), step) if len(text) > MAX_CHARS else [0]
    best = np.full(len(heads.heads), -np.inf)
    for start in starts:
        ids, vals = features(text[start : start + MAX_CHARS], heads.dim_bits)
        best = np.maximum(best, heads.weights[:, ids].astype(np.float64) @ vals + heads.bias)
    return {h: float(z) for h, z in zip(heads.heads, best, strict=True)}


@functools.lru_cache(maxsize=2)
def shared_heads(path: str = str(WEIGHTS)) -> TextHeads | None:
    """The process-wide read-only heads (None when the weights file is missing)."""
    p = Path(path)
    if not p.exists():
        return None
    return TextHeads.load(p)
