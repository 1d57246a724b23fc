"""`xiezhi serve TARGET`: any xiezhi target as an OpenAI-compatible HTTP endpoint.

    app = create_app(ServeSettings(target="smollm2"))      # or create_app(settings, target=...)

Routes: ``POST /v1/chat/completions`` (streaming as SSE: local models stream their tokens as
they are generated, see `xiezhi.serve.streaming`; a target that does not stream has its final
text sent in chunks), ``GET /v1/models``, ``GET /healthz``, ``GET /metrics``
(Prometheus). Concurrent requests to a target with ``max_batch > 1`` are micro-batched.
Everything the app holds lives on ``app.state.xiezhi``; nothing is module-global.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from xiezhi.serve.http import check_bearer, install_error_handlers, read_chat_request
from xiezhi.serve.openai_api import (
    SSE_DONE,
    APIError,
    chunk_body,
    completion_body,
    error_body,
    new_id,
    split_text,
    sse,
    to_conversation,
    to_params,
)
from xiezhi.types import GenerationParams, Message, XiezhiError

if TYPE_CHECKING:

    from xiezhi.serve.batcher import MicroBatcher
    from xiezhi.serve.streaming import StreamFn
    from xiezhi.targets.base import Target

log = logging.getLogger("xiezhi.serve")


class ServeSettings(BaseModel):
    """How `xiezhi serve` runs (explicit; the CLI fills it from flags)."""

    target: str = "smollm2"
    model_name: str | None = None
    api_keys: list[str] = Field(default_factory=list, repr=False)
    batch_wait_ms: float = Field(default=5.0, ge=0.0, le=1000.0)
    max_batch: int | None = Field(default=None, ge=1)
    default_max_tokens: int = Field(default=128, ge=1)
    max_tokens_limit: int = Field(default=4096, ge=1)
    timeout_s: float = Field(default=120.0, gt=0)
    stream_chunk_chars: int = Field(default=16, ge=1)
    warmup: bool = True

    @property
    def served_name(self) -> str:
        """The model name clients see: ``model_name``, else the target spec with any credentials
        in it (``user:pass@``, ``?api-key=``) masked."""
        from xiezhi.config import redact_text

        return self.model_name or redact_text(self.target)


@dataclass
class ServeState:
    """Per-app state: the target, its batcher and the app's own metrics registry."""

    settings: ServeSettings
    target: Target
    batcher: MicroBatcher | None
    metrics: ServeMetrics
    created: int
    stream_fn: StreamFn | None = None


