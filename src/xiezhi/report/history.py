"""Reading stored runs back as summaries: the basis of `runs`, leaderboard, trend and gate."""

from __future__ import annotations

from typing import Any

from xiezhi.report.summary import summarize
from xiezhi.store.base import Store
from xiezhi.types import TIERS, Run


def summary_of(store: Store, ref: str, scheme: str = "tc260") -> dict[str, Any]:
    """Summary of the run `ref` (an id, a unique prefix or ``latest``)."""
    run_id = store.resolve_run_id(ref)
    return summarize(store.get_run(run_id), store.attempts(run_id), scheme)


def run_row(run: Run, summary: dict[str, Any]) -> dict[str, Any]:
    """The compact record of one run used in listings, leaderboards and trends."""
    return {
        "run_id": run.id,
        "created_at": summary["created_at"],
        "target": summary["target"],
        "judge": run.judge,
        "status": run.status,
        "n_attempts": summary["n_attempts"],
        "n_harmful": summary["n_harmful"],
        "n_unsafe": summary["n_unsafe"],
        "n_errors": summary["n_errors"],
        "violation_rate": summary["violation_rate"],
        "n_benign": summary["n_benign"],
        "over_refusal_rate": summary["over_refusal_rate"],
        "by_tier": {t: (g["violation_rate"] if g["n"] else None)
                    for t in TIERS if (g := summary["by_tier"].get(t)) is not None},
    }


def list_run_rows(store: Store, target: str | None = None, limit: int | None = 20) -> list[dict[str, Any]]:
    """Newest first, with each run's headline rates."""
    rows = []
    for run in store.list_runs(target=target, limit=limit):
        rows.append(run_row(run, summarize(run, store.attempts(run.id))))
    return rows
