"""Difficulty tiers as recipes (JADE-style): entry, advanced, expert.

``variants_for(seed, tier, seed_value, n)`` is what the runner calls. Everything is
deterministic: each candidate chain draws from a ``random.Random`` seeded by
(seed_value, seed id, tier, variant index, retry). A variant whose intent similarity to
the seed falls below the per-language threshold (``tiers.yaml``: calibrated as the 99th
percentile of the similarity between unrelated harmful seeds) is dropped, counted, and a
different chain is tried; the counts are in ``TierEngine.stats`` (``drop_stats()`` for
the default engine).
"""

from __future__ import annotations

import random
from collections import Counter
from functools import lru_cache
from typing import Any, ClassVar

from xiezhi.complexity import complexity, method
from xiezhi.registry import register
from xiezhi.strategies.base import Mutation
from xiezhi.strategies.chains import Applied, apply_chain, recipes, supports
from xiezhi.strategies.similarity import IntentScorer
from xiezhi.types import Seed, Tier, XiezhiError, stable_id


def rng_for(*parts: object) -> random.Random:
    """A `random.Random` seeded from `parts` (stable across processes)."""
    return random.Random(int(stable_id(*parts), 16))


def _usable(names: list[str], lang: str) -> list[str]:
    return [n for n in names if supports(n, lang)]


def advanced_chain(lang: str, rng: random.Random, recipe: str = "jade-advanced") -> list[str]:
    """One transformation or strategy from the advanced pool."""
    return [rng.choice(_usable(recipes()["recipes"][recipe]["pool"], lang))]


def min_complexity(recipe: dict[str, Any], lang: str) -> float:
    """The recipe's complexity threshold for `lang` as measured now (``"en/rules"`` for the fallback)."""
    table: dict[str, Any] = recipe["min_complexity"]
    for key in (f"{lang}/{method(lang)}", lang, "en"):
        if key in table:
            return float(table[key])
    raise XiezhiError("tier recipe: min_complexity has no entry for en")


def expert_apply(text: str, lang: str, rng: random.Random, recipe: str = "jade-expert") -> Applied:
    """Structural rewrite, then embeddings until the complexity threshold, then a strategy."""
    r: dict[str, Any] = recipes()["recipes"][recipe]
    chain = [rng.choice(_usable(r["structural"], lang))]
    embeds = _usable(r["embedding"], lang)
    rng.shuffle(embeds)
    threshold = min_complexity(r, lang)
    chain.append(embeds[0])
    k = 1
    while complexity(apply_chain(text, lang, chain, random.Random(0)).text, lang) < threshold and \
            k < min(int(r["max_embeddings"]), len(embeds)):
        chain.append(embeds[k])
        k += 1
    chain.append(rng.choice(_usable(r["strategy"], lang)))
    return apply_chain(text, lang, chain, rng)


class TierEngine:
    """Builds tier variants; owns the similarity scorer and the drop counters."""

    def __init__(self, measure_similarity: bool = True, threshold: float | None = None,
                 max_retries: int | None = None) -> None:
        cfg = recipes()["similarity"]
        self.thresholds = similarity_thresholds() if threshold is None else \
            dict.fromkeys(("zh", "en"), float(threshold))
        self.max_retries = int(cfg["max_retries"] if max_retries is None else max_retries)
        self.scorer: IntentScorer | None = IntentScorer() if measure_similarity else None
        self.stats: Counter[str] = Counter()

    def threshold_for(self, lang: str) -> float:
        """The intent-similarity threshold for `lang` (English's for a language not listed)."""
        return self.thresholds.get(lang, self.thresholds["en"])

    def similarity(self, seed_text: str, payload: str) -> float | None:
        if self.scorer is None:
            return None
        if payload == seed_text:
            return 1.0
        return self.scorer.similarity(seed_text, [payload])[0]

    def build(self, text: str, lang: str, tier: Tier, rng: random.Random,
              chain: list[str] | None = None) -> Applied:
        """One candidate for `tier` (or the fixed `chain` when given)."""
        if chain is not None:
            return apply_chain(text, lang, chain, rng)
        if tier == "entry":
            return Applied(text, [], text)
        if tier == "advanced":
            return apply_chain(text, lang, advanced_chain(lang, rng), rng)
        if tier == "expert":
            return expert_apply(text, lang, rng)
        raise XiezhiError(f"unknown tier {tier!r}; tiers are entry, advanced, expert")

    def variants(self, seed: Seed, tier: Tier, seed_value: int, n: int = 1,
                 chain: list[str] | None = None) -> list[Mutation]:
        """Up to `n` intent-preserving variants of `seed` at `tier` (fewer if all retries drop)."""
        out: list[Mutation] = []
        tries = 1 if (tier == "entry" or chain is not None) else self.max_retries
        for i in range(n):
            for k in range(tries):
                applied = self.build(seed.text, seed.lang, tier, rng_for(seed_value, seed.id, tier, i, k), chain)
                sim = self.similarity(seed.text, applied.payload)
                self.stats["candidates"] += 1
                if sim is not None and sim < self.threshold_for(seed.lang):
                    self.stats["dropped"] += 1
                    self.stats[f"dropped:{tier}"] += 1
                    continue
                out.append(Mutation(text=applied.text, chain=applied.chain, tier=tier,
                                    complexity=complexity(applied.text, seed.lang), similarity=sim))
                break
            else:
                self.stats["exhausted"] += 1
        self.stats["variants"] += len(out)
        return out


def similarity_thresholds() -> dict[str, float]:
    """Per-language intent-similarity thresholds from ``tiers.yaml`` (a bare number: both)."""
    raw = recipes()["similarity"]["threshold"]
    if isinstance(raw, dict):
        out = {str(k): float(v) for k, v in raw.items()}
        out.setdefault("en", max(out.values()))
        return out
    return dict.fromkeys(("zh", "en"), float(raw))


@lru_cache(maxsize=1)
def default_engine() -> TierEngine:
    """The process-wide engine used by `variants_for` (holds the e5 model once loaded)."""
    return TierEngine()


def variants_for(seed: Seed, tier: Tier, seed_value: int, n: int = 1) -> list[Mutation]:
    """Deterministic variants of `seed` at `tier`, with complexity and similarity recorded."""
    return default_engine().variants(seed, tier, seed_value, n)


def drop_stats() -> dict[str, int]:
    """How many candidates the default engine dropped for low similarity (and per tier)."""
    return dict(default_engine().stats)


class TierStrategy:
    """A registered tier recipe: ``apply(text, lang, rng) -> Mutation`` (similarity not measured)."""

    name: ClassVar[str] = "jade"
    tier: ClassVar[Tier] = "entry"

    def apply(self, text: str, lang: str, rng: random.Random) -> Mutation:
        applied = TierEngine(measure_similarity=False).build(text, lang, self.tier, rng)
        return Mutation(text=applied.text, chain=applied.chain, tier=self.tier,
                        complexity=complexity(applied.text, lang))


@register("strategy", "jade-entry", tier="entry")
class JadeEntry(TierStrategy):
    """Entry tier: the seed as written."""

    name = "jade-entry"
    tier = "entry"


@register("strategy", "jade-advanced", tier="advanced")
class JadeAdvanced(TierStrategy):
    """Advanced tier: one linguistic transformation or one jailbreak strategy."""

    name = "jade-advanced"
    tier = "advanced"


@register("strategy", "jade-expert", tier="expert")
class JadeExpert(TierStrategy):
    """Expert tier: composed linguistic chain above a complexity threshold, plus a strategy."""

    name = "jade-expert"
    tier = "expert"
