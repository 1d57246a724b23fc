"""`jailbreak`: persona and role-play jailbreaks (DAN, developer mode, "no restrictions")."""

from __future__ import annotations

from xiezhi.guard.scanners.attack import AttackScanner
from xiezhi.guard.scanners.rules import JAILBREAK_RULES
from xiezhi.registry import register


@register("scanner", "jailbreak", stages=("input",))
class JailbreakScanner(AttackScanner):
    """Jailbreak prompts in Chinese and English: personas, developer mode, no-limits framing."""

    name = "jailbreak"
    head = "jailbreak"
    rules = JAILBREAK_RULES
