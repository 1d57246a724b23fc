"""xiezhi's own seed bank: JSONL files under ``xiezhi/data/seeds/`` (package data).

Each line is one seed::

    {"id": "...", "lang": "zh", "scheme": "tc260", "category": "A.4", "risk_type": "A.4.e",
     "form": "question", "source": "xiezhi", "text": "...", "benign": false, "reference": null}

`reference` holds the expected answer(s) of a factual (A.5) probe, alternatives joined by "|".
Every row is validated; a bad row fails loudly with file:line, because the bank ships.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xiezhi.fileio import json_line
from xiezhi.taxonomy import category_of, is_risk_type
from xiezhi.types import Seed, XiezhiError

FORMS = ("question", "instruction", "scenario", "list", "code", "roleplay")
LANGS = ("zh", "en")


class BankRow(BaseModel):
    """The schema of one bank line (stricter than Seed: every field is required and checked)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1)
    lang: Literal["zh", "en"]
    scheme: Literal["tc260"]
    category: str
    risk_type: str
    form: Literal["question", "instruction", "scenario", "list", "code", "roleplay"]
    source: str = Field(min_length=1)
    text: str = Field(min_length=1)
    benign: bool
    reference: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


def parse_row(line: str, where: str) -> Seed:
    """One JSONL line -> Seed, or a XiezhiError naming `where` (file:line) and the problem."""
    try:
        obj = json_line(line)
    except json.JSONDecodeError as e:
        raise XiezhiError(f"{where}: invalid JSON: {e.msg} (column {e.colno})") from None
    if not isinstance(obj, dict):
        raise XiezhiError(f"{where}: expected a JSON object")
    try:
        row = BankRow.model_validate(obj)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "row"
        raise XiezhiError(f"{where}: field {loc!r}: {err['msg']}") from None
    if not row.text.strip():
        raise XiezhiError(f"{where}: field 'text' is blank")
    if not is_risk_type(row.risk_type):
        raise XiezhiError(f"{where}: unknown tc260 risk type {row.risk_type!r}")
    if row.category != category_of(row.risk_type):
        raise XiezhiError(f"{where}: category {row.category!r} does not match risk type "
                          f"{row.risk_type} (expected {category_of(row.risk_type)})")
    if row.reference is not None and not row.reference.strip():
        raise XiezhiError(f"{where}: field 'reference' is blank (use null)")
    return Seed(**row.model_dump())


def _walk(root: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for child in sorted(root.iterdir(), key=lambda c: c.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            out.extend(_walk(child, rel + "/"))
        elif child.name.endswith(".jsonl"):
            out.append((rel, child))
    return out


def read_seed_dir(root: Traversable | Path, label: str = "seeds") -> list[Seed]:
    """Read and validate every ``*.jsonl`` below `root`; ids must be unique across files."""
    seeds: list[Seed] = []
    first: dict[str, str] = {}
    for rel, file in _walk(root):
        try:
            text = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise XiezhiError(f"{label}/{rel}: not valid UTF-8 (byte {e.start})") from None
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{label}/{rel}:{n}"
            seed = parse_row(line, where)
            if seed.id in first:
                raise XiezhiError(f"{where}: duplicate id {seed.id!r} (first at {first[seed.id]})")
            first[seed.id] = where
            seeds.append(seed)
    return seeds


@lru_cache(maxsize=1)
def _bank() -> tuple[Seed, ...]:
    root = resources.files("xiezhi.data").joinpath("seeds")
    if not root.is_dir():
        return ()
    return tuple(read_seed_dir(root))


def load_bank(langs: list[str] | None = None, include_benign: bool = True) -> list[Seed]:
    """The shipped seeds, optionally only some languages and without the benign look-alikes."""
    if langs is not None:
        bad = sorted(set(langs) - set(LANGS))
        if bad:
            raise XiezhiError(f"unknown language(s) {', '.join(bad)}; the bank has {', '.join(LANGS)}")
    return [s.model_copy(deep=True) for s in _bank()
            if (langs is None or s.lang in langs) and (include_benign or not s.benign)]
