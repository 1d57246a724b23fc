"""`xiezhi scan --adaptive`: per seed, search mutation chains until the target rate is reached.

The planner (`xiezhi.strategies.adaptive.AdaptivePlanner`) proposes the next chains to
try from what it has observed; this module sends them through the same pipeline as a
normal scan. Because the planner is deterministic given its observations, a resumed
run replays the stored verdicts into it and sends only what was never stored.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from xiezhi.config import Settings, redact, redact_text
from xiezhi.judges.base import close_judge, create_judge
from xiezhi.planning import conversation_for
from xiezhi.registry import registry
from xiezhi.runner import Pipeline, new_run_id, open_target, progress_bar, resolve_seeds, versions_of
from xiezhi.store.base import Store
from xiezhi.types import Attempt, Run, Seed, XiezhiError, stable_id


def searchable_seeds(seeds: list[Seed], langs: list[str]) -> list[Seed]:
    """The seeds an adaptive search tries to break: harmful requests in `langs`; benign
    look-alikes and factual probes (A.5, judged against a reference answer) are left out."""
    return [s for s in seeds if not s.benign and not s.reference and s.lang in langs]


async def run_adaptive_scan(
    settings: Settings,
    store: Store,
    *,
    target_rate: float = 0.7,
    budget_per_seed: int = 8,
    resume: str | None = None,
    progress: bool = True,
    console: Console | None = None,
) -> Run:
    """Run (or resume) an adaptive scan; the planner's report is stored in the run config."""
    try:
        from xiezhi.strategies.adaptive import AdaptivePlanner
    except ModuleNotFoundError:
        raise XiezhiError("--adaptive needs the mutation engine (xiezhi.strategies.adaptive)") from None
    console = console or Console(stderr=True)
    if resume:
        run_id = store.resolve_run_id(resume)
        run = store.get_run(run_id)
        cfg = dict(run.config)
        stored_settings = dict(cfg.get("settings", {}))
        stored_settings["db"] = settings.db
        settings = Settings(**stored_settings)
        target_rate = float(cfg.get("adaptive", {}).get("target_rate", target_rate))
        budget_per_seed = int(cfg.get("adaptive", {}).get("budget_per_seed", budget_per_seed))
        store.set_status(run_id, "running")
    else:
        run_id = new_run_id()
    seeds = searchable_seeds(resolve_seeds(settings, console), settings.langs)
    if settings.limit is not None:
        seeds = seeds[: settings.limit]
    if not seeds:
        raise XiezhiError("no harmful seeds to search (check --seeds, --langs)")
    judge = create_judge(settings.judge)
    if not resume:
        cfg = {"settings": redact(settings.model_dump()), "n_seeds": len(seeds),
               "adaptive": {"target_rate": target_rate, "budget_per_seed": budget_per_seed}}
        store.create_run(Run(id=run_id, target=settings.target, judge=f"{judge.name}@{judge.version}",
                             n_planned=len(seeds) * budget_per_seed, config=cfg, versions=versions_of(judge)))
    stored = {a.id: a for a in store.attempts(run_id)}
    planner = AdaptivePlanner(seeds, target_rate, budget_per_seed, settings.seed)
    reference_judge = create_judge("reference") if "reference" in registry.names("judge") else None
    target = await open_target(settings)
    index = 0
    try:
        bar = progress_bar(console, progress, label="adaptive")
        with bar:
            task_id = bar.add_task("adaptive", total=len(seeds) * budget_per_seed)
            pipe = Pipeline(settings, store, target, judge, reference_judge, bar, task_id)
            while True:
                batch = planner.next_batch()
                if not batch:
                    break
                todo: list[Attempt] = []
                round_attempts: list[tuple[str, Any, Attempt]] = []
                for seed, mutation in batch:
                    aid = stable_id(seed.id, "adaptive", "+".join(mutation.chain), mutation.text)
                    attempt = stored.get(aid)
                    if attempt is None or attempt.error is not None:
                        attempt = Attempt(
                            id=aid, run_id=run_id, index=index, seed=seed, tier=mutation.tier,
                            chain=list(mutation.chain), prompt=mutation.text,
                            conversation=conversation_for(mutation.text, settings.system_prompt),
                            complexity=mutation.complexity, similarity=mutation.similarity,
                            meta={"adaptive": True},
                        )
                        todo.append(attempt)
                    else:
                        bar.advance(task_id, 1)
                    index += 1
                    round_attempts.append((seed.id, mutation, attempt))
                if todo:
                    await pipe.run(todo)
                    if pipe.aborted:
                        break
                for seed_id, mutation, attempt in round_attempts:
                    unsafe = bool(attempt.verdict and attempt.verdict.unsafe)
                    planner.observe(seed_id, mutation, unsafe)
            bar.update(task_id, total=bar.tasks[0].completed)
    finally:
        await target.aclose()
        await close_judge(judge)
    if pipe.aborted:
        store.finish_run(run_id, "failed")
        raise XiezhiError(
            f"target {redact_text(settings.target)} keeps failing ({pipe.last_error}); "
            f"resume with: xiezhi scan --adaptive --resume {run_id} --db {redact_text(settings.db)}"
        )
    cfg = dict(store.get_run(run_id).config)
    report = planner.report()
    cfg["adaptive_report"] = report
    store.update_run(run_id, n_planned=store.count_attempts(run_id), config=cfg)
    store.finish_run(run_id)
    print_adaptive_report(report, redact_text(settings.target), console)
    return store.get_run(run_id)


def breaking_chains(report: dict[str, Any]) -> list[tuple[str, int]]:
    """The first breaking chains of the report's seeds, most frequent first."""
    counts: dict[str, int] = {}
    for info in report.get("per_seed", {}).values():
        chain = info.get("first_breaking_chain")
        if chain:
            key = " → ".join(chain)
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def print_adaptive_report(report: dict[str, Any], target: str, console: Console) -> None:
    """Which transformations break `target`: per-mutator success rates and the breaking chains."""
    from rich.markup import escape
    from rich.table import Table

    reached = "reached" if report["reached"] else "not reached"
    console.print(f"adaptive 自适应: violation rate {report['violation_rate']:.1%} "
                  f"({report['broken']}/{report['seeds']} seeds broken) — target {report['target_rate']:.0%} "
                  f"{reached}; {report['attempts']} attempts, budget {report['budget_per_seed']}/seed, "
                  f"{report['dropped_low_similarity']} candidate(s) dropped for low intent similarity")
    table = Table(title=f"which transformations break {escape(target)} · 哪些变换攻破了目标")
    for col in ("transformation", "attempts", "broke", "rate"):
        table.add_column(col, justify="left" if col == "transformation" else "right")
    for name, m in report["mutators"].items():
        table.add_row(escape(name), str(m["attempts"]), str(m["successes"]), f"{m['rate']:.0%}")
    if report["mutators"]:
        console.print(table)
    chains = breaking_chains(report)
    if chains:
        console.print("first breaking chain per seed 首个攻破链: " + "; ".join(
            f"{escape(c)} ×{k}" for c, k in chains))
