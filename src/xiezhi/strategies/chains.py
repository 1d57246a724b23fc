"""Apply a chain of registered mutators to a text, tracking the intent-carrying payload."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from xiezhi.mutators.base import Mutator
from xiezhi.registry import registry
from xiezhi.types import XiezhiError


@dataclass(frozen=True)
class Applied:
    """A chain's result: final text, the names actually applied, and the payload.

    The payload is the text after the linguistic steps; strategy/encoding wrappers embed
    it verbatim or losslessly, so intent preservation is measured on it.
    """

    text: str
    chain: list[str]
    payload: str


@lru_cache(maxsize=1)
def recipes() -> dict[str, Any]:
    """The parsed ``strategies/data/tiers.yaml``."""
    text = resources.files("xiezhi.strategies").joinpath("data", "tiers.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@cache
def mutator(name: str) -> Mutator:
    """The (stateless) mutator instance registered as `name`."""
    m: Mutator = registry.create("mutator", name)
    return m


def supports(name: str, lang: str) -> bool:
    """Whether mutator `name` exists and handles `lang`."""
    try:
        return lang in mutator(name).languages
    except XiezhiError:
        return False


def apply_chain(text: str, lang: str, chain: Sequence[str], rng: random.Random) -> Applied:
    """Apply `chain` left to right; mutators that do not handle `lang` are skipped."""
    applied: list[str] = []
    payload = text
    wrapped = False
    for name in chain:
        m = mutator(name)
        if lang not in m.languages:
            continue
        text = m.mutate(text, lang, rng)
        applied.append(name)
        if m.kind == "linguistic" and not wrapped:
            payload = text
        else:
            wrapped = True
    return Applied(text, applied, payload)
