"""`injection`: prompt injection — instruction override, prompt extraction, fake system turns."""

from __future__ import annotations

from xiezhi.guard.scanners.attack import AttackScanner
from xiezhi.guard.scanners.rules import INJECTION_RULES
from xiezhi.registry import register


@register("scanner", "injection", stages=("input",))
class InjectionScanner(AttackScanner):
    """Prompt injection in Chinese, English and German, through encodings and invisible characters."""

    name = "injection"
    head = "injection"
    rules = INJECTION_RULES
