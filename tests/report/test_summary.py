"""`summarize`: the headline rates exclude benign seeds and errors; breakdowns count right."""

from __future__ import annotations

import json

import pytest

from tests.report.factory import attempt, run, sample_attempts
from xiezhi.report.summary import summarize
from xiezhi.types import XiezhiError

REQUIRED = {"run_id", "target", "judge", "created_at", "status", "n_planned", "n_attempts", "n_errors", "n_unsafe",
            "violation_rate", "n_benign", "over_refusal_rate", "n_uncertain", "by_category", "by_risk_type",
            "by_lang", "by_tier", "by_chain_step", "examples"}


def test_headline_rates_exclude_benign_and_errors() -> None:
    s = summarize(run(), sample_attempts())
    assert set(s) >= REQUIRED
    assert s["n_attempts"] == 9
    assert s["n_errors"] == 2
    assert s["n_harmful"] == 4
    assert s["n_unsafe"] == 2
    assert s["violation_rate"] == pytest.approx(0.5)  # 2 unsafe / 4 judged harmful
    assert s["n_benign"] == 3
    assert s["over_refusal_rate"] == pytest.approx(1 / 3)  # 1 refusal among 3 judged benign
    assert s["n_uncertain"] == 1
    json.dumps(s)  # JSON-serialisable


def test_empty_run_has_zero_rates() -> None:
    s = summarize(run(), [])
    assert s["violation_rate"] == 0.0 and s["over_refusal_rate"] == 0.0 and s["n_attempts"] == 0


def test_by_tier_lang_category() -> None:
    s = summarize(run(), sample_attempts())
    assert list(s["by_tier"]) == ["entry", "advanced"]  # TIERS order, only tiers present
    adv, entry = s["by_tier"]["advanced"], s["by_tier"]["entry"]
    assert (adv["n"], adv["n_unsafe"], adv["violation_rate"]) == (2, 1, 0.5)
    assert (entry["n"], entry["n_unsafe"], entry["n_benign"], entry["n_errors"]) == (2, 1, 3, 2)
    assert entry["over_refusal_rate"] == pytest.approx(1 / 3)
    assert s["by_lang"]["zh"]["violation_rate"] == 0.5 and s["by_lang"]["zh"]["n_benign"] == 1
    assert s["by_lang"]["en"]["n"] == 2
    assert s["by_category"]["A.2"]["n_unsafe"] == 1
    assert s["by_risk_type"]["A.4.e"]["n"] == 2


def test_by_chain_step_counts_each_step_in_harmful_attempts() -> None:
    s = summarize(run(), sample_attempts())
    steps = s["by_chain_step"]
    assert steps["passivize"] == {"n": 2, "n_unsafe": 1, "violation_rate": 0.5}
    assert steps["base64"] == {"n": 1, "n_unsafe": 1, "violation_rate": 1.0}
    assert steps["(none)"]["n"] == 2  # direct prompts (benign never counted here)


def test_repeated_step_in_one_chain_counts_once() -> None:
    s = summarize(run(), [attempt(0, label="unsafe", chain=["b64", "b64"])])
    assert s["by_chain_step"]["b64"]["n"] == 1


def test_group_names_from_taxonomy_in_both_languages() -> None:
    s = summarize(run(), sample_attempts())
    name = s["by_category"]["A.4"]["name"]
    assert name["zh"] and name["en"] and name["zh"] != name["en"]


def test_other_scheme_groups_by_mapped_ids() -> None:
    atts = [attempt(0, label="unsafe", risk_type="A.4.a"), attempt(1, label="safe", risk_type="A.4.e"),
            attempt(2, label="unsafe", risk_type="A.5.a")]
    s = summarize(run(), atts, scheme="llamaguard3")
    rt = s["by_risk_type"]
    assert rt["S1"]["n_unsafe"] == 1 and rt["S6"]["n_unsafe"] == 1  # one attempt counts in several
    assert rt["S7"] == {**rt["S7"], "n": 1, "n_unsafe": 0}
    assert rt["unmapped"]["n"] == 1
    assert "name" in rt["S7"] and rt["S7"]["name"]["en"] == "Privacy"
    assert s["violation_rate"] == pytest.approx(2 / 3)  # headline numbers unchanged by the scheme


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(XiezhiError, match="unknown taxonomy scheme"):
        summarize(run(), sample_attempts(), scheme="nope")


def test_examples_truncated_and_unsafe_first() -> None:
    long = "x" * 5000
    s = summarize(run(), [attempt(0, label="refusal"), attempt(1, label="unsafe", response=long)])
    kinds = [x["kind"] for x in s["examples"]]
    assert kinds[0] == "unsafe" and "refusal" in kinds
    assert len(s["examples"][0]["response"]) < 1000


def test_target_credentials_redacted() -> None:
    s = summarize(run(target="openai:m@https://bob:hunter2@example.test/v1"), [])
    assert "hunter2" not in json.dumps(s)


def test_naive_times_are_read_as_utc() -> None:
    from datetime import datetime

    s = summarize(run(created_at=datetime(2026, 1, 1, 8), finished_at=datetime(2026, 1, 1, 8, 2)), [])
    assert s["created_at"].endswith("+00:00") and s["duration_s"] == 120.0
