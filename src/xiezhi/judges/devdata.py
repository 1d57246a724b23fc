"""Development data for the embedded judge: the PyRIT human-labelled sets (English, from
``../shared/data/judge``: objective achieved, refusal, and the clear cases of harm severity)
xiezhi's own Chinese pairs (``tests/judges/data/zh_*.jsonl``), xiezhi's synthetic English
jailbreak responses (``en_jbb_synth.jsonl``), the guard's refusals (``guard_refusals.jsonl``),
training rows written in many response styles (``*_train7.jsonl``, ``zh_train8.jsonl``,
``*_train10.jsonl``), the former blind sets (``*_blind7.jsonl`` to ``*_blind10.jsonl``, training rows
since session 8) and the blind sets (``*_blind11.jsonl`` to ``*_blind13.jsonl``; never trained on).

Rows are split train/test deterministically; English by a hash of the objective (never by
row, so one objective's responses stay on one side), Chinese by the ``split`` field
written with the data (held-out topics and held-out response phrasings).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from xiezhi.types import stable_id

TEST_FRACTION = 0.25
TRAIN7_FILES = ("zh_train7.jsonl", "en_train7.jsonl", "zh_train8.jsonl", "zh_train10.jsonl", "en_train10.jsonl")
"""Training-only rows written in many response styles (refusals, partial leaks, fiction with and
without content, empty "Sure, here is", short and structured compliance): ``*_train7`` and
``zh_train8`` in session 4, ``*_train10`` in session 5 in the styles of real chat models (markdown,
persona voices, refusals that leak, refusals without the usual wording), by helpers who read
neither the judge nor the blind sets."""
RETIRED_BLIND_FILES = ("zh_blind7.jsonl", "en_blind7.jsonl", "zh_blind8.jsonl", "en_blind8.jsonl",
                       "zh_blind9.jsonl", "en_blind9.jsonl", "zh_blind10.jsonl", "en_blind10.jsonl")
"""Former blind sets, training rows since session 8 (source ``retired_blindN/kind``). Each was written
by someone who never saw the judge; blind7 was then used to choose between training-data variants,
and blind7 to blind10 were seen while choosing how many e5 layers the cross-encoder fine-tunes
(session 6), so they were no longer blind. Their figures as blind sets are kept in
``benchmarks/results/judge_agreement_blind*_v*.json``."""
BLIND_FILES = ("zh_blind11.jsonl", "en_blind11.jsonl", "zh_blind12.jsonl", "en_blind12.jsonl", "zh_blind13.jsonl",
               "en_blind13.jsonl")
"""Blind sets (split and source ``blind11`` to ``blind13``, from the file name), each written by someone
who never saw the judge, its code or its data, and never trained on (the trainer fits on ``train``
only). blind11, written in session 6 before any of its rows was read, was first measured with the v7
cross-encoder and then used in session 8 to decide whether to ship v8 (trained with the retired blind
sets); blind12 was written in session 8 while v8 trained, and measured once with what shipped; blind13
was written in session 9 while the int8 path was built, and measured once after it was chosen."""


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


HARM_SAFE_MAX = 0.25
HARM_UNSAFE_MIN = 0.75


def harm_rows(shared: Path) -> list[Row]:
    """pyrit_harm: responses rated for harm severity (0..1, one to three raters).

    Only clear cases are kept: mean severity <= 0.25 is safe, >= 0.75 unsafe; the middle
    (partial, vague, disputed) is dropped. Split by objective like the other English rows.
    """
    rows: list[Row] = []
    for path in sorted((shared / "judge" / "pyrit_harm").glob("*.csv")):
        for r in read_pyrit_csv(path):
            scores = []
            for key, value in r.items():
                if key and key.startswith("human_score") and (value or "").strip():
                    try:
                        scores.append(float(value))
                    except ValueError:
                        pass
            if not scores or not r.get("assistant_response") or not r.get("objective"):
                continue
            mean = sum(scores) / len(scores)
            if HARM_SAFE_MAX < mean < HARM_UNSAFE_MIN:
                continue
            obj = r["objective"]
            rows.append(Row(obj, r["assistant_response"], mean >= HARM_UNSAFE_MIN, None, "en",
                            f"pyrit_harm/{path.stem}", objective_split(obj)))
    return rows


def chinese_rows(path: Path) -> list[Row]:
    """xiezhi's Chinese harmful/safe response pairs (JSONL with a split field).

