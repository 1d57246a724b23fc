"""Read taxonomy YAML files shipped in this package (cached pure loaders)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml
from pydantic import ValidationError

from xiezhi.taxonomy.models import MappingEntry, Scheme
from xiezhi.types import XiezhiError

MAPPING_FILE = "mapping.yaml"
_PACKAGE = "xiezhi.taxonomy"


def _read_yaml(filename: str) -> object:
    try:
        raw = resources.files(_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise XiezhiError(f"taxonomy file {filename} is missing from the package") from None
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise XiezhiError(f"{filename}: invalid YAML: {e}") from None


@lru_cache(maxsize=1)
def _scheme_names() -> tuple[str, ...]:
    names = (
        p.name.removesuffix(".yaml")
        for p in resources.files(_PACKAGE).iterdir()
        if p.name.endswith(".yaml") and p.name != MAPPING_FILE
    )
    return tuple(sorted(names, key=lambda n: (n != "tc260", n)))


def schemes() -> list[str]:
    """Names of the shipped schemes, TC260 first."""
    return list(_scheme_names())


@lru_cache(maxsize=16)
def load_scheme(name: str) -> Scheme:
    """The scheme `name` (see `schemes()`), validated."""
    if name not in _scheme_names():
        raise XiezhiError(f"unknown taxonomy scheme {name!r}; known schemes: {', '.join(schemes())}")
    data = _read_yaml(f"{name}.yaml")
    try:
        return Scheme.model_validate(data)
    except ValidationError as e:
        raise XiezhiError(f"{name}.yaml: {e.errors()[0]['loc']}: {e.errors()[0]['msg']}") from None


def load_mapping() -> dict[str, MappingEntry]:
    """TC260 risk type -> its mapping entry (ids in every other scheme); a fresh dict per call."""
    return dict(_mapping())


@lru_cache(maxsize=1)
def _mapping() -> dict[str, MappingEntry]:
    data = _read_yaml(MAPPING_FILE)
    if not isinstance(data, dict):
        raise XiezhiError(f"{MAPPING_FILE}: expected a mapping at the top level")
    return {str(k): MappingEntry.model_validate(v) for k, v in data.items()}
