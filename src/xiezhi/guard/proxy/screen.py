"""What the proxy checks and how: the fresh input messages, the output, and streamed text.

Input: the last user message and any tool results after it (indirect injection arrives
there), with the system prompt as context. Output: each choice, with the prompt and system
prompt as context (so system-prompt leaks are caught). Streams: `StreamScreen` releases
text only after the guard has seen it, holding back a window at the end.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xiezhi.guard.scanners.base import ScanContext
from xiezhi.serve.openai_api import ChatRequest, content_text

if TYPE_CHECKING:
    from xiezhi.guard import Guard, GuardDecision


@dataclass
class InputView:
    """The parts of a request the guard looks at."""

    prompt: str
    system: str | None
    fresh: list[tuple[int, str]] = field(default_factory=list)  # (message index, text) to check

    @property
    def size(self) -> int:
        """Characters the input check reads."""
        return sum(len(t) for _, t in self.fresh) + len(self.system or "")


@dataclass
class InputCheck:
    """The input decisions: the first blocking one (if any), and redactions by message index."""

    blocked: GuardDecision | None
    decisions: list[GuardDecision]
    redactions: dict[int, str]

    @property
    def main(self) -> GuardDecision:
        return self.blocked or self.decisions[0]


def input_view(req: ChatRequest) -> InputView:
    """Last user message (+ tool messages after it) to check; system messages as context."""
    msgs = req.messages
    system = "\n".join(content_text(m.content) for m in msgs if m.role in ("system", "developer")) or None
    last_user = max((i for i, m in enumerate(msgs) if m.role == "user"), default=-1)
    if last_user >= 0:
        idx = [last_user] + [i for i in range(last_user + 1, len(msgs)) if msgs[i].role in ("tool", "function")]
    else:
        idx = [len(msgs) - 1]
    fresh = [(i, content_text(msgs[i].content)) for i in idx]
    return InputView(prompt=fresh[0][1], system=system, fresh=fresh)


def check_input(guard: Guard, view: InputView) -> InputCheck:
    """Check each fresh message (blocking stops at the first block); runs in a worker thread."""
    decisions: list[GuardDecision] = []
    redactions: dict[int, str] = {}
    for i, text in view.fresh:
        ctx = ScanContext(stage="input", system_prompt=view.system or guard.system_prompt, canaries=guard.canaries)
        d = guard.check_input(text, context=ctx)
        decisions.append(d)
        if d.blocked:
            return InputCheck(d, decisions, redactions)
        if d.sanitized is not None:
            redactions[i] = d.sanitized
    return InputCheck(None, decisions, redactions)


def check_output(guard: Guard, view: InputView, texts: list[str]) -> list[GuardDecision]:
    """Check each response text with the prompt and system prompt as context."""
    out = []
    for text in texts:
        ctx = ScanContext(stage="output", prompt=view.prompt, system_prompt=view.system or guard.system_prompt,
                          canaries=guard.canaries)
        out.append(guard.check_output(text, prompt=view.prompt, context=ctx))
    return out


def apply_redactions(body: dict[str, Any], redactions: dict[int, str]) -> None:
    """Replace redacted messages' content in the raw request body (in place)."""
    for i, text in redactions.items():
        body["messages"][i]["content"] = text


def xiezhi_info(d: GuardDecision) -> dict[str, Any]:
    """The ``xiezhi`` field added to responses: what the guard decided and which scanners fired."""
    return {"stage": d.stage, "blocked": d.blocked, "action": d.action, "risk": d.risk,
            "scanners": list(d.scanners), "policy": d.policy}


class StreamScreen:
    """Accumulate streamed text; release only guard-checked text, minus a hold-back window.

    `feed` returns (text to send now, blocking decision or None); `finish` checks the whole
    text and releases the rest. Redacted text is released from the sanitized version.
    """

    def __init__(self, check: Callable[[str], Awaitable[GuardDecision]], holdback: int = 64,
                 scan_every: int = 64) -> None:
        self.check = check
        self.holdback = holdback
        self.scan_every = scan_every
        self.text = ""
        self.released = 0
        self.scanned = 0
        self.last: GuardDecision | None = None

    async def feed(self, delta: str) -> tuple[str, GuardDecision | None]:
        self.text += delta
        due = max(self.scan_every, self.scanned // 4)
        if len(self.text) - self.scanned < due:
            return "", None
        return await self._scan(final=False)

    async def finish(self) -> tuple[str, GuardDecision | None]:
        if self.last is not None and self.scanned == len(self.text):
            return self._release(self.last, final=True), None
        return await self._scan(final=True)

    async def _scan(self, final: bool) -> tuple[str, GuardDecision | None]:
        d = await self.check(self.text)
        self.scanned, self.last = len(self.text), d
        if d.blocked:
            return "", d
        return self._release(d, final), None

    def _release(self, d: GuardDecision, final: bool) -> str:
        view = d.sanitized if d.sanitized is not None else self.text
        upto = len(view) if final else max(0, len(view) - self.holdback)
        if upto <= self.released:
            return ""
        out, self.released = view[self.released:upto], upto
        return out
