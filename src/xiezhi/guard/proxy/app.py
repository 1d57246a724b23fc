"""The guard proxy: xiezhi's guard in front of any OpenAI-compatible model server.

    app = create_app(ProxySettings(upstream="http://127.0.0.1:8000/v1", policy="default"))

``POST /v1/chat/completions``: the fresh input is checked first; a blocked prompt gets a
normal ``chat.completion`` whose content is the policy's refusal (``finish_reason:
"content_filter"``, plus an ``xiezhi`` field naming the scanners that fired) and the
upstream is never called. Otherwise the (possibly redacted) request goes upstream and the
answer is checked before it is returned; streams are screened as they flow (see
`relay`). Also ``GET /v1/models`` (proxied), ``/healthz`` and Prometheus ``/metrics``.
Output checks and long inputs run in a thread pool so the event loop keeps serving other requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import Response

from xiezhi.guard.proxy.metrics import ProxyMetrics
from xiezhi.guard.proxy.settings import ProxySettings
from xiezhi.guard.scanners.e5head import deferring_semantic
from xiezhi.serve.openai_api import APIError

if TYPE_CHECKING:

    from xiezhi.guard import Guard
    from xiezhi.guard.proxy.upstream import Upstream

log = logging.getLogger("xiezhi.guard.proxy")
T = TypeVar("T")
SETTINGS_ENV = "XIEZHI_PROXY_SETTINGS"
WARMUP = [("What is the capital of France?", "Paris is the capital of France."),
          ("北京有哪些值得参观的博物馆？", "故宫博物院和中国国家博物馆都很值得参观。")]
"""Warm-up checks at startup: the first Chinese text loads jieba's dictionary (~0.6 s), which
would otherwise stall the event loop on the first Chinese request."""
_OUTCOME_BY_STATUS = {400: "bad_request", 401: "unauthorized", 413: "bad_request", 422: "bad_request"}


@dataclass
class ProxyState:
    """Everything one proxy app holds (on ``app.state.xiezhi``)."""

    settings: ProxySettings
    guard: Guard
    upstream: Upstream
    metrics: ProxyMetrics
    pool: ThreadPoolExecutor

    async def run_guard(self, stage: str, size: int, fn: Callable[..., T], *args: Any) -> T:
        """Run a guard check and time it (thread-pool wait included).

        Output checks run in the thread pool: the output stage's `harmful_output` scanner asks
        the embedded judge, which runs a coroutine on an event loop of its own; on the proxy's
        loop that started a thread per check and blocked the loop until the judge finished
        (benchmarks/proxy_load.py, 50 clients, upstream answering after 500 ms, 3,000 requests:
        added p50 54 ms with the output check on the loop, 2.5 ms in the pool). The judge may also embed the
        answer with e5 (tens of ms) when its cheap head is unsure.

        Input texts up to `settings.inline_guard_chars` are checked on the event loop: a check of
        a short prompt takes well under a millisecond, and a hand-off to a thread costs more
        once threads contend for the GIL (same benchmark: added p50 5.8 ms with every input
        check in the pool). Longer inputs go to the pool so the loop is never held for long, and
        so does an inline check whose scanners wanted their e5 stage (`deferring_semantic`): the
        loop only ever runs the sub-millisecond part.
        """
        t0 = time.perf_counter()
        try:
            if stage == "input" and size <= self.settings.inline_guard_chars:
                with deferring_semantic() as deferred:
                    decision = fn(*args)
                if not deferred:  # no scanner needed its e5 stage: the cheap check is the whole check
                    return decision
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        finally:
            self.metrics.guard_seconds.labels(stage).observe(time.perf_counter() - t0)


def limit_torch_threads(n: int) -> None:
    """Give torch `n` compute threads per call in this process (threads started later inherit it);
    nothing when `n` is 0 or torch is not installed."""
    import importlib.util

    if n > 0 and importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(n)


def create_app(settings: ProxySettings, guard: Guard | None = None) -> FastAPI:
    """Build the proxy app; the guard is loaded from `settings.policy` unless one is given."""
    from xiezhi.serve.http import install_error_handlers

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from xiezhi.guard import Guard
        from xiezhi.guard.proxy.upstream import Upstream

        limit_torch_threads(settings.torch_threads)  # before the pool's threads start: they inherit it
        g = guard if guard is not None else Guard.from_policy(settings.policy)
        pool = ThreadPoolExecutor(max_workers=settings.guard_threads, thread_name_prefix="xiezhi-guard")
        state = ProxyState(settings, g, Upstream(settings), ProxyMetrics(), pool)
        if settings.warmup:  # load weights, jieba's dictionary etc. before the first request waits for them
            for prompt, answer in WARMUP:
                await state.run_guard("input", 10**9, g.check_input, prompt)
                await state.run_guard("output", 10**9, g.check_output, answer, prompt)
        # the guard's weights, lexicons and jieba's dictionary are ~250k long-lived objects: a full
        # garbage collection walks them all (~50 ms on a 2-core box), stalling the event loop now and
        # then under load. Freezing them after start-up keeps full collections short.
        gc.collect()
        gc.freeze()
        app.state.xiezhi = state
        watcher = asyncio.get_running_loop().create_task(state.metrics.watch_event_loop())
        log.info("guard proxy in front of %s with policy %r", settings.upstream_display, g.policy.name)
        try:
            yield
        finally:
            watcher.cancel()
            await state.upstream.aclose()
            pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="xiezhi guard proxy", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)
    _add_routes(app)
    return app


def create_app_from_env() -> FastAPI:
    """App factory for worker processes (``xiezhi guard serve --workers N``, ``uvicorn --factory``).

    Settings come as JSON in ``XIEZHI_PROXY_SETTINGS``, without secrets: the keys are read
    from the environment variables that ``upstream_key_env`` / ``client_keys_env`` name.
    """
    from xiezhi.types import XiezhiError

    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        raise XiezhiError(f"{SETTINGS_ENV} is not set: it holds the proxy settings as JSON")
    return create_app(ProxySettings.model_validate_json(raw).with_env_secrets())


def _state(request: Request) -> ProxyState:
    state: ProxyState = request.app.state.xiezhi
    return state


def _add_routes(app: FastAPI) -> None:
    from xiezhi.guard.proxy.relay import handle_chat
    from xiezhi.serve.http import check_bearer

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> Response:
        state = _state(request)
        m = state.metrics
        t0 = time.perf_counter()
        m.in_flight.inc()
        outcome: str | None = "error"
        try:
            check_bearer(request, state.settings.client_keys)
            response, outcome = await handle_chat(state, request, t0)
            return response
        except APIError as e:
            outcome = _OUTCOME_BY_STATUS.get(e.status, "upstream_error" if e.status >= 500 else "bad_request")
            raise
        finally:
            m.in_flight.dec()
            if outcome is not None:  # None: a stream, counted when it ends
                m.requests.labels(outcome).inc()
                m.request_seconds.observe(time.perf_counter() - t0)

    @app.get("/v1/models", response_model=None)
    async def models(request: Request) -> dict[str, Any]:
        state = _state(request)
        check_bearer(request, state.settings.client_keys)
        return await state.upstream.get_json("/models", request.headers.get("authorization"))

    @app.get("/healthz", response_model=None)
    async def healthz(request: Request) -> dict[str, Any]:
        state = _state(request)
        return {"status": "ok", "upstream": state.settings.upstream_display, "policy": state.guard.policy.name}

    @app.get("/metrics", response_model=None)
    async def metrics(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(_state(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
