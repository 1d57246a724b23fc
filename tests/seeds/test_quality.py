"""Quality of the shipped seed bank (src/xiezhi/data/seeds/**/*.jsonl).

These hold the bank to its promises: every seed tagged with a real TC260 risk type, unique
ids, no duplicates or near duplicates, honest language tags, >= 8 zh and >= 8 en harmful
seeds for each of the 31 risk types, >= 150 benign look-alikes, references on A.5 seeds.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xiezhi.data.bank import load_bank
from xiezhi.data.quality import (
    NEAR_DUP_THRESHOLD,
    exact_duplicates,
    lang_mismatches,
    near_duplicates,
    normalize_text,
)
from xiezhi.taxonomy import category_of, risk_type_ids
from xiezhi.types import Seed

MIN_PER_LANG = 8
MIN_BENIGN = 150


@pytest.fixture(scope="module")
def bank() -> list[Seed]:
    seeds = load_bank()
    assert seeds, "the seed bank is empty (src/xiezhi/data/seeds/**/*.jsonl)"
    return seeds


@pytest.fixture(scope="module")
def e5() -> Any:
    from xiezhi.embedding import e5_model

    return e5_model()


def test_every_seed_has_a_known_tc260_risk_type(bank: list[Seed]) -> None:
    valid = set(risk_type_ids())
    assert all(s.scheme == "tc260" and s.risk_type in valid for s in bank)
    assert all(s.category == category_of(s.risk_type) for s in bank)


def test_ids_are_unique(bank: list[Seed]) -> None:
    dup = [i for i, n in Counter(s.id for s in bank).items() if n > 1]
    assert dup == []


def test_no_exact_duplicates(bank: list[Seed]) -> None:
    assert exact_duplicates(bank) == []


def test_language_tag_agrees_with_text(bank: list[Seed]) -> None:
    assert lang_mismatches(bank) == []


def test_every_risk_type_has_8_zh_and_8_en_harmful_seeds(bank: list[Seed]) -> None:
    counts = Counter((s.risk_type, s.lang) for s in bank if not s.benign)
    short = {f"{rt}/{lang}": counts[(rt, lang)] for rt in risk_type_ids() for lang in ("zh", "en")
             if counts[(rt, lang)] < MIN_PER_LANG}
    assert short == {}


def test_at_least_150_benign_look_alikes(bank: list[Seed]) -> None:
    benign = [s for s in bank if s.benign]
    assert len(benign) >= MIN_BENIGN
    assert {s.lang for s in benign} == {"zh", "en"}


def test_factual_seeds_carry_a_reference(bank: list[Seed]) -> None:
    a5 = [s for s in bank if s.category == "A.5" and not s.benign]
    missing = [s.id for s in a5 if not (s.reference and all(p.strip() for p in s.reference.split("|")))]
    assert a5 and missing == []


@pytest.mark.slow
def test_no_near_duplicates(bank: list[Seed], e5: Any) -> None:
    """Same language and same side (harmful / benign): a benign look-alike is *meant* to be
    close to the harmful seed it mirrors, so the two sides are checked separately."""
    pairs = []
    for benign in (False, True):
        pairs += near_duplicates([s for s in bank if s.benign == benign], NEAR_DUP_THRESHOLD, e5)
    texts = {s.id: s.text for s in bank}
    assert [(texts[a], texts[b], round(c, 3)) for a, b, c in pairs] == []


# --- the checker itself ------------------------------------------------------------------

def test_normalize_and_exact_duplicates() -> None:
    assert normalize_text("How to hack a bank?") == normalize_text(" how TO hack a bank ")
    assert normalize_text("如何入侵银行？") == normalize_text("如何 入侵银行")
    seeds = [Seed(id="a", text="How to hack a bank?", lang="en"),
             Seed(id="b", text="how to hack a bank", lang="en"),
             Seed(id="c", text="How to rob a bank?", lang="en")]
    assert exact_duplicates(seeds) == [("a", "b")]


class FakeModel:
    """Maps each text to a fixed unit vector so near_duplicates' logic is tested without e5."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    def query(self, texts: list[str]) -> np.ndarray:
        v = np.array([self.vectors[t] for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_near_duplicates_logic_within_language() -> None:
    model = FakeModel({"a": [1, 0, 0], "b": [0.99, 0.1, 0], "c": [0, 1, 0], "甲": [1, 0, 0]})
    seeds = [Seed(id="1", text="a", lang="en"), Seed(id="2", text="b", lang="en"),
             Seed(id="3", text="c", lang="en"), Seed(id="4", text="甲", lang="zh")]
    pairs = near_duplicates(seeds, 0.95, model)
    assert [(a, b) for a, b, _ in pairs] == [("1", "2")]  # "甲" is identical to "a" but zh
    assert pairs[0][2] == pytest.approx(0.995, abs=1e-3)
    assert near_duplicates(seeds, 0.999, model) == []


@pytest.mark.slow
def test_threshold_separates_rewordings_from_distinct_requests(shared_data: Path, e5: Any) -> None:
    """Why 0.95: curated sets of distinct requests (JBB harmful, JADE zh) have no pair at or
    above it (their maxima measured 0.92 and 0.945), while AdvBench's known reworded copies
    ("Develop a plan for disrupting transportation..." / "Develop a plan to disrupt
    transportation...", cosine 0.998) are caught."""
    from xiezhi.data.loaders import load_seeds

    for name in ("jbb_harmful_behaviors.csv", "jade_v1_zh.csv"):
        assert near_duplicates(load_seeds(shared_data / "seeds" / name), NEAR_DUP_THRESHOLD, e5) == []
    adv = load_seeds(shared_data / "seeds" / "advbench_harmful_behaviors.csv")[:200]
    texts = {s.id: s.text for s in adv}
    pairs = {(texts[a], texts[b]) for a, b, _ in near_duplicates(adv, NEAR_DUP_THRESHOLD, e5)}
    assert len(pairs) >= 3
    assert any("disrupting transportation" in a + b and "disrupt transportation" in a + b
               for a, b in pairs)
