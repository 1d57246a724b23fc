"""The loader engine: a column mapping turns rows of a Table into Seeds.

Every built-in loader is a `TableLoader` with its own default columns, label table and
header signature; users' files go through the same engine with their own column mapping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from xiezhi.data.lang import detect_lang, normalize_lang
from xiezhi.data.loaders.io import Table, read_table
from xiezhi.data.loaders.resolve import resolve_label
from xiezhi.taxonomy import category_of, is_risk_type
from xiezhi.types import Seed, XiezhiError, stable_id

if TYPE_CHECKING:
    from rich.console import Console

FIELDS = ("text", "lang", "risk_type", "category", "scheme", "form", "source", "benign", "reference", "id")
"""Seed fields a column mapping may name (`text` is required)."""

MAX_TAG = 300
TRUE = {"1", "true", "yes", "y", "benign", "safe", "是"}


class LoadedSeeds(list[Seed]):
    """Seeds read from a file, with the warnings about rows that were skipped."""

    def __init__(self, seeds: Iterable[Seed] = (), *, path: str = "", fmt: str = "",
                 warnings: list[str] | None = None) -> None:
        super().__init__(seeds)
        self.path = path
        self.fmt = fmt
        self.warnings: list[str] = list(warnings or [])

    @property
    def skipped(self) -> int:
        """Rows skipped (empty or malformed), each with a warning."""
        return len(self.warnings)

    def print_skipped(self, console: Console, where: str, shown: int = 10) -> None:
        """Tell the user which rows were skipped: how many, then the first `shown` warnings."""
        if not self.warnings:
            return
        from rich.markup import escape

        console.print(f"[yellow]{escape(where)}: {len(self.warnings)} row(s) skipped:[/]")
        for w in self.warnings[:shown]:
            console.print(f"  {escape(w)}", soft_wrap=True)
        if len(self.warnings) > shown:
            console.print(f"  … and {len(self.warnings) - shown} more")


def _cell(row: Mapping[str, Any], col: str | None) -> str:
    if not col:
        return ""
    value = row.get(col)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


class TableLoader:
    """Loads a CSV/JSONL file through a column mapping (subclasses set the class attributes)."""

    name: ClassVar[str] = "table"
    columns: ClassVar[dict[str, str]] = {}
    """Default mapping field -> column; a user mapping overrides it per field."""
    text_candidates: ClassVar[tuple[str, ...]] = ()
    """Column names tried for `text` when neither mapping names one."""
    label_columns: ClassVar[tuple[str, ...]] = ()
    """Columns whose values are dataset labels to map onto TC260, finest first."""
    signature: ClassVar[tuple[str, ...]] = ()
    """Columns (case-insensitive) whose presence identifies this format."""
    priority: ClassVar[int] = 10

    def sniff(self, header: list[str]) -> int:
        """How well a header matches this format: 0 = not at all, higher = better."""
        have = {h.casefold() for h in header}
        if self.signature and all(c.casefold() in have for c in self.signature):
            return self.priority + len(self.signature)
        return 0

    # ---------------------------------------------------------------------------------
    def load(self, path: str | Path, columns: Mapping[str, str] | None = None) -> LoadedSeeds:
        """Read `path` and return its seeds; empty or bad rows are skipped with a warning."""
        p = Path(path)
        return self.load_table(read_table(p), columns)

    def load_table(self, table: Table, columns: Mapping[str, str] | None = None) -> LoadedSeeds:
        mapping = self._mapping(table, columns)
        actual = {h.casefold(): h for h in table.header}
        labels = [actual[c.casefold()] for c in self.label_columns if c.casefold() in actual]
        out = LoadedSeeds(path=table.name, fmt=self.name, warnings=table.warnings)
        for row_no, line_no, row in table.rows:
            text = _cell(row, mapping["text"])
            if not text:
                out.warnings.append(f"{table.name}: row {row_no} (line {line_no}): empty text, skipped")
                continue
            out.append(self.make_seed(table.name, row_no, row, text, mapping, labels))
        if not out:
            raise XiezhiError(f"{table.name}: no usable rows ({len(out.warnings)} skipped)")
        return out

    def _mapping(self, table: Table, columns: Mapping[str, str] | None) -> dict[str, str | None]:
        """Resolve field -> actual column name (case-insensitive); check required columns."""
        actual = {h.casefold(): h for h in table.header}
        found = ", ".join(table.header) or "none"
        user = dict(columns or {})
        unknown = sorted(set(user) - set(FIELDS))
        if unknown:
            raise XiezhiError(f"unknown seed field(s) in column mapping: {', '.join(unknown)} "
                              f"(fields: {', '.join(FIELDS)})")
        out: dict[str, str | None] = {}
        for fld in FIELDS:
            want = user.get(fld) or self.columns.get(fld)
            if fld == "text" and not want:
                want = next((c for c in self.text_candidates if c.casefold() in actual), None)
                if want is None:
                    tried = ", ".join(self.text_candidates) or "text"
                    raise XiezhiError(f"{table.name}: no text column (tried: {tried}; found: {found})")
            if want is None:
                out[fld] = None
            elif want.casefold() in actual:
                out[fld] = actual[want.casefold()]
            elif fld in user or fld == "text":
                raise XiezhiError(f"{table.name}: missing column {want!r} (found: {found})")
            else:
                out[fld] = None  # optional default column absent: fine
        return out

    def make_seed(self, name: str, row_no: int, row: Mapping[str, Any], text: str,
                  mapping: Mapping[str, str | None], labels: list[str] | tuple[str, ...] = ()) -> Seed:
        """One row -> Seed: language, taxonomy tags, benign flag, stable id, the rest as tags."""
        lang = normalize_lang(_cell(row, mapping["lang"])) or detect_lang(text)
        scheme = _cell(row, mapping["scheme"]) or "tc260"
        tags: dict[str, str] = {}
        risk_type, category = self._taxonomy(row, mapping, labels, scheme, tags)
        benign_cell = _cell(row, mapping["benign"]).casefold()
        benign = benign_cell in TRUE if benign_cell else self.default_benign(name)
        used = {c for c in mapping.values() if c}
        for key in row:
            v = _cell(row, key)
            if key not in used and v:
                tags[str(key)] = v[:MAX_TAG]
        if (src_id := _cell(row, mapping["id"])):
            tags["source_id"] = src_id
        return Seed(
            id=stable_id(name, row_no, text),
            text=text,
            lang=lang,
            scheme=scheme,
            category=category,
            risk_type=risk_type,
            form=_cell(row, mapping["form"]) or ("question" if text.rstrip().endswith(("?", "？"))
                                                 else "instruction"),
            source=_cell(row, mapping["source"]) or self.name,
            benign=benign,
            reference=_cell(row, mapping["reference"]) or None,
            tags=tags,
        )

    def _taxonomy(self, row: Mapping[str, Any], mapping: Mapping[str, str | None],
                  label_cols: list[str] | tuple[str, ...], scheme: str,
                  tags: dict[str, str]) -> tuple[str, str]:
        raw = _cell(row, mapping["risk_type"])
        category = _cell(row, mapping["category"]) or "unknown"
        if scheme != "tc260":
            return raw or "unknown", category
        labels = [raw] if raw else [_cell(row, c) for c in label_cols if _cell(row, c)]
        for label in labels:
            rt = label if is_risk_type(label) else resolve_label(label, self.name)
            if rt:
                return rt, category_of(rt)
        if labels:
            tags["label"] = labels[0][:MAX_TAG]
        return "unknown", category

    def default_benign(self, name: str) -> bool:
        """Whether rows are benign when the file has no benign column (by file name)."""
        return "benign" in name.casefold()
