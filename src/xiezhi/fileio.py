"""Reading YAML files and writing JSONL files with one-line errors that name the file.

Every user-facing file xiezhi reads or writes goes through here, so a malformed file or an
unwritable path always reads the same way: ``PATH: line L, column C: problem``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from xiezhi.types import XiezhiError


def read_yaml(path: Path, error: type[XiezhiError] = XiezhiError) -> Any:
    """Parse a YAML file; undecodable bytes, an unreadable file or bad YAML raise ``error``."""
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not valid UTF-8 (byte {e.start})") from None
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror}") from None
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        raise error(f"{path}:{where} {getattr(e, 'problem', None) or 'invalid YAML'}") from None


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write one JSON object per line (UTF-8, non-ASCII kept); returns the number of rows."""
    n = 0
    try:
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
    except OSError as e:
        raise XiezhiError(f"{path}: cannot write: {e.strerror or e}") from None
    return n


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _no_constant(name: str) -> Any:
    # NaN / Infinity are not JSON: passed through, they would make every output row invalid JSON
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def json_line(text: str) -> Any:
    """`json.loads` for one line of a user's file, which also rejects an unpaired UTF-16
    surrogate escape (``"\\udcff"``): it decodes to a string that cannot be encoded again, so it
    would fail later, far from the line that caused it, and ``NaN`` / ``Infinity``, which are not
    JSON. Raises `json.JSONDecodeError` in each case."""
    obj = json.loads(text, parse_constant=_no_constant)
    escape = _SURROGATE_ESCAPE.search(text)
    if escape:
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise json.JSONDecodeError("unpaired UTF-16 surrogate escape", text, escape.start()) from None
    return obj
