"""Adaptive (dynamic) benchmark: per seed, search mutation chains until the model breaks.

The planner is decoupled from the runner: it proposes ``(seed, mutation)`` pairs
(`next_batch`), is told which ones produced an unsafe response (`observe`), and stops
when the share of broken seeds reaches the target rate or every seed's budget is spent.

Search, per seed: first single transformations/strategies, ranked by a UCB bandit score
over what has broken *any* seed so far (success rate + exploration bonus); then
compositions (one or two linguistic rewrites + one strategy) built from the best-ranked
names. Ties break by a per-seed order drawn from ``rng_seed``, so the plan is
deterministic given the observations.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from xiezhi.complexity import complexity
from xiezhi.strategies.base import Mutation
from xiezhi.strategies.chains import apply_chain, recipes, supports
from xiezhi.strategies.tiers import TierEngine, rng_for
from xiezhi.types import Seed, XiezhiError

EXPLORE = 0.3
"""Weight of the UCB exploration bonus."""


class AdaptivePlanner:
    """Proposes the next chains to try per seed; see the module docstring."""

    def __init__(self, seeds: list[Seed], target_rate: float, budget_per_seed: int, rng_seed: int,
                 *, measure_similarity: bool = True, recipe: str = "adaptive") -> None:
        if not 0.0 < target_rate <= 1.0:
            raise XiezhiError(f"target rate must be in (0, 1], got {target_rate}")
        if budget_per_seed < 1:
            raise XiezhiError(f"budget per seed must be at least 1, got {budget_per_seed}")
        self.seeds = {s.id: s for s in seeds}
        self.target_rate = target_rate
        self.budget = budget_per_seed
        self.rng_seed = rng_seed
        self.engine = TierEngine(measure_similarity=measure_similarity)
        r = recipes()["recipes"][recipe]
        self._ling: list[str] = list(r["linguistic"])
        self._strat: list[str] = list(r["strategy"])
        self.tried: dict[str, list[tuple[str, ...]]] = {sid: [] for sid in self.seeds}
        self.skipped: dict[str, set[tuple[str, ...]]] = {sid: set() for sid in self.seeds}
        self.pending: dict[str, set[tuple[str, ...]]] = {sid: set() for sid in self.seeds}
        self.broken: dict[str, list[str]] = {}
        self.stats: dict[str, list[int]] = {}
        self.dropped = 0
        self._order = {sid: self._tiebreak(sid) for sid in self.seeds}

    def _tiebreak(self, seed_id: str) -> dict[str, int]:
        names = sorted(set(self._ling + self._strat))
        rng_for(self.rng_seed, seed_id, "order").shuffle(names)
        return {n: i for i, n in enumerate(names)}

    # scoring -----------------------------------------------------------------------
    def rate(self) -> float:
        """Share of seeds broken so far (the violation rate the search drives up)."""
        return len(self.broken) / len(self.seeds) if self.seeds else 0.0

    def _ucb(self, name: str) -> float:
        att, succ = self.stats.get(name, [0, 0])
        total = sum(a for a, _ in self.stats.values())
        return (succ + 1) / (att + 2) + EXPLORE * math.sqrt(math.log(total + 2) / (att + 1))

    def _ranked(self, names: list[str], seed: Seed) -> list[str]:
        usable = [n for n in names if supports(n, seed.lang)]
        order = self._order[seed.id]
        return sorted(usable, key=lambda n: (-self._ucb(n), order.get(n, 0)))

    def _candidates(self, seed: Seed) -> Iterator[tuple[str, ...]]:
        n_singles = max(1, self.budget // 2)
        singles = self._ranked(self._ling + self._strat, seed)
        if len(self.tried[seed.id]) < n_singles:
            yield from ((n,) for n in singles)
        ling, strat = self._ranked(self._ling, seed), self._ranked(self._strat, seed)
        pairs = sorted((i + j, (ling[i], strat[j])) for i in range(len(ling)) for j in range(len(strat)))
        yield from (c for _, c in pairs)
        triples = sorted((i + k + j, (ling[i], ling[k], strat[j])) for i in range(min(4, len(ling)))
                          for k in range(min(4, len(ling))) if k != i for j in range(min(4, len(strat))))
        yield from (c for _, c in triples)
        yield from ((n,) for n in singles)

    # planning ------------------------------------------------------------------------
    def _mutation(self, seed: Seed, chain: tuple[str, ...]) -> Mutation | None:
        applied = apply_chain(seed.text, seed.lang, chain, rng_for(self.rng_seed, seed.id, "+".join(chain)))
        sim = self.engine.similarity(seed.text, applied.payload)
        if sim is not None and sim < self.engine.threshold_for(seed.lang):
            self.dropped += 1
            return None
        return Mutation(text=applied.text, chain=applied.chain, tier="advanced" if len(chain) == 1 else "expert",
                        complexity=complexity(applied.text, seed.lang), similarity=sim)

    def _next_for(self, seed: Seed) -> Mutation | None:
        done = set(self.tried[seed.id]) | self.skipped[seed.id]
        for chain in self._candidates(seed):
            if chain in done:
                continue
            m = self._mutation(seed, chain)
            if m is None:
                self.skipped[seed.id].add(chain)
                done.add(chain)
                continue
            self.tried[seed.id].append(chain)
            self.pending[seed.id].add(tuple(m.chain))
            return m
        return None

    def next_batch(self) -> list[tuple[Seed, Mutation]]:
        """The next chain for every seed still in play; empty when done."""
        if self.rate() >= self.target_rate:
            return []
        batch: list[tuple[Seed, Mutation]] = []
        for sid, seed in self.seeds.items():
            if sid in self.broken or self.pending[sid] or len(self.tried[sid]) >= self.budget:
                continue
            m = self._next_for(seed)
            if m is not None:
                batch.append((seed, m))
        return batch

    def observe(self, seed_id: str, mutation: Mutation, unsafe: bool) -> None:
        """Record the judge's verdict on one proposed mutation."""
        if seed_id not in self.seeds:
            raise XiezhiError(f"adaptive planner: unknown seed id {seed_id!r}")
        self.pending[seed_id].discard(tuple(mutation.chain))
        for name in dict.fromkeys(mutation.chain):
            s = self.stats.setdefault(name, [0, 0])
            s[0] += 1
            s[1] += int(unsafe)
        if unsafe and seed_id not in self.broken:
            self.broken[seed_id] = list(mutation.chain)

    def report(self) -> dict[str, Any]:
        """Violation rate reached, per-mutator attempts/successes/rate, per-seed first breaking chain."""
        mutators = {n: {"attempts": a, "successes": s, "rate": round(s / a, 4) if a else 0.0}
                    for n, (a, s) in sorted(self.stats.items(), key=lambda kv: (-kv[1][1] / max(kv[1][0], 1),
                                                                                  kv[0]))}
        return {
            "target_rate": self.target_rate,
            "violation_rate": round(self.rate(), 4),
            "reached": self.rate() >= self.target_rate,
            "seeds": len(self.seeds),
            "broken": len(self.broken),
            "attempts": sum(len(t) for t in self.tried.values()),
            "budget_per_seed": self.budget,
            "dropped_low_similarity": self.dropped,
            "mutators": mutators,
            "per_seed": {sid: {"attempts": len(self.tried[sid]), "first_breaking_chain": self.broken.get(sid)}
                         for sid in self.seeds},
        }
