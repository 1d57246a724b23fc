"""Strategy contract: a recipe of mutators that defines a difficulty tier."""

from __future__ import annotations

import random
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from xiezhi.types import Tier


class Mutation(BaseModel):
    """The result of applying a strategy to one seed text."""

    text: str
    chain: list[str]
    tier: Tier
    complexity: float | None = None
    similarity: float | None = None


@runtime_checkable
class Strategy(Protocol):
    name: str
    tier: Tier

    def apply(self, text: str, lang: str, rng: random.Random) -> Mutation: ...
