"""Helpers shared by the built-in scanners (the contract itself lives in `base.py`)."""

from __future__ import annotations

import functools
import math

from xiezhi.guard.scanners.base import Action, ScanContext, ScanResult
from xiezhi.guard.scanners.normalize import Normalized, normalize


class BaseScanner:
    """Convenience base: a name, the stages it suits, and a clamped result builder."""

    name: str = "scanner"
    stages: frozenset[str] = frozenset({"input", "output"})

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        raise NotImplementedError

    def result(self, risk: float, reasons: list[str] | None = None, sanitized: str | None = None,
               action: Action = "allow") -> ScanResult:
        risk = 0.0 if math.isnan(risk) else min(1.0, max(0.0, float(risk)))
        return ScanResult(scanner=self.name, risk=round(risk, 4), action=action, sanitized=sanitized,
                          reasons=reasons or [])


@functools.lru_cache(maxsize=64)
def cached_normalize(text: str) -> Normalized:
    """`normalize`, memoised so several scanners on one text normalise it once (read-only result)."""
    return normalize(text)


def noisy_or(*risks: float) -> float:
    keep = 1.0
    for r in risks:
        keep *= 1.0 - min(1.0, max(0.0, r))
    return 1.0 - keep


def sigmoid(z: float) -> float:
    """The logistic function, clipped at |z| = 30."""
    return 1.0 / (1.0 + math.exp(-min(30.0, max(-30.0, z))))


def logit_of(p: float) -> float:
    """The inverse of `sigmoid` for p in (0, 1)."""
    return math.log(p / (1.0 - p))
