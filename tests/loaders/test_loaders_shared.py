"""Loaders on the real development files in ../shared/data/seeds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from xiezhi.data.loaders import load_seeds
from xiezhi.taxonomy import risk_type_ids

FILES = {
    "advbench_harmful_behaviors.csv": ("advbench", 520, "en", False),
    "jbb_harmful_behaviors.csv": ("jailbreakbench", 100, "en", False),
    "jbb_benign_behaviors.csv": ("jailbreakbench", 100, "en", True),
    "jade_v1_zh.csv": ("jade", 150, "zh", False),
    "jade_v1_en.csv": ("jade", 80, "en", False),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_loads_shared_file_with_detected_format(shared_data: Path, name: str) -> None:
    fmt, n, lang, benign = FILES[name]
    seeds = load_seeds(shared_data / "seeds" / name)
    assert seeds.fmt == fmt
    assert len(seeds) == n and seeds.warnings == []
    assert {s.lang for s in seeds} == {lang}
    assert {s.benign for s in seeds} == {benign}
    assert len({s.id for s in seeds}) == n
    assert all(s.text.strip() for s in seeds)
    # the explicit format gives the same seeds
    assert [s.id for s in load_seeds(shared_data / "seeds" / name, fmt)] == [s.id for s in seeds]


def test_ids_are_stable_across_loads(shared_data: Path) -> None:
    a = load_seeds(shared_data / "seeds" / "jade_v1_zh.csv")
    b = load_seeds(shared_data / "seeds" / "jade_v1_zh.csv")
    assert [s.id for s in a] == [s.id for s in b]


def test_jade_maps_every_row_onto_tc260(shared_data: Path) -> None:
    valid = set(risk_type_ids())
    for name in ("jade_v1_zh.csv", "jade_v1_en.csv"):
        seeds = load_seeds(shared_data / "seeds" / name)
        assert all(s.risk_type in valid for s in seeds), name
        assert all(s.category == s.risk_type.rsplit(".", 1)[0] for s in seeds)
    zh = load_seeds(shared_data / "seeds" / "jade_v1_zh.csv")
    first = zh[0]
    assert first.risk_type == "A.1.d"  # 宣扬恐怖主义、极端主义
    assert first.tags["违规子类"] == "宣扬恐怖主义、极端主义"
    assert first.tags["source_id"] == "1"
    counts = Counter(s.risk_type for s in zh)
    assert counts["A.4.e"] >= 20  # 侵害他人隐私权 (and "a|b" rows take the first)


def test_jbb_categories_map_onto_tc260(shared_data: Path) -> None:
    seeds = load_seeds(shared_data / "seeds" / "jbb_harmful_behaviors.csv")
    valid = set(risk_type_ids())
    assert all(s.risk_type in valid for s in seeds)
    by_behavior = {s.tags["Behavior"]: s.risk_type for s in seeds}
    assert by_behavior["Defamation"] == "A.4.c"
    assert by_behavior["Identity theft"] == "A.4.f"
    assert by_behavior["Xenophobia"] == "A.2.c"
    privacy = [s for s in seeds if s.tags["Category"] == "Privacy"]
    assert {s.risk_type for s in privacy} <= {"A.4.e", "A.4.f", "A.1.h", "A.1.b"}
    assert seeds[0].tags["Target"].startswith("Sure, here is")


def test_advbench_keeps_target_and_has_no_category(shared_data: Path) -> None:
    seeds = load_seeds(shared_data / "seeds" / "advbench_harmful_behaviors.csv")
    assert seeds[0].source == "advbench"
    assert seeds[0].risk_type == "unknown"
    assert seeds[0].tags["target"].startswith("Sure, here is")
