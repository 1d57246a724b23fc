"""`pii`: personal data — Chinese resident ID (checksum), mobile numbers, bank/credit cards
(Luhn), e-mail, phone numbers, US SSN. Validation (checksum, Luhn, date) keeps random
digit runs from firing; the `redact` action replaces each finding with a typed placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner
from xiezhi.registry import register

_DIGIT = re.compile(r"\d")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def cn_id_valid(number: str) -> bool:
    """True for an 18-character PRC resident ID with a plausible birth date and a valid check digit."""
    n = number.upper()
    if not re.fullmatch(r"[1-9]\d{16}[\dX]", n):
        return False
    year, month, day = int(n[6:10]), int(n[10:12]), int(n[12:14])
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    total = sum(int(d) * w for d, w in zip(n[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == n[17]


def luhn_valid(number: str) -> bool:
    """The Luhn (mod 10) check used by payment cards."""
    digits = [int(d) for d in re.sub(r"\D", "", number)]
    if len(digits) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _ssn_valid(s: str) -> bool:
    area, group, serial = s.split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


@dataclass(frozen=True)
class Entity:
    name: str
    pattern: re.Pattern[str]
    risk: float
    check: Callable[[str], bool] | None = None


ENTITIES: tuple[Entity, ...] = (
    Entity("cn_id", re.compile(r"(?<![\dA-Za-z])[1-9]\d{5}(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx](?![\dA-Za-z])"),
           0.9, cn_id_valid),
    Entity("card", re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])"), 0.9, luhn_valid),
    Entity("us_ssn", re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"), 0.85, _ssn_valid),
    Entity("email", re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,}"),
           0.6),
    Entity("cn_mobile", re.compile(r"(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)"), 0.7),
    Entity("phone", re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)|\d{3})[ .-]\d{3,4}[ .-]\d{4}(?!\d)"),
           0.6),
)


@register("scanner", "pii", stages=("input", "output"))
class PIIScanner(BaseScanner):
    """Personal data in a prompt or a response; redaction replaces each finding with [TYPE]."""

    name = "pii"

    def __init__(self, entities: list[str] | None = None) -> None:
        known = {e.name for e in ENTITIES}
        unknown = sorted(set(entities or ()) - known)
        if unknown:
            raise ValueError(f"unknown pii entities {unknown}; known: {sorted(known)}")
        self.entities = tuple(e for e in ENTITIES if entities is None or e.name in entities)

    def find(self, text: str) -> list[tuple[int, int, str, float]]:
        """Non-overlapping findings (start, end, entity, risk), strongest entity first."""
        taken: list[tuple[int, int, str, float]] = []
        has_digits = len(_DIGIT.findall(text)) >= 7
        for ent in self.entities:
            if not (("@" in text) if ent.name == "email" else has_digits):
                continue  # cheap prefilter: every other entity needs 7+ digits
            for m in ent.pattern.finditer(text):
                s, e = m.span()
                if ent.check is not None and not ent.check(m.group(0)):
                    continue
                if any(s < te and ts < e for ts, te, _, _ in taken):
                    continue
                taken.append((s, e, ent.name, ent.risk))
        return sorted(taken)

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        found = self.find(text)
        if not found:
            return self.result(0.0)
        parts, last = [], 0
        for s, e, name, _ in found:
            parts.append(text[last:s])
            parts.append(f"[{name.upper()}]")
            last = e
        parts.append(text[last:])
        counts: dict[str, int] = {}
        for _, _, name, _ in found:
            counts[name] = counts.get(name, 0) + 1
        reasons = [f"{name} x{n}" for name, n in sorted(counts.items())]
        return self.result(max(r for *_, r in found), reasons, sanitized="".join(parts))
