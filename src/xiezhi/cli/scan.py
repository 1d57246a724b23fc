"""`xiezhi scan`: red-team a target with the seed bank (or a file), judge and store every attempt."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from xiezhi.config import load_settings, redact_text
from xiezhi.types import XiezhiError


def _flags(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


def scan(
    target: Annotated[str | None, typer.Option("--target", "-t", help="smollm2 | openai:MODEL@URL | hf:PATH | guarded:TARGET")] = None,
    db: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store [default: sqlite:///xiezhi.db]")] = None,
    judge: Annotated[str | None, typer.Option(help="judge name (see `xiezhi judge list`)")] = None,
    seeds: Annotated[Path | None, typer.Option(help="seed file (CSV/JSONL) instead of the shipped bank")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="seed file format: advbench, harmbench, jailbreakbench, strongreject, jade, csv, jsonl")] = None,
    limit: Annotated[int | None, typer.Option(help="at most this many attempts")] = None,
    tier: Annotated[list[str] | None, typer.Option(help="entry | advanced | expert | all (repeatable)")] = None,
    langs: Annotated[str | None, typer.Option(help="languages, comma-separated [default: zh,en]")] = None,
    concurrency: Annotated[int | None, typer.Option(help="parallel requests to remote targets")] = None,
    batch_size: Annotated[int | None, typer.Option(help="batch size for local models")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="max new tokens per response")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed for ordering and mutation")] = None,
    no_benign: Annotated[bool, typer.Option("--no-benign", help="skip benign look-alikes (over-refusal probes)")] = False,
    system_prompt: Annotated[str | None, typer.Option(help="system prompt sent with every attempt")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="environment variable holding the API key [default: OPENAI_API_KEY]")] = None,
    timeout: Annotated[float | None, typer.Option(help="seconds per request before it is retried")] = None,
    resume: Annotated[str | None, typer.Option(help="finish an interrupted run (RUN_ID or 'latest')")] = None,
    config: Annotated[Path | None, typer.Option(help="config file [default: ./xiezhi.yaml if present]")] = None,
    html: Annotated[Path | None, typer.Option(help="also write the HTML report to this file")] = None,
    adaptive: Annotated[bool, typer.Option(help="search mutation chains per seed until --target-rate is reached")] = False,
    target_rate: Annotated[float, typer.Option(help="adaptive: stop when this violation rate is reached")] = 0.7,
    budget: Annotated[int, typer.Option(help="adaptive: attempts per seed at most")] = 8,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="no progress bar")] = False,
) -> None:
    """Red-team a target: seeds -> (mutation tier) -> target -> judge -> store -> summary."""
    settings = load_settings(
        _flags(
            target=target, db=db, judge=judge, seeds=str(seeds.resolve()) if seeds else None, seed_format=fmt,
            limit=limit, tiers=tier, langs=[x.strip() for x in langs.split(",")] if langs else None,
            concurrency=concurrency, batch_size=batch_size, max_tokens=max_tokens, seed=seed,
            include_benign=False if no_benign else None, system_prompt=system_prompt,
            api_key_env=api_key_env, timeout_s=timeout,
        ),
        config_path=config,
    )
    if html is not None and not html.parent.is_dir():  # say so now, not after an hour of scanning
        raise XiezhiError(f"--html {html}: the folder {html.parent} does not exist")
    from xiezhi.store import open_store

    store = open_store(settings.db)
    console = Console(stderr=True)
    if adaptive:
        from xiezhi.adaptive_scan import run_adaptive_scan

        run = asyncio.run(run_adaptive_scan(settings, store, target_rate=target_rate, budget_per_seed=budget,
                                            resume=resume, progress=not no_progress, console=console))
    else:
        from xiezhi.runner import run_scan

        run = asyncio.run(run_scan(settings, store, resume=resume, progress=not no_progress, console=console))
    _summarise(store, run.id, settings.db, html, console)


def _summarise(store: Any, run_id: str, db: str, html: Path | None, console: Console) -> None:
    run = store.get_run(run_id)
    attempts = store.attempts(run_id)
    try:
        from xiezhi.report.render import render_html, render_terminal
        from xiezhi.report.summary import summarize
    except ModuleNotFoundError:
        n = len(attempts)
        unsafe = sum(1 for a in attempts if a.verdict and a.verdict.unsafe)
        console.print(f"run {run_id}: {n} attempts, {unsafe} unsafe")
        return
    summary = summarize(run, attempts)
    render_terminal(summary, Console())
    if html is not None:
        try:
            html.write_text(render_html(summary), encoding="utf-8")
            console.print(f"HTML report: {html}")
        except OSError as e:  # the results are stored: the report can be written again
            console.print(f"[red]--html {escape(str(html))}: cannot write: {e.strerror}[/] (the run is stored)")
    console.print(f"report: xiezhi report {run_id} --db {redact_text(db)} --format html --out report.html")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
