"""Count seeds by risk type, language, category, form: what `xiezhi seeds stats` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from xiezhi.taxonomy import load_scheme, risk_type_ids
from xiezhi.types import Seed

LANGS = ("zh", "en")


def _grid(seeds: list[Seed], keys: list[str], attr: str) -> dict[str, dict[str, int]]:
    """key -> {lang: count}, every key listed (zeros included), unexpected keys appended."""
    grid: dict[str, dict[str, int]] = {k: dict.fromkeys(LANGS, 0) for k in keys}
    for s in seeds:
        cell = grid.setdefault(getattr(s, attr), dict.fromkeys(LANGS, 0))
        cell[s.lang] = cell.get(s.lang, 0) + 1
    return grid


def seed_stats(seeds: Iterable[Seed]) -> dict[str, Any]:
    """Counts over `seeds`. `by_risk_type` and `by_category` count harmful seeds only and list
    every TC260 id (zero counts included); benign look-alikes are counted under `benign`."""
    items = list(seeds)
    harmful = [s for s in items if not s.benign]
    benign = [s for s in items if s.benign]

    def per_lang(group: Iterable[Seed]) -> dict[str, int]:
        c = Counter(s.lang for s in group)
        return {lang: c.get(lang, 0) for lang in LANGS} | {k: v for k, v in c.items() if k not in LANGS}

    rts = risk_type_ids()
    cats = [c.id for c in load_scheme("tc260").categories]
    by_rt = _grid(harmful, rts, "risk_type")
    benign_rt = _grid(benign, rts, "risk_type")
    by_cat = _grid(harmful, cats, "category")
    return {
        "total": len(items),
        "harmful": per_lang(harmful),
        "benign": per_lang(benign),
        "by_lang": per_lang(items),
        "by_scheme": dict(sorted(Counter(s.scheme for s in items).items())),
        "by_category": by_cat,
        "by_risk_type": by_rt,
        "benign_by_risk_type": benign_rt,
        "by_form": dict(sorted(Counter(s.form for s in items).items())),
        "by_source": dict(sorted(Counter(s.source for s in items).items())),
        "factual": sum(1 for s in items if s.reference),
    }