class ServeMetrics:
    """Prometheus metrics in a registry of their own (one per app)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("xiezhi_serve_requests", "chat completion requests by outcome",
                                ["outcome"], registry=self.registry)
        self.batch_size = Histogram("xiezhi_serve_batch_size", "conversations per target call",
                                    buckets=(1, 2, 4, 8, 16, 32, 64), registry=self.registry)
        self.latency = Histogram("xiezhi_serve_generation_seconds", "time to answer one request",
                                 registry=self.registry)


def create_app(settings: ServeSettings, target: Target | None = None, *, close_target: bool | None = None) -> FastAPI:
    """Build the app; the target is created (and warmed up) at startup unless one is given.

    The app closes the target at shutdown when it created it, or when `close_target` is true.
    """
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from xiezhi.serve.batcher import MicroBatcher
        from xiezhi.serve.streaming import stream_function
        from xiezhi.targets.base import TargetOptions, create_target

        tgt = target if target is not None else create_target(
            settings.target, TargetOptions(timeout_s=settings.timeout_s, retries=0))
        metrics = ServeMetrics()
        batcher = None
        if (settings.max_batch or tgt.max_batch) > 1:
            batcher = MicroBatcher(tgt, settings.batch_wait_ms / 1000, settings.max_batch,
                                   on_batch=metrics.batch_size.observe)
        state = ServeState(settings, tgt, batcher, metrics, int(time.time()), stream_function(tgt))
        if settings.warmup:
            await _warmup(tgt)
        app.state.xiezhi = state
        log.info("serving target %s as model %r", tgt.name, settings.served_name)
        try:
            yield
        finally:
            if batcher is not None:
                await batcher.stop()
            if close_target or (close_target is None and target is None):
                await tgt.aclose()

    app = FastAPI(title="xiezhi serve", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)
    _add_routes(app)
    return app


async def _warmup(target: Target) -> None:
    """One tiny generation so the model is loaded before the first client waits for it."""
    try:
        await target.complete([Message(role="user", content="Hi")], GenerationParams(max_tokens=1))
    except XiezhiError as e:
        log.warning("warm-up call to %s failed: %s", target.name, e)


def _state(request: Request) -> ServeState:
    state: ServeState = request.app.state.xiezhi
    return state


async def _generate(state: ServeState, conversation: list[Message], params: GenerationParams) -> str:
    t0 = time.perf_counter()
    try:
        if state.batcher is not None:
            reply = await asyncio.wait_for(state.batcher.submit(conversation, params), params.timeout_s)
        else:
            reply = await asyncio.wait_for(state.target.complete(conversation, params), params.timeout_s)
    except TimeoutError:
        state.metrics.requests.labels("timeout").inc()
        raise APIError(504, f"the target did not answer within {params.timeout_s:g} s", "server_error",
                       "timeout") from None
    except XiezhiError as e:
        state.metrics.requests.labels("target_error").inc()
        log.warning("target %s failed: %s", state.target.name, e)
        raise APIError(502, f"target {state.target.name} failed: {e}", "server_error", "target_error") from None
    state.metrics.latency.observe(time.perf_counter() - t0)
    state.metrics.requests.labels("ok").inc()
    return reply.content


def _add_routes(app: FastAPI) -> None:
    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> Response:
        state = _state(request)
        check_bearer(request, state.settings.api_keys)
        _, req = await read_chat_request(request)
        conversation = to_conversation(req)
        params = to_params(req, state.settings.default_max_tokens, state.settings.max_tokens_limit,
                           state.settings.timeout_s)
        n = req.n or 1
        if req.stream and n > 1:
            raise APIError(400, "stream=true supports n=1 only", param="n")
        model = state.settings.served_name
        if not req.stream:
            texts = await asyncio.gather(*(_generate(state, conversation, params) for _ in range(n)))
            return JSONResponse(completion_body(new_id(), model, [(t, "stop") for t in texts]))
        if state.stream_fn is not None:
            return await _live_stream(state, state.stream_fn(conversation, params), model, params.timeout_s)
        text = await _generate(state, conversation, params)
        return StreamingResponse(_stream(text, model, state.settings.stream_chunk_chars),
                                 media_type="text/event-stream", headers={"cache-control": "no-cache"})

    @app.get("/v1/models", response_model=None)
    async def models(request: Request) -> dict[str, Any]:
        state = _state(request)
        check_bearer(request, state.settings.api_keys)
        return {"object": "list", "data": [{"id": state.settings.served_name, "object": "model",
                                            "created": state.created, "owned_by": "xiezhi"}]}

    @app.get("/healthz", response_model=None)
    async def healthz(request: Request) -> dict[str, Any]:
        state = _state(request)
        return {"status": "ok", "model": state.settings.served_name, "target": state.target.name,
                "max_batch": state.batcher.max_batch if state.batcher else 1}

    @app.get("/metrics", response_model=None)
    async def metrics(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(_state(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def _live_stream(state: ServeState, pieces: AsyncIterator[str], model: str, timeout_s: float) -> Response:
    """Stream a target's pieces as they are generated. Waits for the first piece first, so a
    target that fails at once gets a proper 502/504 instead of a broken stream."""
    t0 = time.perf_counter()
    m = state.metrics
    try:
        first: str | None = await asyncio.wait_for(anext(pieces), timeout_s)
    except StopAsyncIteration:
        first = None
    except TimeoutError:
        m.requests.labels("timeout").inc()
        raise APIError(504, f"the target did not answer within {timeout_s:g} s", "server_error", "timeout") from None
    except XiezhiError as e:
        m.requests.labels("target_error").inc()
        log.warning("target %s failed: %s", state.target.name, e)
        raise APIError(502, f"target {state.target.name} failed: {e}", "server_error", "target_error") from None

    async def events() -> AsyncIterator[bytes]:
        cid, created = new_id(), int(time.time())
        outcome = "cancelled"
        try:
            yield sse(chunk_body(cid, model, created, {"role": "assistant", "content": ""}))
            if first is not None:
                yield sse(chunk_body(cid, model, created, {"content": first}))
                async for piece in pieces:
                    yield sse(chunk_body(cid, model, created, {"content": piece}))
            outcome = "ok"
            yield sse(chunk_body(cid, model, created, {}, "stop"))
            yield SSE_DONE
        except XiezhiError as e:
            outcome = "target_error"
            log.warning("target %s failed while streaming: %s", state.target.name, e)
            yield sse(error_body(f"target {state.target.name} failed: {e}", "server_error", "target_error"))
            yield SSE_DONE
        finally:
            close = getattr(pieces, "aclose", None)
            if close is not None:
                await close()  # stops the generation when the client left early
            m.requests.labels(outcome).inc()
            if outcome == "ok":
                m.latency.observe(time.perf_counter() - t0)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


async def _stream(text: str, model: str, size: int) -> AsyncIterator[bytes]:
    """SSE chunks of an already generated text: role, content pieces, finish, [DONE]."""
    cid, created = new_id(), int(time.time())
    yield sse(chunk_body(cid, model, created, {"role": "assistant", "content": ""}))
    for piece in split_text(text, size):
        yield sse(chunk_body(cid, model, created, {"content": piece}))
    yield sse(chunk_body(cid, model, created, {}, "stop"))
    yield SSE_DONE
