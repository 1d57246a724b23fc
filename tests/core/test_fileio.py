"""The shared YAML reader and JSONL writer: errors are one line naming the file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from xiezhi.config import ConfigError, read_config_file
from xiezhi.fileio import read_yaml, write_jsonl
from xiezhi.guard.policy.loader import PolicyError, load_policy
from xiezhi.types import XiezhiError


def test_bad_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_text("a: 1\n  b: [\n", encoding="utf-8")
    with pytest.raises(PolicyError) as ei:
        read_yaml(p, PolicyError)
    msg = str(ei.value)
    assert msg.startswith(f"{p}: line ") and ", column " in msg and "\n" not in msg


def test_invalid_utf8_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(ConfigError, match=r"not valid UTF-8 \(byte 3\)"):
        read_config_file(p)
    with pytest.raises(PolicyError, match="nope.yaml: policy file not found"):
        load_policy(tmp_path / "nope.yaml")
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(XiezhiError, match="dir.yaml: cannot read"):
        read_yaml(tmp_path / "dir.yaml")


def test_write_jsonl_keeps_non_ascii_and_reports_unwritable(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    assert write_jsonl(out, [{"text": "你好"}, {"n": 1}]) == 2
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '{"text": "你好"}' and json.loads(lines[1]) == {"n": 1}
    with pytest.raises(XiezhiError, match="cannot write"):
        write_jsonl(tmp_path / "missing-dir" / "o.jsonl", [{"a": 1}])


def test_json_line_rejects_unpaired_surrogates_but_keeps_pairs() -> None:
    import json as _json

    from xiezhi.fileio import json_line

    assert json_line('{"t": "smile \\ud83d\\ude00"}') == {"t": "smile \U0001F600"}
    assert json_line('{"t": "plain \\u00e9"}') == {"t": "plain é"}
    with pytest.raises(_json.JSONDecodeError, match="unpaired UTF-16 surrogate escape"):
        json_line('{"t": "bad \\udcff"}')
