"""Attack contract: a search for a prompt that makes a target violate (PAIR, TAP, GCG, ...)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from xiezhi.judges.base import Judge
from xiezhi.targets.base import Target
from xiezhi.types import Attempt


class AttackResult(BaseModel):
    objective: str
    success: bool
    best: Attempt | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    queries: int = 0


@runtime_checkable
class Attack(Protocol):
    name: str

    async def run(self, objective: str, target: Target, judge: Judge, budget: int) -> AttackResult: ...
