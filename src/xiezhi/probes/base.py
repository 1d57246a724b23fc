"""Probe contract: a named set of seeds with a goal, taxonomy tags and a default judge."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from xiezhi.types import Seed


@runtime_checkable
class Probe(Protocol):
    name: str
    goal: str
    default_judge: str

    def seeds(self) -> Iterable[Seed]: ...
