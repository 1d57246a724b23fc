"""Read users' seed files into rows: encoding detection, CSV and JSONL, one-line errors."""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xiezhi.fileio import json_line
from xiezhi.types import XiezhiError

MAX_FIELD = 16 * 1024 * 1024


@dataclass
class Table:
    """Rows of a file: header (column names), (row number, line number, row) and warnings."""

    name: str
    header: list[str]
    kind: str = "csv"
    rows: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def decode_bytes(raw: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030."""
    if not raw.strip():
        raise XiezhiError(f"{name}: empty file")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as e:
            raise XiezhiError(f"{name}: undecodable UTF-16 at byte {e.start}") from None
    body = raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        err = e
    # Mostly valid UTF-8 with a few broken bytes is a damaged UTF-8 file, not GBK.
    loose = body.decode("utf-8", errors="replace")
    bad = loose.count("\ufffd")
    good = sum(1 for ch in loose if ord(ch) > 127 and ch != "\ufffd")
    if good <= bad:
        try:
            return body.decode("gb18030")
        except UnicodeDecodeError:
            pass
    line = body[: err.start].count(b"\n") + 1
    raise XiezhiError(
        f"{name}: line {line}: undecodable byte 0x{body[err.start]:02x} (not UTF-8, GBK or GB18030)"
    )


def read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise XiezhiError(f"{path}: no such file") from None
    except OSError as e:
        raise XiezhiError(f"{path}: cannot read: {e.strerror}") from None
    return decode_bytes(raw, path.name)


def _strip_comments(text: str) -> tuple[str, int]:
    """Drop leading '# ...' comment lines (PyRIT-style headers); return text and lines skipped."""
    lines = text.splitlines(keepends=True)
    n = 0
    while n < len(lines) and (lines[n].lstrip().startswith("#") or not lines[n].strip()):
        n += 1
    return "".join(lines[n:]), n


def parse_csv(text: str, name: str, delimiter: str = ",") -> Table:
    """CSV with a header row; empty rows become warnings, structural errors one XiezhiError."""
    body, skipped = _strip_comments(text)
    if not body.strip():
        raise XiezhiError(f"{name}: empty file")
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        table = Table(name, header)
        for i, values in enumerate(reader, start=1):
            line = reader.line_num + skipped
            if not values:
                continue  # a blank line is not a row
            if not any(v.strip() for v in values):
                table.warnings.append(f"{name}: row {i} (line {line}): empty row, skipped")
                continue
            table.rows.append((i, line, dict(zip(header, values, strict=False))))
    except csv.Error as e:
        raise XiezhiError(f"{name}: line {reader.line_num + skipped}: malformed CSV: {e}") from None
    if not table.rows:
        raise XiezhiError(f"{name}: no data rows after the header")
    return table


def parse_jsonl(text: str, name: str) -> Table:
    """One JSON object per line; a bad line becomes a warning and the rest is kept."""
    table = Table(name, [], kind="jsonl")
    seen: dict[str, None] = {}
    row = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        row += 1
        try:
            obj = json_line(line)
        except json.JSONDecodeError as e:
            table.warnings.append(f"{name}: line {line_no}: invalid JSON ({e.msg}), skipped")
            continue
        if not isinstance(obj, dict):
            table.warnings.append(f"{name}: line {line_no}: expected a JSON object, skipped")
            continue
        seen.update(dict.fromkeys(obj))
        table.rows.append((row, line_no, obj))
    if not table.rows:
        raise XiezhiError(f"{name}: no valid JSON object lines")
    table.header = list(seen)
    return table


def looks_like_jsonl(path: Path, text: str) -> bool:
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return True
    return text.lstrip().startswith("{")


def read_table(path: Path) -> Table:
    """Read a CSV/TSV or JSONL file into a Table."""
    text = read_text(path)
    if looks_like_jsonl(path, text):
        return parse_jsonl(text, path.name)
    return parse_csv(text, path.name, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
