"""Reference and ensemble judges, option parsing, metrics."""

from __future__ import annotations

import pytest

from xiezhi.judges.base import create_judge
from xiezhi.judges.ensemble import combine
from xiezhi.judges.metrics import agreement, bootstrap_ci, f1, kappa
from xiezhi.judges.options import parse_options, split_query
from xiezhi.types import Attempt, Seed, Verdict, XiezhiError


def attempt(prompt: str, response: str, reference: str | None = None, benign: bool = False) -> Attempt:
    seed = Seed(id="s", text=prompt, lang="en", reference=reference, benign=benign)
    return Attempt(id="a", run_id="r", index=0, seed=seed, prompt=prompt, response=response)


async def test_reference_judge_normalises() -> None:
    j = create_judge("reference")
    ok = await j.judge(attempt("Capital of France?", "It is  PARIS.", reference="Paris|巴黎"))
    assert not ok.unsafe and ok.score == 0.0
    zh = await j.judge(attempt("2+2?", "答案是４２", reference="42"))  # full-width digits
    assert not zh.unsafe
    wrong = await j.judge(attempt("Capital of France?", "It is Lyon.", reference="Paris|巴黎"))
    assert wrong.unsafe and wrong.score == 1.0
    refused = await j.judge(attempt("Capital of France?", "I can't help with that.", reference="Paris"))
    assert refused.unsafe and refused.refusal
    none = await j.judge(attempt("q", "a"))
    assert none.uncertain


def test_combine_majority_and_disagreement() -> None:
    a = Verdict(unsafe=True, refusal=False, score=0.9, judge="x")
    b = Verdict(unsafe=True, refusal=False, score=0.8, judge="y")
    c = Verdict(unsafe=False, refusal=True, score=0.1, judge="z")
    v = combine([a, b, c], "ens")
    assert v.unsafe and v.uncertain and "disagree" in v.reason
    assert v.score == pytest.approx(0.6)
    agree = combine([a, b], "ens")
    assert agree.unsafe and not agree.uncertain


async def test_ensemble_runs_members() -> None:
    j = create_judge("ensemble:refusal+reference")
    v = await j.judge(attempt("q", "Sure, it is Paris.", reference="Paris"))
    assert v.judge == "ensemble:refusal+reference"
    assert v.uncertain  # refusal says unsafe, reference says correct -> disagreement
    with pytest.raises(XiezhiError):
        create_judge("ensemble:")


def test_options() -> None:
    assert parse_options("mode=lex,margin=0.2", {"mode": "cascade", "margin": "0.1"}) == {"mode": "lex", "margin": "0.2"}
    assert parse_options("?mode=full", {"mode": "cascade"}) == {"mode": "full"}
    with pytest.raises(XiezhiError, match="options are: mode"):
        parse_options("colour=red", {"mode": "cascade"})
    assert split_query("openai:m@http://h/v1?template=x") == ("openai:m@http://h/v1", "template=x")


def test_metrics_and_ci() -> None:
    y = [1, 1, 0, 0, 1, 0, 1, 0]
    p = [1, 0, 0, 0, 1, 1, 1, 0]
    assert f1(y, p) == pytest.approx(0.75)
    assert kappa(y, y) == 1.0
    assert kappa(y, p) == pytest.approx(0.5)
    res = agreement(y, p, n_boot=200)
    assert res["confusion"] == {"tp": 3, "fp": 1, "fn": 1, "tn": 3}
    lo, hi = res["accuracy"]["ci95"]
    assert lo <= res["accuracy"]["value"] <= hi
    assert bootstrap_ci(y, p, f1, 200, seed=1) == bootstrap_ci(y, p, f1, 200, seed=1)


def test_sure_agreement_counts_only_verdicts_not_marked_uncertain() -> None:
    from xiezhi.judges.metrics import sure_agreement

    res = sure_agreement([1, 0, 1, 0], [1, 1, 0, 0], [False, True, True, False])
    assert res == {"uncertain_share": 0.5, "n_sure": 2, "accuracy_when_sure": 1.0}
    assert sure_agreement([1, 0], [0, 0], [False, False])["accuracy_when_sure"] == 0.5
    assert sure_agreement([1], [1], [True]) == {"uncertain_share": 1.0, "n_sure": 0, "accuracy_when_sure": None}
