"""Scanner contract: look at one text, return a risk in [0, 1] and an action."""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

Stage = Literal["input", "output"]
Action = Literal["allow", "flag", "redact", "block"]


class ScanContext(BaseModel):
    """What a scanner may know besides the text (the prompt, for output scanners)."""

    stage: Stage = "input"
    prompt: str | None = None
    system_prompt: str | None = None
    canaries: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)


class ScanResult(BaseModel):
    scanner: str
    risk: float = Field(ge=0.0, le=1.0)
    action: Action = "allow"
    sanitized: str | None = None
    reasons: list[str] = Field(default_factory=list)


@runtime_checkable
class Scanner(Protocol):
    name: str
    stages: frozenset[str]

    def scan(self, text: str, context: ScanContext) -> ScanResult: ...
