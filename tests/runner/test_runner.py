"""The runner plans deterministically, judges, stores, resumes and aborts on a dead target."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from xiezhi.config import Settings
from xiezhi.planning import plan_attempts
from xiezhi.registry import registry
from xiezhi.runner import run_scan
from xiezhi.store import open_store
from xiezhi.targets.base import BaseTarget, TargetError, TargetOptions
from xiezhi.types import GenerationParams, Message, Seed, XiezhiError

# A scripted target for unit tests of the runner only (never as evidence a feature works).
CALLS: list[str] = []


class ScriptedTarget(BaseTarget):
    name = "scripted"

    def __init__(self, arg: str | None, options: TargetOptions) -> None:
        self.mode = arg or "comply"

    async def complete(self, conversation: Sequence[Message], params: GenerationParams) -> Message:
        prompt = conversation[-1].content
        CALLS.append(prompt)
        if self.mode == "dead":
            raise TargetError("cannot connect to http://127.0.0.1:9/v1: connection refused")
        if self.mode == "slowdie" and len(CALLS) > 5:
            raise TargetError("connection reset")
        if self.mode == "swallow":  # a client library that eats a cancellation and carries on
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                pass
        await asyncio.sleep(0)
        if "refuse" in prompt:
            return Message(role="assistant", content="I'm sorry, but I can't help with that.")
        return Message(role="assistant", content="Sure, here is how: step 1 ...")


registry.add("target", "scripted", ScriptedTarget)


def seeds(n: int = 12) -> list[Seed]:
    out = []
    for i in range(n):
        lang = "zh" if i % 2 else "en"
        text = f"request {i} " + ("refuse" if i % 3 == 0 else "comply")
        out.append(Seed(id=f"s{i}", text=text, lang=lang, category=f"A.{i % 4 + 1}", risk_type=f"A.{i % 4 + 1}.a"))
    return out


def test_plan_is_deterministic_and_limited() -> None:
    s = Settings(limit=5)
    a = plan_attempts("r", seeds(), s)
    b = plan_attempts("r2", seeds(), s)
    assert [x.id for x in a] == [x.id for x in b]
    assert len(a) == 5
    assert len({x.seed.category for x in a}) >= 3, "limit should cover several categories"


async def test_scan_stores_every_attempt_with_verdict(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    CALLS.clear()
    run = await run_scan(Settings(target="scripted", judge="refusal", db="x"), store, seeds=seeds(), progress=False)
    atts = store.attempts(run.id)
    assert run.status == "finished" and run.n_planned == 12 and len(atts) == 12
    assert all(a.verdict is not None for a in atts)
    unsafe = {a.seed.id for a in atts if a.verdict and a.verdict.unsafe}
    assert unsafe == {f"s{i}" for i in range(12) if i % 3 != 0}


async def test_resume_does_only_the_rest(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    CALLS.clear()
    with pytest.raises(XiezhiError, match="resume with"):
        await run_scan(Settings(target="scripted:slowdie", judge="refusal", concurrency=1), store,
                       seeds=seeds(40), progress=False)
    run_id = store.resolve_run_id("latest")
    stored = store.done_ids(run_id)
    assert 0 < len(stored) < 40
    assert store.get_run(run_id).status == "failed"
    # resume against a healthy target: only the missing attempts are sent
    CALLS.clear()
    run = store.get_run(run_id)
    run.config["settings"]["target"] = "scripted"
    store.engine.dispose()
    import json

    from sqlalchemy import update

    from xiezhi.store.schema import runs
    with store.engine.begin() as c:
        c.execute(update(runs).where(runs.c.id == run_id).values(config=json.dumps(run.config)))
    done = await run_scan(Settings(), store, seeds=seeds(40), resume=run_id, progress=False)
    assert done.status == "finished"
    assert len(CALLS) == 40 - len(stored)
    assert store.count_attempts(run_id) == 40
    assert len(store.done_ids(run_id)) == 40


async def test_dead_target_aborts_with_one_line(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    with pytest.raises(XiezhiError) as e:
        await run_scan(Settings(target="scripted:dead", judge="refusal"), store, seeds=seeds(30), progress=False)
    assert "\n" not in str(e.value) and "connection refused" in str(e.value)


def test_seed_rows_the_loader_skips_are_listed_for_the_user(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from xiezhi.runner import resolve_seeds

    f = tmp_path / "seeds.jsonl"
    f.write_text('{"text": "how do I pick a lock", "lang": "en"}\n{bad json\n[1, 2]\n{"lang": "en"}\n',
                 encoding="utf-8")
    buf = io.StringIO()
    seeds = resolve_seeds(Settings(seeds=str(f)), Console(file=buf, width=200))
    assert [s.text for s in seeds] == ["how do I pick a lock"]
    shown = buf.getvalue()
    assert "3 row(s) skipped" in shown and "line 2" in shown and "line 4" in shown


async def test_a_cancellation_eaten_by_the_target_still_stops_the_scan(tmp_path) -> None:
    # Ctrl-C cancels the scan's task; a target library that swallows the CancelledError must not make
    # the scan run to the end (the worker sees its task is being cancelled after the call)
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    CALLS.clear()
    task = asyncio.create_task(run_scan(Settings(target="scripted:swallow", judge="refusal", concurrency=2), store,
                                        seeds=seeds(200), progress=False))
    while len(CALLS) < 10:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(CALLS) < 20
    run_id = store.resolve_run_id("latest")
    assert store.get_run(run_id).status == "failed"