``zh_pairs.jsonl`` has a train and a held-out split (held-out topics and phrasings);
``zh_train_extra.jsonl`` is training-only (other topics, other phrasings).
"""
    rows: list[Row] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            rows.append(Row(d["prompt"], d["response"], bool(d["unsafe"]), bool(d["refusal"]), "zh",
                            f"xiezhi/{path.stem}:{d['kind']}", d["split"]))
    return rows


def authored_rows(path: Path, prefix: str) -> list[Row]:
    """xiezhi-authored rows with their own ``lang`` and ``split`` fields (source ``prefix/kind``).

    ``en_jbb_synth.jsonl`` (written by ``make_en_jbb.py``): English jailbreak responses over
    JBB/AdvBench behaviours, split by behaviour and by phrasing; ``guard_refusals.jsonl``:
    xiezhi guard's own refusal texts behind expert-tier jailbreak prompts (``xiezhi mutate
    --tier expert`` of bank seeds tc260 A1-A3), training only.
    """
    rows: list[Row] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            rows.append(Row(d["prompt"], d["response"], bool(d["unsafe"]), bool(d["refusal"]), d["lang"],
                            f"{prefix}/{d['kind']}", d["split"]))
    return rows


def request_prefix(prompt: str) -> str:
    """A request's first 40 characters (case and spacing folded): two requests that share it are
    the same behaviour for the split."""
    return " ".join(prompt.lower().split())[:40]


_WORD = re.compile(r"[a-z0-9]{3,}")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_FILLER = frozenset({"the", "and", "for", "you", "your", "with", "that", "this", "how", "what", "about", "from",
                     "are", "can", "write", "give", "tell", "make"})
SIMILAR = 0.5
"""Jaccard overlap of request keys at which two requests count as the same behaviour."""


def request_keys(prompt: str) -> frozenset[str]:
    """Content words (3+ letters, a few fillers left out) of a request, or its Chinese characters
    when it has at least four (word order varies more than wording in reworded Chinese)."""
    text = prompt.lower()
    han = _HAN.findall(text)
    if len(han) >= 4:
        return frozenset(han)
    return frozenset(w for w in _WORD.findall(text) if w not in _FILLER)


def similar_requests(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two requests' keys overlap by at least `SIMILAR` (Jaccard): a reworded request
    ("Tell me a racist joke about X" / "Generate a racist joke about X") is the same behaviour."""
    return bool(a and b) and len(a & b) >= SIMILAR * len(a | b)


def repo_root() -> Path:
    """The repository root (three levels above this package's ``src/xiezhi``)."""
    return Path(__file__).resolve().parents[3]


def shared_data_dir(root: Path | None = None) -> Path:
    """The development data: ``$XIEZHI_SHARED_DATA``, else ``shared/data`` beside the repository
    (`root`, default `repo_root`)."""
    return Path(os.environ.get("XIEZHI_SHARED_DATA") or (root or repo_root()).parent / "shared" / "data")


def load_dev_rows(root: Path | None = None) -> list[Row]:
    """All development rows; `root` is the repository root (see `shared_data_dir`)."""
    root = root or repo_root()
    shared = shared_data_dir(root)
    data = root / "tests" / "judges" / "data"
    main = (english_rows(shared) + chinese_rows(data / "zh_pairs.jsonl") + chinese_rows(data / "zh_train_extra.jsonl")
            + authored_rows(data / "en_jbb_synth.jsonl", "xiezhi_en") + authored_rows(data / "guard_refusals.jsonl",
                                                                                      "xiezhi_guard")
            + [r for name in BLIND_FILES for r in authored_rows(data / name, name[3:].removesuffix(".jsonl"))])
    harm = harm_rows(shared)
    held_prefixes = {request_prefix(r.prompt) for r in main + harm if r.split != "train"}
    # a written training row whose request (or its first 40 characters) is held out elsewhere would leak
    written = [r for name in TRAIN7_FILES for r in authored_rows(data / name, f"xiezhi7_{name[:2]}")]
    written += [replace(r, split="train") for name in RETIRED_BLIND_FILES
                for r in authored_rows(data / name, f"retired_{name[3:].removesuffix('.jsonl')}")]
    main += [r for r in written if request_prefix(r.prompt) not in held_prefixes]
    trained = {r.response.strip() for r in main if r.split == "train"}
    held = {r.response.strip() for r in main if r.split != "train"}
    # a harm-set response also present on the other side of the split would leak: drop it
    extra = [r for r in harm if r.response.strip() not in (held if r.split == "train" else trained)]
    rows = main + extra
    # a blind request that rewords a training request is not blind: leave its rows out
    train_keys = {request_keys(r.prompt) for r in rows if r.split == "train"}

    def reworded(prompt: str) -> bool:
        keys = request_keys(prompt)  # once per blind request, not once per training request
        return any(similar_requests(keys, k) for k in train_keys)

    seen = {p: reworded(p) for p in {r.prompt for r in rows if r.split.startswith("blind")}}
    return [r for r in rows if not (r.split.startswith("blind") and seen[r.prompt])]
