"""The outcome of one guard check: blocked or not, overall risk, which scanners fired."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from xiezhi.guard.scanners.base import ScanResult

DecisionAction = Literal["allow", "flag", "redact", "block"]

DEFAULT_REFUSALS: dict[str, str] = {
    "zh": "抱歉，该请求触发了安全策略，我无法处理。",
    "en": "Sorry, this request was blocked by the safety policy.",
}


def detect_lang(text: str) -> str:
    """'zh' when a noticeable share of letters are CJK ideographs, else 'en'."""
    cjk = sum(1 for ch in text[:2000] if "\u4e00" <= ch <= "\u9fff")
    letters = sum(1 for ch in text[:2000] if ch.isalpha())
    return "zh" if letters and cjk / letters >= 0.2 else "en"


class GuardDecision(BaseModel):
    """What the guard decided about one text.

    `risk` is the highest risk among the scanners that count towards risk (in [0, 1]);
    `scanners` names those that fired (risk >= their threshold), in policy order;
    `sanitized` is the text after redactions (None when nothing was redacted).
    """

    stage: Literal["input", "output"] = "input"
    blocked: bool = False
    risk: float = Field(default=0.0, ge=0.0, le=1.0)
    action: DecisionAction = "allow"
    scanners: list[str] = Field(default_factory=list)
    results: list[ScanResult] = Field(default_factory=list)
    sanitized: str | None = None
    reasons: list[str] = Field(default_factory=list)
    policy: str = "default"
    lang: str = "en"
    latency_ms: float = 0.0
    refusals: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_REFUSALS))

    def refusal_message(self, lang: str | None = None) -> str:
        """The policy's refusal text in `lang` (default: the language of the checked text)."""
        key = (lang or self.lang or "en").lower().split("-")[0]
        return self.refusals.get(key) or self.refusals.get("en") or DEFAULT_REFUSALS["en"]

    def scores(self) -> dict[str, float]:
        """Scanner name -> risk, for every scanner that ran."""
        return {r.scanner: r.risk for r in self.results}
