"""Stores: where runs and attempts live. `open_store(url)` opens (and migrates) one."""

from __future__ import annotations

from xiezhi.store.base import Store


def open_store(url: str) -> Store:
    """Open the store at a SQLAlchemy URL (``sqlite:///xiezhi.db`` by default in settings)."""
    from xiezhi.store.sql import SqlStore

    return SqlStore(url)


__all__ = ["Store", "open_store"]
