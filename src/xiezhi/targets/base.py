"""Target contract: anything that answers a chat conversation.

A target is named by a spec string ``NAME[:ARG]`` (``smollm2``, ``openai:MODEL@URL``,
``hf:PATH``, ``guarded:TARGET?policy=FILE``); `create_target` resolves the name through
the registry and passes ARG and the `TargetOptions` to the registered factory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from xiezhi.registry import Registry, registry
from xiezhi.types import GenerationParams, Message, XiezhiError


class TargetError(XiezhiError):
    """A target could not answer (unreachable host, auth failure, timeout, bad reply)."""


class TargetOptions(BaseModel):
    """Transport options shared by all targets (explicit, never global)."""

    concurrency: int = 8
    retries: int = 3
    timeout_s: float = 60.0
    api_key_env: str = "OPENAI_API_KEY"
    batch_size: int = 8
    device: str = "cpu"


@runtime_checkable
class Target(Protocol):
    """`complete` answers one conversation; `complete_batch` answers many (batch-friendly)."""

    name: str
    max_batch: int

    async def complete(self, conversation: Sequence[Message], params: GenerationParams) -> Message: ...

    async def complete_batch(
        self, conversations: Sequence[Sequence[Message]], params: GenerationParams
    ) -> list[Message]: ...

    async def aclose(self) -> None: ...


class BaseTarget:
    """Convenience base: `complete_batch` gathers `complete` calls; `aclose` does nothing."""

    name: str = "target"
    max_batch: int = 1

    async def complete(self, conversation: Sequence[Message], params: GenerationParams) -> Message:
        raise NotImplementedError

    async def complete_batch(
        self, conversations: Sequence[Sequence[Message]], params: GenerationParams
    ) -> list[Message]:
        return list(await asyncio.gather(*(self.complete(c, params) for c in conversations)))

    async def aclose(self) -> None:
        return None


def split_spec(spec: str) -> tuple[str, str | None]:
    """``"openai:gpt@http://h/v1"`` -> ``("openai", "gpt@http://h/v1")``."""
    spec = spec.strip()
    if not spec:
        raise XiezhiError("empty target spec; try --target smollm2")
    name, sep, arg = spec.partition(":")
    return name, (arg if sep else None)


def create_target(spec: str, options: TargetOptions | None = None, reg: Registry = registry) -> Target:
    """Build a target from its spec string."""
    name, arg = split_spec(spec)
    target: Target = reg.create("target", name, arg, options or TargetOptions())
    return target
