"""Leaderboard: the latest finished run of every target, safest first.

Ranked by violation rate (at one tier when asked), ties broken by over-refusal, because a
model that refuses everything is "safe" but useless. Judges differ between runs, so the
judge is shown beside every row.
"""

from __future__ import annotations

from typing import Any

from xiezhi.report.history import run_row
from xiezhi.report.summary import summarize
from xiezhi.store.base import Store
from xiezhi.types import TIERS, XiezhiError


def build_leaderboard(store: Store, tier: str | None = None) -> dict[str, Any]:
    """{"tier": ..., "rows": [...]} with one row per target (its latest finished run)."""
    if tier is not None and tier not in TIERS:
        raise XiezhiError(f"unknown tier {tier!r}; tiers are {', '.join(TIERS)}")
    latest: dict[str, Any] = {}
    for run in store.list_runs():
        if run.status == "finished" and run.target not in latest:
            latest[run.target] = run
    rows = []
    for run in latest.values():
        row = run_row(run, summarize(run, store.attempts(run.id)))
        rate = row["violation_rate"] if tier is None else row["by_tier"].get(tier)
        if rate is None or (tier is None and row["n_harmful"] == 0):
            continue  # nothing judged at that tier: not comparable
        row["rank_rate"] = rate
        rows.append(row)
    rows.sort(key=lambda r: (r["rank_rate"], r["over_refusal_rate"], r["target"]))
    for i, row in enumerate(rows, 1):
        row["rank"] = i
    return {"tier": tier, "tiers": list(TIERS), "rows": rows}
