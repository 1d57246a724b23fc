"""`guarded:TARGET[?policy=FILE]` — any target behind xiezhi's guard.

The last user turn is checked before the model is called: a blocked prompt gets the
policy's refusal and the inner target is never called; a redacted prompt is sent redacted.
The response is checked too (with the prompt as context): blocked -> refusal, redacted ->
sanitized text. `decisions` keeps the most recent (input, output) decisions for inspection.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xiezhi.config import redact_text
from xiezhi.registry import register
from xiezhi.targets.base import BaseTarget, Target, TargetOptions, create_target
from xiezhi.types import GenerationParams, Message, XiezhiError

if TYPE_CHECKING:
    from xiezhi.guard import Guard, GuardDecision


@dataclass
class GuardLogEntry:
    """What the guard decided for one call (output is None when the input was blocked)."""

    input: GuardDecision
    output: GuardDecision | None


def parse_guarded_spec(arg: str | None) -> tuple[str, str | None]:
    """``"smollm2?policy=strict.yaml"`` -> ``("smollm2", "strict.yaml")``."""
    if not arg or not arg.strip():
        raise XiezhiError("guarded target needs an inner target: guarded:TARGET[?policy=FILE], e.g. guarded:smollm2")
    inner, sep, query = arg.rpartition("?")
    if not sep or not query.startswith("policy="):
        key = query.split("=", 1)[0].strip().lower() if sep else ""
        if key.startswith("pol") or (sep and "://" not in inner and "=" in query):
            # a misspelt option ("?polcy=strict") would otherwise leave the guard on its default
            # policy and hand "?polcy=..." to the inner target as part of its spec
            raise XiezhiError(f"guarded:{redact_text(arg)}: unknown option {key!r}; "
                              "the only option is ?policy=NAME_OR_FILE")
        return arg.strip(), None
    policy = query[len("policy="):].strip()
    if not policy:
        raise XiezhiError(f"guarded:{arg}: empty policy= value")
    return inner.strip(), policy


class GuardedTarget(BaseTarget):
    """Wraps a target with a `Guard` on its input and output."""

    def __init__(self, inner: Target, guard: Guard, log_size: int = 256) -> None:
        self.inner = inner
        self.guard = guard
        self.name = f"guarded:{inner.name}"
        self.max_batch = inner.max_batch
        self.decisions: deque[GuardLogEntry] = deque(maxlen=log_size)

    @staticmethod
    def _prompt(conversation: Sequence[Message]) -> str:
        for m in reversed(conversation):
            if m.role == "user":
                return m.content
        return conversation[-1].content if conversation else ""

    def _pre(self, conversation: Sequence[Message]) -> tuple[GuardDecision, list[Message]]:
        prompt = self._prompt(conversation)
        decision = self.guard.check_input(prompt)
        conv = list(conversation)
        if decision.sanitized is not None:
            for i in range(len(conv) - 1, -1, -1):
                if conv[i].role == "user":
                    conv[i] = Message(role="user", content=decision.sanitized)
                    break
        return decision, conv

    def _post(self, pre: GuardDecision, prompt: str, reply: Message) -> Message:
        out = self.guard.check_output(reply.content, prompt=prompt)
        self.decisions.append(GuardLogEntry(pre, out))
        if out.blocked:
            return Message(role="assistant", content=out.refusal_message(pre.lang))
        if out.sanitized is not None:
            return Message(role="assistant", content=out.sanitized)
        return reply

    async def complete(self, conversation: Sequence[Message], params: GenerationParams) -> Message:
        return (await self.complete_batch([conversation], params))[0]

    async def complete_batch(
        self, conversations: Sequence[Sequence[Message]], params: GenerationParams
    ) -> list[Message]:
        pres = await asyncio.gather(*(asyncio.to_thread(self._pre, c) for c in conversations))
        results: list[Message | None] = [None] * len(conversations)
        todo: list[int] = []
        for i, (decision, _) in enumerate(pres):
            if decision.blocked:
                self.decisions.append(GuardLogEntry(decision, None))
                results[i] = Message(role="assistant", content=decision.refusal_message())
            else:
                todo.append(i)
        if todo:
            replies = await self.inner.complete_batch([pres[i][1] for i in todo], params)
            posts = await asyncio.gather(*(
                asyncio.to_thread(self._post, pres[i][0], self._prompt(pres[i][1]), r)
                for i, r in zip(todo, replies, strict=True)
            ))
            for i, msg in zip(todo, posts, strict=True):
                results[i] = msg
        return [m for m in results if m is not None]

    async def aclose(self) -> None:
        await self.inner.aclose()


@register("target", "guarded", description="any target behind xiezhi's guard: guarded:TARGET[?policy=FILE]")
def guarded_target(arg: str | None, options: TargetOptions) -> GuardedTarget:
    """Factory for ``guarded:TARGET[?policy=FILE]``."""
    from xiezhi.guard import Guard

    inner_spec, policy = parse_guarded_spec(arg)
    if inner_spec.split(":", 1)[0] == "guarded":
        raise XiezhiError("guarded:guarded:... — a target is guarded once")
    guard = Guard.from_policy(policy)
    return GuardedTarget(create_target(inner_spec, options), guard)
