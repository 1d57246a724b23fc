"""Trend: one target's violation rate and over-refusal over time (finished runs, oldest first)."""

from __future__ import annotations

from typing import Any

from xiezhi.report.history import run_row
from xiezhi.report.summary import summarize
from xiezhi.store.base import Store
from xiezhi.types import XiezhiError


def build_trend(store: Store, target: str) -> dict[str, Any]:
    """{"target": ..., "points": [...]} with the change from the previous run on each point."""
    runs = [r for r in store.list_runs(target=target) if r.status == "finished"]
    if not runs:
        known = sorted({r.target for r in store.list_runs()})
        hint = f"; targets with runs: {', '.join(known)}" if known else "; no runs stored yet"
        raise XiezhiError(f"no finished runs for target {target!r}{hint}")
    points: list[dict[str, Any]] = []
    for run in reversed(runs):
        p = run_row(run, summarize(run, store.attempts(run.id)))
        prev = points[-1] if points else None
        p["delta"] = None if prev is None else round(p["violation_rate"] - prev["violation_rate"], 6)
        points.append(p)
    judges = sorted({p["judge"] for p in points})
    return {"target": points[-1]["target"], "points": points, "judges": judges}
