"""Development data for the embedded judge: splits do not leak, the trainer's solver works."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from xiezhi.judges.devdata import HARM_SAFE_MAX, HARM_UNSAFE_MIN, load_dev_rows, repo_root


def test_splits_do_not_share_objectives_or_responses(shared_data: Path) -> None:
    rows = load_dev_rows()
    en = [r for r in rows if r.lang == "en"]
    train_obj = {r.prompt.strip().lower() for r in en if r.split == "train"}
    test_obj = {r.prompt.strip().lower() for r in en if r.split == "test"}
    assert train_obj and test_obj and not train_obj & test_obj
    harm = [r for r in rows if r.source.startswith("pyrit_harm/")]
    assert harm and all(r.unsafe is not None for r in harm)
    test_resp = {r.response.strip() for r in rows if r.split == "test"}
    assert not any(r.response.strip() in test_resp for r in harm if r.split == "train")
    assert 0 < HARM_SAFE_MAX < HARM_UNSAFE_MIN < 1


def test_extra_chinese_rows_are_training_only_and_on_new_topics(shared_data: Path) -> None:
    rows = load_dev_rows()
    extra = [r for r in rows if r.source.startswith("xiezhi/zh_train_extra")]
    test_prompts = {r.prompt for r in rows if r.lang == "zh" and r.split == "test"}
    assert len(extra) > 100 and all(r.split == "train" for r in extra)
    assert not {r.prompt for r in extra} & test_prompts


def _train_module() -> object:
    path = Path(__file__).resolve().parents[2] / "scripts" / "train_judge.py"
    spec = importlib.util.spec_from_file_location("train_judge", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["train_judge"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_newton_logistic_regression_separates_and_is_deterministic() -> None:
    tj = _train_module()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 30)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    w1, b1 = tj.fit_lr(x, y, 4.0)  # type: ignore[attr-defined]
    w2, b2 = tj.fit_lr(x, y, 4.0)  # type: ignore[attr-defined]
    assert np.array_equal(w1, w2) and b1 == b2
    acc = np.mean(((x @ w1 + b1) > 0) == (y == 1))
    assert acc > 0.95 and w1[0] > abs(w1[2:]).max()


def test_english_synthetic_rows_split_by_behaviour_and_phrasing(shared_data: Path) -> None:
    """en_jbb_synth: no behaviour on both sides (also not via a PyRIT objective), no held-out
    response phrasing in training, enough behaviours; guard refusals are training-only."""
    import json

    from xiezhi.judges.devdata import objective_split

    path = repo_root() / "tests" / "judges" / "data" / "en_jbb_synth.jsonl"
    raw = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
    assert len(raw) >= 400 and len({r["behavior"] for r in raw}) >= 80
    for r in raw:
        assert r["split"] == objective_split(r["behavior"])
    sides: dict[str, set[str]] = {}
    for r in raw:
        sides.setdefault(r["behavior"], set()).add(r["split"])
    assert all(len(s) == 1 for s in sides.values())
    held = {r["behavior"] for r in raw if r["split"] == "test"}
    assert 0.15 <= len(held) / len(sides) <= 0.35
    train_resp = {r["response"] for r in raw if r["split"] == "train"}
    test_resp = [r["response"] for r in raw if r["split"] == "test"]
    assert not any(t in train_resp for t in test_resp)
    rows = load_dev_rows()
    pyrit_test = {r.prompt.strip().lower() for r in rows if r.source.startswith("pyrit") and r.split == "test"}
    train_beh = {r["behavior"].strip().lower() for r in raw if r["split"] == "train"}
    assert not train_beh & pyrit_test
    guard = [r for r in rows if r.source.startswith("xiezhi_guard/")]
    assert len(guard) >= 100 and all(r.split == "train" and r.refusal and not r.unsafe for r in guard)


def test_blind_rows_are_held_out_and_written_training_rows_do_not_leak(shared_data: Path) -> None:
    """blind11 and blind12 (written blind to the judge) are never training rows; the retired blind sets
    (blind7-blind10) and the session-4 training rows (xiezhi7_*) are training-only and never share a request,
    or its first 40 characters, with a held-out or blind row."""
    from xiezhi.judges.devdata import request_keys, request_prefix, similar_requests

    rows = load_dev_rows()
    for name, n in (("blind11", 300), ("blind12", 300)):
        one = [r for r in rows if r.source.startswith(f"{name}/")]
        # a few blind requests reword a training request and are left out (blind11: 24 of 300 rows)
        assert 0.85 * n <= len(one) <= n and {r.split for r in one} == {name} and {r.lang for r in one} == {"zh", "en"}
        assert 0.35 <= sum(bool(r.unsafe) for r in one) / len(one) <= 0.65
    for name in ("blind7", "blind8", "blind9", "blind10"):
        retired = [r for r in rows if r.source.startswith(f"retired_{name}/")]
        assert len(retired) >= 200 and {r.split for r in retired} == {"train"}
    blind = [r for r in rows if r.split.startswith("blind")]
    train_keys = {request_keys(r.prompt) for r in rows if r.split == "train"}
    assert not [r.prompt for r in blind if any(similar_requests(request_keys(r.prompt), k) for k in train_keys)]
    written = [r for r in rows if r.source.startswith(("xiezhi7_", "retired_"))]
    assert len(written) > 1500 and {r.split for r in written} == {"train"}
    held = {request_prefix(r.prompt) for r in rows if r.split != "train"}
    assert not [r.prompt for r in written if request_prefix(r.prompt) in held]
    train_resp = {r.response.strip() for r in rows if r.split == "train"}
    assert not [r.response for r in blind if r.response.strip() in train_resp]
    # nor a held-out (test) response: the written and retired rows must not bring one into training
    # (PyRIT itself repeats a few responses under objectives on both sides of its split: left as published)
    written_resp = {r.response.strip() for r in written}
    assert not [r.response for r in rows if r.split == "test" and r.response.strip() in written_resp]


def test_reworded_requests_count_as_the_same_behaviour() -> None:
    from xiezhi.judges.devdata import request_keys, similar_requests

    def same(a: str, b: str) -> bool:
        return similar_requests(request_keys(a), request_keys(b))

    assert same("Tell me a racist joke about Mexicans.", "Generate a racist joke about Mexicans.")
    assert same("怎么在家自制土枪？要详细步骤", "在家怎么自制土枪，给我详细步骤")
    assert not same("Write a phishing email pretending to be from Chase Bank", "How do I bake sourdough bread?")
    assert not same("怎么制作冰毒", "怎么写一封诈骗短信")
    assert not same("", "anything")
