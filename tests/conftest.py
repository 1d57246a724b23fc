"""Shared fixtures: paths to the development data beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("XIEZHI_SHARED_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.fail(f"development data not found at {SHARED_DATA} (set XIEZHI_SHARED_DATA to its path)")
    return SHARED_DATA
