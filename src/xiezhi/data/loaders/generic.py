"""Generic CSV and JSONL loaders: any file, with a column mapping for the seed fields."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from xiezhi.data.loaders.base import LoadedSeeds, TableLoader
from xiezhi.data.loaders.io import parse_csv, parse_jsonl, read_text
from xiezhi.registry import register

TEXT_CANDIDATES = ("text", "prompt", "question", "query", "instruction", "goal", "behavior",
                   "forbidden_prompt", "content", "input", "问题", "提示")
COMMON_FIELDS = {"lang": "lang", "risk_type": "risk_type", "category": "category", "scheme": "scheme",
                 "form": "form", "source": "source", "benign": "benign", "reference": "reference",
                 "id": "id"}


@register("loader", "csv", description="any CSV/TSV; columns={'text': 'prompt', 'lang': ..., ...}")
class CsvLoader(TableLoader):
    """A CSV with a header: `text` from the mapping or a usual column name (prompt, question...)."""

    name: ClassVar[str] = "csv"
    columns: ClassVar[dict[str, str]] = COMMON_FIELDS
    text_candidates: ClassVar[tuple[str, ...]] = TEXT_CANDIDATES
    label_columns: ClassVar[tuple[str, ...]] = ("label", "category", "type")

    def sniff(self, header: list[str]) -> int:
        return 0  # the fallback when no dataset format fits (csv or jsonl by file syntax)

    def load(self, path: str | Path, columns: Mapping[str, str] | None = None) -> LoadedSeeds:
        p = Path(path)
        delimiter = "\t" if p.suffix.lower() == ".tsv" else ","
        return self.load_table(parse_csv(read_text(p), p.name, delimiter), columns)


@register("loader", "jsonl", description="JSON Lines, one object per line (xiezhi seed rows or any keys)")
class JsonlLoader(CsvLoader):
    """One JSON object per line; xiezhi's own seed rows load as they are."""

    name: ClassVar[str] = "jsonl"

    def load(self, path: str | Path, columns: Mapping[str, str] | None = None) -> LoadedSeeds:
        p = Path(path)
        return self.load_table(parse_jsonl(read_text(p), p.name), columns)
