"""Read (prompt, response) rows for the judge CLI: JSONL or CSV, robust to bad input.

Every non-empty line yields a `RowResult`: either a usable row or an error message that
names the line. Empty lines are skipped. Invalid UTF-8 is reported per line, not fatal.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xiezhi.fileio import json_line
from xiezhi.types import Attempt, Seed, XiezhiError, stable_id


@dataclass
class RowResult:
    """One input line: `data` is the parsed object (or raw text), `error` says what is wrong."""

    line: int
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def read_bytes(path: Path) -> bytes:
    """The file's bytes (``-`` is standard input), with one clear error when it cannot be read."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise XiezhiError(f"{path}: file not found") from None
    except OSError as e:
        raise XiezhiError(f"{path}: cannot read: {e.strerror}") from None


def iter_jsonl(path: Path, required: tuple[str, ...] = ("prompt", "response"),
               data: bytes | None = None) -> Iterator[RowResult]:
    """Rows of a JSONL file (or of `data`, its bytes already read); malformed lines come back
    with `error` set."""
    for no, raw in enumerate((read_bytes(path) if data is None else data).split(b"\n"), start=1):
        if not raw.strip():
            continue
        if no == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte-order mark (Windows editors write one)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield RowResult(no, {"raw": raw[:200].decode("utf-8", "replace")}, f"invalid UTF-8 at byte {e.start}")
            continue
        try:
            obj = json_line(text)
        except json.JSONDecodeError as e:
            yield RowResult(no, {"raw": text[:200]}, f"bad JSON: {e.msg} (column {e.colno})")
            continue
        if not isinstance(obj, dict):
            yield RowResult(no, {"raw": obj}, f"expected a JSON object, got {type(obj).__name__}")
            continue
        missing = [k for k in required if not isinstance(obj.get(k), str)]
        yield RowResult(no, obj, f"missing or non-string field(s): {', '.join(missing)}" if missing else None)


_BAD_BYTE = re.compile("[\udc80-\udcff]")


def iter_csv(path: Path, required: tuple[str, ...] = ("prompt", "response")) -> Iterator[RowResult]:
    """Rows of a CSV file (tab-separated for ``.tsv``) with a header; leading ``#`` comment lines
    are skipped, an Excel byte-order mark is dropped, and a row with invalid UTF-8 is reported."""
    text = read_bytes(path).decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and lines[skip].startswith("#"):
        skip += 1
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO("".join(lines[skip:])),
                            delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    for row in reader:
        no = skip + reader.line_num
        obj = {k: v for k, v in row.items() if k is not None}
        if any(isinstance(v, str) and _BAD_BYTE.search(v) for v in obj.values()):
            clean = {k: _BAD_BYTE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in obj.items()}
            yield RowResult(no, clean, "invalid UTF-8")
            continue
        missing = [k for k in required if not obj.get(k)]
        yield RowResult(no, obj, f"missing field(s): {', '.join(missing)}" if missing else None)


def iter_rows(path: Path, required: tuple[str, ...] = ("prompt", "response")) -> Iterator[RowResult]:
    """JSONL or CSV by extension."""
    if path.suffix.lower() in (".csv", ".tsv"):
        return iter_csv(path, required)
    return iter_jsonl(path, required)


def to_attempt(obj: dict[str, Any], index: int, prompt_field: str = "prompt",
               response_field: str = "response") -> Attempt:
    """An Attempt from a row; optional fields id, lang, benign, reference."""
    prompt, response = str(obj[prompt_field]), str(obj[response_field])
    rid = str(obj.get("id") or stable_id(prompt, response))
    benign = str(obj.get("benign", "")).strip().lower() in ("1", "true", "yes")
    seed = Seed(id=rid, text=prompt, lang=str(obj.get("lang") or "en"), benign=benign,
                reference=str(obj["reference"]) if obj.get("reference") else None)
    return Attempt(id=rid, run_id="judge-cli", index=index, seed=seed, prompt=prompt, response=response)
