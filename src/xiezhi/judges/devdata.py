"""Development data for the embedded judge: the PyRIT human-labelled sets (English, from
``../shared/data/judge``) and xiezhi's own Chinese pairs (``tests/judges/data/zh_pairs.jsonl``).

Rows are split train/test deterministically; English by a hash of the objective (never by
row, so one objective's responses stay on one side), Chinese by the ``split`` field
written with the data (held-out topics and held-out response phrasings).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from xiezhi.types import stable_id

TEST_FRACTION = 0.25


@dataclass(frozen=True)
class Row:
    """One labelled (prompt, response) pair; a label is None where the source has none."""

    prompt: str
    response: str
    unsafe: bool | None
    refusal: bool | None
    lang: str
    source: str
    split: str


def read_pyrit_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a PyRIT CSV, skipping the leading ``#`` comment lines."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        i += 1
    csv.field_size_limit(1 << 30)
    return list(csv.DictReader(io.StringIO("".join(lines[i:]))))


def objective_split(objective: str) -> str:
    """'test' for about a quarter of objectives, decided by a stable hash."""
    bucket = int(stable_id("judge-split", objective.strip().lower()), 16) % 100
    return "test" if bucket < TEST_FRACTION * 100 else "train"


def english_rows(shared: Path) -> list[Row]:
    """pyrit_objective (unsafe labels) and pyrit_refusal (refusal labels; a refusal is never unsafe)."""
    rows: list[Row] = []
    for path in sorted((shared / "judge" / "pyrit_objective").glob("*.csv")):
        for r in read_pyrit_csv(path):
            if r.get("human_score", "").strip() not in ("0", "1") or not r.get("assistant_response"):
                continue
            obj = r["objective"]
            rows.append(Row(obj, r["assistant_response"], r["human_score"].strip() == "1", None, "en",
                            f"pyrit_objective/{path.stem}", objective_split(obj)))
    for path in sorted((shared / "judge" / "pyrit_refusal").glob("*.csv")):
        for r in read_pyrit_csv(path):
            score = (r.get("human_score") or "").strip()
            if score not in ("0", "1") or not r.get("assistant_response"):
                continue
            refused = score == "1"
            rows.append(Row(r["objective"], r["assistant_response"], False if refused else None, refused, "en",
                            f"pyrit_refusal/{path.stem}", objective_split(r["objective"])))
    return rows


def chinese_rows(path: Path) -> list[Row]:
    """xiezhi's Chinese harmful/safe response pairs (JSONL with a split field)."""
    rows: list[Row] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            rows.append(Row(d["prompt"], d["response"], bool(d["unsafe"]), bool(d["refusal"]), "zh",
                            "xiezhi/zh_pairs:" + d["kind"], d["split"]))
    return rows


def repo_root() -> Path:
    """The repository root (three levels above this package's ``src/xiezhi``)."""
    return Path(__file__).resolve().parents[3]


def load_dev_rows(root: Path | None = None) -> list[Row]:
    """All development rows; `root` is the repository root (``shared/`` lies beside it)."""
    root = root or repo_root()
    zh = root / "tests" / "judges" / "data" / "zh_pairs.jsonl"
    return english_rows(root.parent / "shared" / "data") + chinese_rows(zh)
