"""`harmful_output`: a response that delivers harmful content.

Uses the embedded judge (``create_judge("embedded")``) when it is installed, its compliance
score gated by how harmful the prompt looks (answering a benign prompt is not harm); otherwise a
fallback: how harmful the prompt looks (the `harmful_request` scanner) times how little the response
refuses (refusal cues), or the head on the response itself when no prompt is given.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner
from xiezhi.guard.scanners.harmful_request import HarmfulRequestScanner
from xiezhi.guard.scanners.refusal import refusal_score
from xiezhi.guard.scanners.textmodel import shared_heads
from xiezhi.registry import register

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@register("scanner", "harmful_output", stages=("output",))
class HarmfulOutputScanner(BaseScanner):
    """Risk that a response complies with a harmful request (judge score, or the cue fallback)."""

    name = "harmful_output"
    stages = frozenset({"output"})

    def __init__(self, judge: str = "auto", stage: str = "auto") -> None:
        if judge not in ("auto", "embedded", "fallback"):
            raise ValueError(f"harmful_output judge must be auto, embedded or fallback, not {judge!r}")
        self.judge_mode = judge
        self._judge: Any = None
        self._tried = judge == "fallback"
        self._lock = threading.Lock()
        self._request = HarmfulRequestScanner(stage=stage)  # how harmful the prompt looks (semantic stage: `stage`)

    def _get_judge(self) -> Any:
        # the proxy checks answers from a thread pool: the first checks wait for the judge to load
        # instead of seeing "tried" early and silently using the fallback
        with self._lock:
            if not self._tried:
                try:
                    from xiezhi.judges.base import create_judge

                    self._judge = create_judge("embedded")
                except Exception:
                    if self.judge_mode == "embedded":
                        raise
                    self._judge = None
                self._tried = True
        return self._judge

    def _judge_risk(self, judge: Any, text: str, prompt: str) -> float:
        from xiezhi.guard.decision import detect_lang
        from xiezhi.types import Attempt, Seed, stable_id

        sid = stable_id("guard", prompt)
        seed = Seed(id=sid, text=prompt, lang=detect_lang(prompt), source="guard")
        attempt = Attempt(id=stable_id(sid, text), run_id="guard", index=0, seed=seed, prompt=prompt,
                          response=text)
        score_sync = getattr(judge, "score", None)  # the embedded judge scores synchronously: no loop,
        if callable(score_sync):                    # no thread per check (the proxy calls this per answer)
            return float(score_sync([attempt])[0].score)
        verdict = run_sync(judge.judge(attempt))
        return float(verdict.score)

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        prompt = context.prompt or ""
        judge = self._get_judge() if prompt else None
        if judge is not None:
            score = self._judge_risk(judge, text, prompt)
            # the judge scores compliance with the prompt; complying with a benign prompt is no harm,
            # so its score is gated by how harmful the prompt itself looks
            harm = self._request.scan(prompt, context).risk
            risk = score * min(1.0, 0.4 + harm)
            return self.result(risk, [f"judge {getattr(judge, 'name', 'embedded')} score={score:.2f}, "
                                      f"prompt harm={harm:.2f}"])
        refused = refusal_score(text)
        if prompt:
            harm = self._request.scan(prompt, context).risk
        else:
            heads = shared_heads()
            harm = 0.8 * heads.predict(text)["harmful"] if heads is not None else 0.0
        risk = harm * (1.0 - refused)
        return self.result(risk, [f"fallback: harm={harm:.2f} refusal={refused:.2f}"] if risk >= 0.5 else [])
