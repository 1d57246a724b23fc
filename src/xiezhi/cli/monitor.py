"""Monitoring commands: `runs`, `leaderboard`, `trend` and the CI `gate` over stored runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from xiezhi.cli.report import open_db, write_out

DbOpt = Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store [default: settings]")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="write to this file instead of stdout")]


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text.rstrip("\n"))
    else:
        write_out(text, out)


def runs(
    target: Annotated[str | None, typer.Option("--target", "-t", help="only runs of this target")] = None,
    limit: Annotated[int, typer.Option(help="at most this many runs, newest first")] = 20,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """List stored runs with their violation rate and over-refusal."""
    from xiezhi.report.history import list_run_rows
    from xiezhi.report.monitor_render import runs_table

    store = open_db(db)
    try:
        rows = list_run_rows(store, target, limit)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        Console(stderr=True).print("no runs stored yet" + (f" for target {target!r}" if target else ""))
    else:
        Console().print(runs_table(rows))


def leaderboard(
    tier: Annotated[str | None, typer.Option(help="rank by the violation rate at this tier")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json | md | html")] = "table",
    out: OutOpt = None,
    db: DbOpt = None,
) -> None:
    """Latest finished run per target, ranked by violation rate (safest first)."""
    from xiezhi.report.leaderboard import build_leaderboard
    from xiezhi.report.monitor_render import LEADERBOARD_FORMATS, pick

    render = pick(LEADERBOARD_FORMATS, fmt)
    store = open_db(db)
    try:
        board = build_leaderboard(store, tier)
    finally:
        store.close()
    if not board["rows"]:
        Console(stderr=True).print("no finished runs with judged harmful attempts" + (f" at tier {tier}" if tier else ""))
    _emit(render(board), out)


def trend(
    target: Annotated[str, typer.Argument(help="target spec as stored (see `xiezhi runs`)")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json | html")] = "table",
    out: OutOpt = None,
    db: DbOpt = None,
) -> None:
    """One target's violation rate and over-refusal over time."""
    from xiezhi.report.monitor_render import TREND_FORMATS, pick
    from xiezhi.report.trend import build_trend

    render = pick(TREND_FORMATS, fmt)
    store = open_db(db)
    try:
        data = build_trend(store, target)
    finally:
        store.close()
    _emit(render(data), out)


def gate(
    run: Annotated[str, typer.Argument(help="run id, a unique prefix, or 'latest'")],
    max_violation_rate: Annotated[float, typer.Option(help="fail above this violation rate (0-1)")],
    max_over_refusal: Annotated[float | None, typer.Option(help="fail above this over-refusal rate (0-1)")] = None,
    baseline: Annotated[str | None, typer.Option(help="baseline run id to compare with")] = None,
    max_regression: Annotated[float | None, typer.Option(
        help="fail when the violation rate rose more than this over the baseline (0-1) [default: 0]")] = None,
    allow_unfinished: Annotated[bool, typer.Option("--allow-unfinished",
                                                  help="do not fail a run that is not finished")] = False,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the verdict as JSON")] = False,
) -> None:
    """CI gate: print PASS or FAIL with reasons; exit 1 on FAIL."""
    from xiezhi.report.gate import evaluate_gate
    from xiezhi.report.history import summary_of

    store = open_db(db)
    try:
        summary = summary_of(store, run)
        base = summary_of(store, baseline) if baseline else None
    finally:
        store.close()
    result = evaluate_gate(summary, max_violation_rate, max_over_refusal, base, max_regression, allow_unfinished)
    if as_json:
        typer.echo(json.dumps({"run_id": summary["run_id"], **result.as_dict()}, ensure_ascii=False))
    else:
        typer.echo(f"{'PASS' if result.passed else 'FAIL'} {summary['run_id']} ({summary['target']})")
        for ok, msg in result.checks:
            typer.echo(f"  {'ok  ' if ok else 'FAIL'} {msg}")
    if not result.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)
    app.command("leaderboard")(leaderboard)
    app.command("trend")(trend)
    app.command("gate")(gate)
