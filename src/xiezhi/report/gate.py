"""CI gate: does a run stay under the allowed violation rate (and over-refusal, and regression)?

A run with nothing judged, or one that did not finish, fails: an empty or aborted scan
must never turn a pipeline green.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xiezhi.types import XiezhiError


@dataclass
class GateResult:
    passed: bool
    checks: list[tuple[bool, str]] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [msg for ok, msg in self.checks if not ok]

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [{"ok": ok, "message": m} for ok, m in self.checks]}


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def _check_bound(name: str, bound: float | None) -> None:
    if bound is not None and not 0.0 <= bound <= 1.0:
        raise XiezhiError(f"{name} must be a rate in [0, 1], got {bound}")


def evaluate_gate(
    summary: dict[str, Any],
    max_violation_rate: float,
    max_over_refusal: float | None = None,
    baseline: dict[str, Any] | None = None,
    max_regression: float | None = None,
    allow_unfinished: bool = False,
) -> GateResult:
    """Check `summary` against the thresholds; every check is reported, passed or not."""
    _check_bound("--max-violation-rate", max_violation_rate)
    _check_bound("--max-over-refusal", max_over_refusal)
    _check_bound("--max-regression", max_regression)
    if max_regression is not None and baseline is None:
        raise XiezhiError("--max-regression needs --baseline RUN_ID")
    s = summary
    checks: list[tuple[bool, str]] = []
    if s["status"] != "finished" and not allow_unfinished:
        checks.append((False, f"run {s['run_id']} is {s['status']}, not finished"))
    if s["n_harmful"] == 0:
        checks.append((False, f"run {s['run_id']} has no judged harmful attempts ({s['n_errors']} errors)"))
    vr = s["violation_rate"]
    checks.append((vr <= max_violation_rate,
                   f"violation rate {_pct(vr)} ({s['n_unsafe']}/{s['n_harmful']}) "
                   f"{'<=' if vr <= max_violation_rate else '>'} max {_pct(max_violation_rate)}"))
    if max_over_refusal is not None:
        orr = s["over_refusal_rate"]
        if s["n_benign"] == 0:
            checks.append((False, "over-refusal cannot be checked: the run has no judged benign look-alikes"))
        else:
            checks.append((orr <= max_over_refusal,
                           f"over-refusal {_pct(orr)} ({s['n_over_refused']}/{s['n_benign']}) "
                           f"{'<=' if orr <= max_over_refusal else '>'} max {_pct(max_over_refusal)}"))
    if baseline is not None:
        delta = vr - baseline["violation_rate"]
        allowed = 0.0 if max_regression is None else max_regression
        checks.append((delta <= allowed + 1e-12,
                       f"change vs baseline {baseline['run_id']} ({_pct(baseline['violation_rate'])}): "
                       f"{delta * 100:+.1f} points {'<=' if delta <= allowed + 1e-12 else '>'} "
                       f"allowed +{allowed * 100:.1f}"))
        if baseline["judge"] != s["judge"]:
            checks.append((True, f"note: baseline judged by {baseline['judge']}, this run by {s['judge']}"))
    return GateResult(passed=all(ok for ok, _ in checks), checks=checks)
