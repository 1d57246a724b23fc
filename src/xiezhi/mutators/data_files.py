"""Load the mutators' YAML data files (templates, lexicons) once per process."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed YAML file ``xiezhi/mutators/data/<name>.yaml`` (read-only, cached)."""
    text = resources.files("xiezhi.mutators").joinpath("data", f"{name}.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"mutator data file {name}.yaml is not a mapping")
    return data
