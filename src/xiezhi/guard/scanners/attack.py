"""Shared logic of the `injection` and `jailbreak` scanners: rules + learned head over every view.

The text is normalised first (invisible characters, confusables, splitting, leetspeak) and
decoded payloads (base64, hex, rot13) become extra views; Chinese text also gets a pinyin
view, which catches homophone substitutions (``乎略之前的指令``) and prompts typed in pinyin.
The risk is the worst view's noisy-OR of rule risk and head probability, raised a little by evasion
signals (hiding something is itself suspicious).
"""

from __future__ import annotations

import functools
import re

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner, cached_normalize, noisy_or
from xiezhi.guard.scanners.rules import Rule, match_rules
from xiezhi.guard.scanners.textmodel import shared_heads

_CJK = re.compile(r"[\u4e00-\u9fff]")


_TONES = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")


@functools.lru_cache(maxsize=1)
def _pinyin_table() -> dict[str, str]:
    """Character -> tone-less pinyin (first reading), from pypinyin's single-character table."""
    from pypinyin.pinyin_dict import pinyin_dict

    return {chr(cp): f" {p.split(',')[0].translate(_TONES)} " for cp, p in pinyin_dict.items()}


@functools.lru_cache(maxsize=64)
def pinyin_view(text: str) -> str:
    """Tone-less pinyin of the Chinese characters in `text` ('' when there are none).

    A per-character table lookup (no word segmentation): fast enough for long prompts, and
    homophones map to the same syllables, which is the point."""
    if not _CJK.search(text):
        return ""
    table = _pinyin_table()
    return " ".join("".join(table.get(ch, ch) for ch in text).split())


class AttackScanner(BaseScanner):
    """Risk that a prompt attacks the model (subclasses pick the rules and the head)."""

    stages = frozenset({"input"})
    head: str = "injection"
    rules: tuple[Rule, ...] = ()

    def __init__(self, use_model: bool = True, signal_weight: float = 0.5) -> None:
        self.use_model = use_model
        self.signal_weight = signal_weight

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        norm = cached_normalize(text)
        heads = shared_heads() if self.use_model else None
        best, reasons = 0.0, []
        for view, body in norm.all_views():
            rule_risk, names = match_rules(body, self.rules)
            model = heads.predict(body)[self.head] if heads is not None else 0.0
            risk = noisy_or(rule_risk, model)
            if view != "text" and risk >= 0.5:
                risk = noisy_or(risk, 0.3)  # a hidden attack is worse than a plain one
            if risk > best:
                best = risk
                reasons = [f"{view}: rule {n}" for n in names]
                if model >= 0.5:
                    reasons.append(f"{view}: model {self.head} p={model:.2f}")
        pinyin = pinyin_view(norm.text)
        if pinyin:
            rule_risk, names = match_rules(pinyin, tuple(r for r in self.rules if r.name.startswith("pinyin")))
            if rule_risk > best:
                best, reasons = rule_risk, [f"pinyin: rule {n}" for n in names]
        if norm.signals:
            sig = max(norm.signals.values()) * self.signal_weight
            best = noisy_or(best, sig)
            reasons += [f"evasion: {k}" for k in sorted(norm.signals)]
        return self.result(best, reasons)
