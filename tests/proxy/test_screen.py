"""`StreamScreen`: streamed text is released only after the guard has seen it, minus a hold-back."""

from __future__ import annotations

from xiezhi.guard import Guard, GuardDecision
from xiezhi.guard.policy.loader import parse_policy
from xiezhi.guard.proxy.screen import StreamScreen

CANARY = "OCTOPUS-CANARY-55"


def _guard() -> Guard:
    return Guard(parse_policy({"name": "t", "refusal": {"en": "no"}, "output": [
        {"scanner": "canary", "threshold": 0.6, "action": "block", "options": {"canaries": [CANARY]}},
        {"scanner": "pii", "threshold": 0.6, "action": "redact"}]}))


def _screen(guard: Guard, holdback: int = 32, scan_every: int = 8) -> StreamScreen:
    async def check(text: str) -> GuardDecision:
        return guard.check_output(text)

    return StreamScreen(check, holdback=holdback, scan_every=scan_every)


async def test_char_by_char_canary_never_released() -> None:
    text = "Some harmless text that goes on for a while before it says " + CANARY + " and then more."
    s = _screen(_guard())
    released, blocked = "", None
    for ch in text:
        out, blocked = await s.feed(ch)
        released += out
        if blocked:
            break
    assert blocked is not None and blocked.scanners == ["canary"]
    assert released and text.startswith(released)
    assert "OCTO" not in released and not any(CANARY[:k] in released[-k:] for k in range(1, 6))


async def test_clean_text_fully_released_at_finish() -> None:
    text = "A long answer about gardening. " * 20
    s = _screen(_guard())
    released = ""
    for i in range(0, len(text), 7):
        out, blocked = await s.feed(text[i:i + 7])
        assert blocked is None
        released += out
    assert len(released) <= len(text) - 32  # the hold-back window is still held
    out, blocked = await s.finish()
    assert blocked is None and released + out == text


async def test_redaction_released_from_sanitized_text() -> None:
    text = "Write to bob.smith@example.org for details. " + "More words here. " * 10
    s = _screen(_guard(), holdback=48)
    released = ""
    for i in range(0, len(text), 5):
        out, _ = await s.feed(text[i:i + 5])
        released += out
    out, _ = await s.finish()
    released += out
    assert "bob.smith@example.org" not in released and "[EMAIL]" in released
