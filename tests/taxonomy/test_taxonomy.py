"""Taxonomies as data: TC260-003 Appendix A and the schemes it maps onto."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xiezhi.cli.app import build_app
from xiezhi.taxonomy import (
    category_of,
    define,
    describe,
    load_mapping,
    load_scheme,
    map_risk_type,
    risk_type_ids,
    schemes,
)
from xiezhi.types import XiezhiError

CJK = re.compile(r"[\u4e00-\u9fff]")
IDS_FILE = Path(__file__).resolve().parents[2] / "src" / "xiezhi" / "taxonomy" / "tc260_ids.txt"


def test_shipped_schemes() -> None:
    assert schemes() == ["tc260", "ailuminate", "llamaguard3", "owasp-llm"]


def test_tc260_has_5_categories_and_31_risk_types() -> None:
    s = load_scheme("tc260")
    assert [c.id for c in s.categories] == ["A.1", "A.2", "A.3", "A.4", "A.5"]
    ids = risk_type_ids()
    assert len(ids) == 31 == len(set(ids))
    assert ids[0] == "A.1.a" and ids[-1] == "A.5.b"
    assert [len(c.risk_types) for c in s.categories] == [8, 9, 5, 7, 2]
    assert all(category_of(i) == i.rsplit(".", 1)[0] for i in ids)


@pytest.mark.skipif(not IDS_FILE.exists(), reason="tc260_ids.txt not shipped")
def test_tc260_names_agree_with_the_id_list() -> None:
    rows = [line.split(None, 1) for line in IDS_FILE.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    assert len(rows) == 36
    for id_, name in rows:
        assert describe(id_, lang="zh") == name.strip(), id_


@pytest.mark.parametrize("scheme", ["tc260", "ailuminate", "llamaguard3", "owasp-llm"])
def test_every_node_is_bilingual(scheme: str) -> None:
    s = load_scheme(scheme)
    nodes = [*s.categories, *(rt for c in s.categories for rt in c.risk_types)]
    for node in nodes:
        for text in (node.name.zh, node.definition.zh):
            assert CJK.search(text), (node.id, text)
        for text in (node.definition.en,):
            assert text and not CJK.search(text), (node.id, text)
        assert node.definition.en.strip().count("\n") == 0


def test_other_schemes_ids() -> None:
    assert risk_type_ids("llamaguard3") == [f"S{i}" for i in range(1, 15)]
    assert risk_type_ids("owasp-llm") == [f"LLM{i:02d}" for i in range(1, 11)]
    ail = risk_type_ids("ailuminate")
    assert {"vcr", "src", "cse", "ssh", "iwp", "ipv", "dfm", "ncr", "hte", "prv", "sxc_prn"} <= set(ail)
    assert len(ail) == 15  # 12 hazards, specialized advice split in four


def test_owasp_marks_content_risks() -> None:
    s = load_scheme("owasp-llm")
    content = [rt.id for c in s.categories for rt in c.risk_types if rt.tags["content_risk"] == "true"]
    assert content == ["LLM01", "LLM02", "LLM07", "LLM09"]
    assert describe("LLM07", scheme="owasp-llm") == "System Prompt Leakage"


def test_describe_and_define() -> None:
    assert describe("A.4.e", lang="zh") == "侵害他人隐私权"
    assert describe("A.4.e") == "Infringing privacy rights"
    assert describe("A.2") == "Discriminatory content"
    assert describe("S7", lang="en", scheme="llamaguard3") == "Privacy"
    assert CJK.search(define("A.1.g", lang="zh"))
    with pytest.raises(XiezhiError, match="unknown tc260 id 'A.9.z'"):
        describe("A.9.z")
    with pytest.raises(XiezhiError, match="unknown taxonomy scheme 'nope'"):
        load_scheme("nope")


def test_mapping_covers_every_risk_type_with_valid_ids() -> None:
    mapping = load_mapping()
    assert set(mapping) == set(risk_type_ids())
    for other in schemes()[1:]:
        valid = set(risk_type_ids(other))
        for rt in mapping:
            assert set(map_risk_type(rt, other)) <= valid, (rt, other)


def test_mapping_examples() -> None:
    assert map_risk_type("A.4.e", "llamaguard3") == ["S7"]
    assert map_risk_type("A.4.e", "ailuminate") == ["prv"]
    assert map_risk_type("A.4.e", "owasp-llm") == ["LLM02"]
    assert map_risk_type("A.3.a", "llamaguard3") == ["S8"]
    assert map_risk_type("A.1.g", "owasp-llm") == ["LLM09"]
    assert map_risk_type("A.2.f", "llamaguard3") == []  # age is not protected there
    assert map_risk_type("A.4.e", "tc260") == ["A.4.e"]
    with pytest.raises(XiezhiError):
        map_risk_type("A.4.z", "llamaguard3")
    with pytest.raises(XiezhiError):
        map_risk_type("A.4.e", "nope")


def test_every_llama_guard_category_is_reached() -> None:
    reached = {i for rt in risk_type_ids() for i in map_risk_type(rt, "llamaguard3")}
    assert reached == set(risk_type_ids("llamaguard3"))


def test_cli_json_and_tree() -> None:
    runner = CliRunner()
    app = build_app()
    res = runner.invoke(app, ["taxonomy", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert set(data["schemes"]) == set(schemes())
    assert data["mapping"]["A.4.e"]["llamaguard3"] == ["S7"]
    res = runner.invoke(app, ["taxonomy", "--format", "json", "--scheme", "tc260"])
    one = json.loads(res.output)
    assert sum(len(c["risk_types"]) for c in one["categories"]) == 31
    res = runner.invoke(app, ["taxonomy"])
    assert res.exit_code == 0
    assert "A.5.b" in res.output and "侵害他人隐私权" in res.output and "S7" in res.output
    res = runner.invoke(app, ["taxonomy", "--scheme", "nope"])
    assert isinstance(res.exception, XiezhiError)
