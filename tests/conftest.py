"""Shared fixtures: paths to the development data beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from xiezhi.judges.devdata import shared_data_dir

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = shared_data_dir(REPO)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.fail(f"development data not found at {SHARED_DATA} (set XIEZHI_SHARED_DATA to its path)")
    return SHARED_DATA
