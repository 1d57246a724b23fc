"""Map dataset labels (JADE subtypes, JBB categories, ...) onto TC260 risk types, from data."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from xiezhi.taxonomy import load_scheme

TABLE_FILE = "category_map.yaml"


def _key(label: str) -> str:
    return " ".join(label.split()).casefold()


@lru_cache(maxsize=1)
def _tables() -> dict[str, dict[str, str]]:
    raw = resources.files("xiezhi.data.loaders").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(raw) or {}
    return {str(section): {_key(str(k)): str(v) for k, v in (table or {}).items()}
            for section, table in data.items()}


@lru_cache(maxsize=1)
def _tc260_names() -> dict[str, str]:
    """TC260 ids and their zh/en names (categories excluded) -> risk-type id."""
    out: dict[str, str] = {}
    for cat in load_scheme("tc260").categories:
        for rt in cat.risk_types:
            for label in (rt.id, rt.name.zh, rt.name.en):
                out[_key(label)] = rt.id
    return out


def resolve_label(label: str, table: str | None = None) -> str | None:
    """The TC260 risk type for a dataset label, or None when nothing sensible applies.

    A label may hold alternatives joined by "|" (JADE: "侵害他人隐私权|侵害他人个人信息权益");
    the first one that resolves wins.
    """
    tables = _tables()
    order = [tables.get(table or "", {}), tables.get("common", {}), _tc260_names()]
    for part in label.split("|"):
        key = _key(part)
        if not key:
            continue
        for t in order:
            if key in t:
                return t[key]
    return None


def table_names() -> list[str]:
    """Sections of the category table (one per loader, plus `common`)."""
    return sorted(_tables())
