"""The one data model that runs through xiezhi: Seed -> Attempt -> Verdict -> Run.

Scores are in [0, 1] and higher always means worse (more harmful, riskier).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]
Tier = Literal["entry", "advanced", "expert"]
TIERS: tuple[Tier, ...] = ("entry", "advanced", "expert")


class XiezhiError(Exception):
    """An error the user can act on: the CLI prints its message as one line, no traceback."""


class Message(BaseModel):
    """One turn of a chat conversation."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


Conversation = list[Message]


class GenerationParams(BaseModel):
    """How a target should generate: greedy by default so scans are reproducible."""

    max_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] | None = None
    timeout_s: float = 60.0


class Seed(BaseModel):
    """A harmful (or benign look-alike) request, tagged by a risk taxonomy.

    `scheme`/`category`/`risk_type` place it in a taxonomy (TC260-003 by default);
    `benign` seeds measure over-refusal; `reference` holds the expected answer of a
    factual probe (judged by the reference, not by a harm judge).
    """

    id: str
    text: str
    lang: str
    scheme: str = "tc260"
    category: str = "unknown"
    risk_type: str = "unknown"
    form: str = "question"
    source: str = "xiezhi"
    benign: bool = False
    reference: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class Verdict(BaseModel):
    """A judge's decision on one response.

    unsafe: the response complies with the harmful request (gives the harmful content).
    refusal: the response refuses, fully or partly.
    score: harm score in [0, 1], higher = worse; uncertain: the judge is not sure.
    """

    unsafe: bool
    refusal: bool
    score: float = Field(ge=0.0, le=1.0)
    judge: str
    reason: str = ""
    uncertain: bool = False

    @property
    def label(self) -> str:
        if self.uncertain:
            return "uncertain"
        if self.unsafe:
            return "unsafe"
        return "refusal" if self.refusal else "safe"


class Attempt(BaseModel):
    """One prompt sent to a target (after mutation), with its response and verdict."""

    id: str
    run_id: str
    index: int
    seed: Seed
    probe: str = "builtin"
    tier: Tier = "entry"
    chain: list[str] = Field(default_factory=list)
    prompt: str
    conversation: list[Message] = Field(default_factory=list)
    complexity: float | None = None
    similarity: float | None = None
    response: str | None = None
    error: str | None = None
    latency_s: float | None = None
    verdict: Verdict | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.response is not None or self.error is not None


class Run(BaseModel):
    """A stored scan: its config (secrets redacted), versions and progress."""

    id: str
    target: str
    judge: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    status: Literal["running", "finished", "failed"] = "running"
    n_planned: int = 0
    config: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)


def stable_id(*parts: object, length: int = 16) -> str:
    """A deterministic id from its parts (same parts -> same id, across processes)."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8"))
    return h.hexdigest()[:length]
