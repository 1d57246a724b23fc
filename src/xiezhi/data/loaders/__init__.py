"""Dataset loaders: read users' seed files (AdvBench, HarmBench, JailbreakBench, StrongREJECT,
JADE-DB, any CSV or JSONL) into taxonomy-tagged Seeds.

`load_seeds(path)` detects the format from the header; `load_seeds(path, "csv",
columns={"text": "prompt", "lang": "language"})` maps the columns of any file. Each format
is a ``loader`` plugin in the registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from xiezhi.data.loaders import benchmarks, generic, jade  # noqa: F401  (registration)
from xiezhi.data.loaders.base import FIELDS, LoadedSeeds, TableLoader
from xiezhi.data.loaders.io import Table, parse_csv, parse_jsonl, read_table, read_text
from xiezhi.registry import registry
from xiezhi.types import XiezhiError

__all__ = ["FIELDS", "LoadedSeeds", "TableLoader", "detect_format", "load_seeds", "loader_names"]


def loader_names() -> list[str]:
    """Names of the registered loaders (the values `fmt` accepts)."""
    return registry.names("loader")


def _create(name: str) -> TableLoader:
    loader = registry.create("loader", name)
    if not isinstance(loader, TableLoader):
        raise XiezhiError(f"loader {name!r} is not a table loader")
    return loader


def detect_format(header: list[str]) -> str | None:
    """The loader whose header signature fits best (None when nothing fits)."""
    best: tuple[int, str] | None = None
    for name in loader_names():
        try:
            score = _create(name).sniff(header)
        except XiezhiError:
            continue
        if score and (best is None or score > best[0]):
            best = (score, name)
    return best[1] if best else None


def _read(path: Path, fmt: str | None) -> Table:
    if fmt == "jsonl":
        return parse_jsonl(read_text(path), path.name)
    if fmt == "csv":
        return parse_csv(read_text(path), path.name, "\t" if path.suffix.lower() == ".tsv" else ",")
    return read_table(path)


def load_seeds(path: str | Path, fmt: str | None = None,
               columns: Mapping[str, str] | None = None) -> LoadedSeeds:
    """Read a seed file into Seeds (a list with `.warnings` for skipped rows).

    fmt: a loader name (see `loader_names()`); None detects it from the header.
    columns: seed field -> column name, e.g. {"text": "prompt", "lang": "language"}.
    """
    p = Path(path)
    if fmt is not None and fmt not in loader_names():
        raise XiezhiError(f"unknown seed format {fmt!r}; known formats: {', '.join(loader_names())}")
    table = _read(p, fmt)
    if fmt is None:
        fmt = detect_format(table.header) or table.kind
    return _create(fmt).load_table(table, columns)
