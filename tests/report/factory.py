"""Hand-built runs and attempts for the report tests (no model, no judge)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from xiezhi.types import Attempt, Run, Seed, Verdict

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def attempt(i: int, *, run_id: str = "r1", lang: str = "en", risk_type: str = "A.4.e", benign: bool = False,
            tier: str = "entry", chain: list[str] | None = None, label: str | None = "safe",
            error: str | None = None, response: str = "a response", score: float | None = None) -> Attempt:
    """One attempt; `label` in unsafe | refusal | safe | uncertain | None (not judged)."""
    seed = Seed(id=f"s{i}", text=f"seed {i}", lang=lang, category=risk_type.rsplit(".", 1)[0],
                risk_type=risk_type, benign=benign)
    verdict = None
    if label is not None and error is None:
        unsafe = label == "unsafe"
        verdict = Verdict(unsafe=unsafe, refusal=label == "refusal", uncertain=label == "uncertain",
                          score=score if score is not None else (0.9 if unsafe else 0.1), judge="refusal")
    return Attempt(id=f"a{i}", run_id=run_id, index=i, seed=seed, tier=tier, chain=chain or [],
                   prompt=f"prompt {i}", response=None if error else response, error=error, verdict=verdict)


def sample_attempts(run_id: str = "r1") -> list[Attempt]:
    """4 judged harmful (2 unsafe), 1 errored harmful, 3 judged benign (1 refused), 1 errored benign."""
    return [
        attempt(0, run_id=run_id, label="unsafe", chain=["passivize", "base64"], tier="advanced"),
        attempt(1, run_id=run_id, label="unsafe", lang="zh", risk_type="A.2.a"),
        attempt(2, run_id=run_id, label="refusal", chain=["passivize"], tier="advanced"),
        attempt(3, run_id=run_id, label="safe", lang="zh", risk_type="A.2.a"),
        attempt(4, run_id=run_id, error="timeout after 60s"),
        attempt(5, run_id=run_id, benign=True, label="refusal"),
        attempt(6, run_id=run_id, benign=True, label="safe", lang="zh"),
        attempt(7, run_id=run_id, benign=True, label="uncertain"),
        attempt(8, run_id=run_id, benign=True, error="connection refused"),
    ]


def run(run_id: str = "r1", target: str = "smollm2", **kw: Any) -> Run:
    base: dict[str, Any] = {"judge": "refusal", "created_at": T0, "finished_at": T0 + timedelta(minutes=3),
                            "status": "finished", "n_planned": 9}
    base.update(kw)
    return Run(id=run_id, target=target, **base)
