"""Turn seeds into the deterministic list of attempts a run will make.

The plan depends only on the seeds and the settings, so a resumed run re-plans the
same attempts with the same ids and skips those already stored.
"""

from __future__ import annotations

import importlib
import logging
import random
from collections import defaultdict
from collections.abc import Sequence

from xiezhi.config import Settings
from xiezhi.strategies.base import Mutation
from xiezhi.types import TIERS, Attempt, Message, Seed, Tier, XiezhiError, stable_id

log = logging.getLogger("xiezhi.planning")


def parse_tiers(values: Sequence[str]) -> list[Tier]:
    """``["all"]`` -> every tier; validates names; keeps order, drops repeats."""
    out: list[Tier] = []
    for v in values:
        for part in str(v).split(","):
            p = part.strip().lower()
            if not p:
                continue
            if p == "all":
                out.extend(t for t in TIERS if t not in out)
            elif p in TIERS:
                if p not in out:
                    out.append(p)
            else:
                raise XiezhiError(f"unknown tier {p!r}; tiers are entry, advanced, expert, all")
    return out or ["entry"]


def interleave(seeds: Sequence[Seed], rng_seed: int) -> list[Seed]:
    """Deterministic order that cycles through (language, category) groups.

    A scan with ``--limit 20`` then covers many risk categories and both languages
    instead of the first 20 rows of one file.
    """
    groups: dict[tuple[str, str, bool], list[Seed]] = defaultdict(list)
    for s in seeds:
        groups[(s.lang, s.category, s.benign)].append(s)
    rng = random.Random(rng_seed)
    keys = sorted(groups)
    rng.shuffle(keys)
    for k in keys:
        rng.shuffle(groups[k])
    out: list[Seed] = []
    depth = 0
    while len(out) < len(seeds):
        for k in keys:
            if depth < len(groups[k]):
                out.append(groups[k][depth])
        depth += 1
    return out


def _variants(seed: Seed, tier: Tier, seed_value: int) -> list[Mutation]:
    if tier == "entry":  # the seed as written: complexity measured, similarity 1 by definition
        from xiezhi.complexity import complexity

        return [Mutation(text=seed.text, chain=[], tier="entry", complexity=complexity(seed.text, seed.lang),
                         similarity=1.0)]
    try:
        tiers_mod = importlib.import_module("xiezhi.strategies.tiers")
    except ModuleNotFoundError:
        raise XiezhiError(f"tier {tier!r} needs the mutation engine (xiezhi.strategies.tiers)") from None
    variants: list[Mutation] = tiers_mod.variants_for(seed, tier, seed_value)
    return variants


def conversation_for(prompt: str, system_prompt: str | None) -> list[Message]:
    msgs = [Message(role="system", content=system_prompt)] if system_prompt else []
    msgs.append(Message(role="user", content=prompt))
    return msgs


def plan_attempts(run_id: str, seeds: Sequence[Seed], settings: Settings) -> list[Attempt]:
    """Every attempt of the run, in order, with deterministic ids; `settings.limit` caps it."""
    tiers = parse_tiers(settings.tiers)
    chosen = [s for s in seeds if s.lang in settings.langs and (settings.include_benign or not s.benign)]
    ordered = interleave(chosen, settings.seed)
    planned: list[Attempt] = []
    seen: set[str] = set()
    limit = settings.limit
    for seed in ordered:
        for tier in tiers:
            for m in _variants(seed, tier, settings.seed):
                aid = stable_id(seed.id, tier, "+".join(m.chain), m.text)
                if aid in seen:
                    continue
                seen.add(aid)
                planned.append(
                    Attempt(
                        id=aid,
                        run_id=run_id,
                        index=len(planned),
                        seed=seed,
                        tier=tier,
                        chain=list(m.chain),
                        prompt=m.text,
                        conversation=conversation_for(m.text, settings.system_prompt),
                        complexity=m.complexity,
                        similarity=m.similarity,
                    )
                )
                if limit is not None and len(planned) >= limit:
                    return planned
    return planned
