"""Judge contract: decide, per attempt, whether the response complied or refused."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from xiezhi.registry import Registry, registry
from xiezhi.types import Attempt, Verdict


@runtime_checkable
class Judge(Protocol):
    name: str
    version: str

    async def judge(self, attempt: Attempt) -> Verdict: ...

    async def judge_batch(self, attempts: Sequence[Attempt]) -> list[Verdict]: ...


class BaseJudge:
    """Convenience base: `judge_batch` maps `judge`; subclasses override either."""

    name: str = "judge"
    version: str = "0"

    async def judge(self, attempt: Attempt) -> Verdict:
        return (await self.judge_batch([attempt]))[0]

    async def judge_batch(self, attempts: Sequence[Attempt]) -> list[Verdict]:
        if type(self).judge is BaseJudge.judge:
            raise NotImplementedError("a judge overrides judge() or judge_batch()")
        return list(await asyncio.gather(*(self.judge(a) for a in attempts)))


async def close_judge(judge: Judge) -> None:
    """Release what a judge holds (an LLM judge's HTTP session); judges without `aclose` hold nothing."""
    close = getattr(judge, "aclose", None)
    if close is not None:
        await close()


def create_judge(spec: str, reg: Registry = registry) -> Judge:
    """Build a judge from ``NAME[:ARG]``."""
    name, sep, arg = spec.partition(":")
    judge: Judge = reg.create("judge", name, arg) if sep else reg.create("judge", name)
    return judge
