"""One chat completion through the proxy: input check, upstream call, output check.

Streams: upstream chunks are parsed, their text goes through a `StreamScreen`, and only
released text is sent on (re-framed as our own chunks with the upstream's id and model).
On a block the stream stops: one last chunk carries the refusal with ``finish_reason:
"content_filter"`` and the ``xiezhi`` field, then ``[DONE]``; the upstream connection is
closed so the model stops generating.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from xiezhi.guard.proxy import screen
from xiezhi.serve.http import read_chat_request
from xiezhi.serve.openai_api import (
    SSE_DONE,
    APIError,
    chunk_body,
    completion_body,
    content_text,
    error_body,
    new_id,
    sse,
)

if TYPE_CHECKING:
    from fastapi import Request, Response

    from xiezhi.guard import GuardDecision
    from xiezhi.guard.proxy.app import ProxyState
    from xiezhi.guard.proxy.upstream import UpstreamStream

log = logging.getLogger("xiezhi.guard.proxy")
_MODEL = "xiezhi-guard"


def _json(body: dict[str, Any], status: int = 200) -> Response:
    from fastapi.responses import Response

    return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"), status_code=status,
                    media_type="application/json")


def _sse_response(chunks: AsyncIterator[bytes]) -> Response:
    from fastapi.responses import StreamingResponse

    return StreamingResponse(chunks, media_type="text/event-stream", headers={"cache-control": "no-cache"})


async def _refusal_stream(model: str, text: str, info: dict[str, Any]) -> AsyncIterator[bytes]:
    cid, created = new_id(), int(time.time())
    yield sse(chunk_body(cid, model, created, {"role": "assistant", "content": ""}))
    yield sse(chunk_body(cid, model, created, {"content": text}, "content_filter", xiezhi=info))
    yield SSE_DONE


async def handle_chat(state: ProxyState, request: Request, t0: float) -> tuple[Response, str | None]:
    """Answer one request; returns the response and its outcome (None: a stream counts itself)."""
    body, req = await read_chat_request(request)
    view = screen.input_view(req)
    pre = await state.run_guard("input", view.size, screen.check_input, state.guard, view)
    model = req.model or _MODEL
    if pre.blocked is not None:
        d = pre.blocked
        state.metrics.count_blocked("input", d.scanners)
        info = screen.xiezhi_info(d)
        refusal = d.refusal_message()
        if req.stream:
            return _sse_response(_refusal_stream(model, refusal, info)), "blocked_input"
        return _json(completion_body(new_id(), model, [(refusal, "content_filter")], xiezhi=info)), "blocked_input"
    screen.apply_redactions(body, pre.redactions)
    redacted = bool(pre.redactions)
    auth = request.headers.get("authorization")
    if req.stream:
        t_up = time.perf_counter()
        resp = await state.upstream.open_stream("/chat/completions", body, auth)
        relay = _Relay(state, view, pre.main, redacted, t0, t_up)
        return _sse_response(relay.run(resp)), None
    t_up = time.perf_counter()
    data = await state.upstream.post_json("/chat/completions", body, auth)
    state.metrics.upstream_seconds.observe(time.perf_counter() - t_up)
    outcome = await _check_completion(state, view, pre.main, data, redacted)
    return _json(data), outcome


async def _check_completion(state: ProxyState, view: screen.InputView, pre: GuardDecision,
                            data: dict[str, Any], redacted: bool) -> str:
    """Check every choice of an upstream completion in place; returns the outcome."""
    choices = [c for c in data.get("choices") or [] if isinstance(c, dict)]
    texts = [content_text((c.get("message") or {}).get("content")) for c in choices]
    if not state.settings.check_output or not choices:
        data["xiezhi"] = screen.xiezhi_info(pre)
        return "redacted" if redacted else "allowed"
    decisions = await state.run_guard("output", sum(map(len, texts)), screen.check_output, state.guard, view, texts)
    outcome, shown = ("redacted", pre) if redacted else ("allowed", decisions[0])
    for c, d in zip(choices, decisions, strict=True):
        msg = c.setdefault("message", {"role": "assistant"})
        if d.blocked:
            state.metrics.count_blocked("output", d.scanners)
            msg["content"], c["finish_reason"] = d.refusal_message(pre.lang), "content_filter"
            outcome, shown = "blocked_output", d
        elif d.sanitized is not None:
            msg["content"] = d.sanitized
            if outcome != "blocked_output":
                outcome, shown = "redacted", d
    data["xiezhi"] = screen.xiezhi_info(shown)
    return outcome


class _Relay:
    """Screens one upstream SSE stream and re-emits the released text."""

    def __init__(self, state: ProxyState, view: screen.InputView, pre: GuardDecision, redacted: bool,
                 t0: float, t_up: float) -> None:
        self.state, self.view, self.pre = state, view, pre
        self.outcome = "redacted" if redacted else "allowed"
        self.t0, self.t_up = t0, t_up
        self.cid, self.model, self.created = new_id(), _MODEL, int(time.time())
        self.screen = screen.StreamScreen(self._check, state.settings.holdback_chars, state.settings.scan_every_chars)

    async def _check(self, text: str) -> GuardDecision:
        if not self.state.settings.check_output:
            return self.pre.model_copy(update={"stage": "output", "blocked": False, "sanitized": None})
        ds = await self.state.run_guard("output", len(text), screen.check_output, self.state.guard, self.view, [text])
        return ds[0]

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        return sse(chunk_body(self.cid, self.model, self.created, delta, finish, **extra))

    def _blocked(self, d: GuardDecision) -> bytes:
        self.outcome = "blocked_output"
        self.state.metrics.count_blocked("output", d.scanners)
        return self._chunk({"content": d.refusal_message(self.pre.lang)}, "content_filter",
                           xiezhi=screen.xiezhi_info(d))

    async def run(self, resp: UpstreamStream) -> AsyncIterator[bytes]:
        m = self.state.metrics
        m.in_flight.inc()
        try:
            async for out in self._relay(resp):
                yield out
        finally:
            await resp.aclose()
            m.in_flight.dec()
            m.upstream_seconds.observe(time.perf_counter() - self.t_up)
            m.requests.labels(self.outcome).inc()
            m.request_seconds.observe(time.perf_counter() - self.t0)

    async def _relay(self, resp: UpstreamStream) -> AsyncIterator[bytes]:
        first, finished, trailers = True, False, []
        try:
            async for line in resp.lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    chunk = json.loads(payload)
                except ValueError:
                    continue
                if not isinstance(chunk, dict):
                    continue
                if first:
                    first = False
                    self.cid = str(chunk.get("id") or self.cid)
                    self.model = str(chunk.get("model") or self.model)
                    self.created = int(chunk.get("created") or self.created)
                    yield self._chunk({"role": "assistant", "content": ""})
                if "error" in chunk:
                    self.outcome = "upstream_error"
                    yield sse(json.loads(self.state.upstream.scrub(json.dumps(chunk))))
                    yield SSE_DONE
                    return
                choices = chunk.get("choices") or []
                if not choices:  # e.g. the usage chunk: sent after the text
                    trailers.append(chunk)
                    continue
                ch = choices[0] if isinstance(choices[0], dict) else {}
                delta = ch.get("delta") or {}
                text = delta.get("content")
                if isinstance(text, str) and text:
                    out, blocked = await self.screen.feed(text)
                    if blocked is not None:
                        yield self._blocked(blocked)
                        yield SSE_DONE
                        return
                    if out:
                        yield self._chunk({"content": out})
                other = {k: v for k, v in delta.items() if k not in ("content", "role")}
                if other:
                    yield self._chunk(other)
                if ch.get("finish_reason"):
                    async for b in self._finish(str(ch["finish_reason"])):
                        yield b
                    finished = True
                    if self.outcome == "blocked_output":
                        return
        except APIError as err:  # a transport error while streaming (logged by the upstream)
            self.outcome = "upstream_error"
            yield sse(error_body(err.message, err.type, err.code))
            yield SSE_DONE
            return
        if not finished:
            async for b in self._finish("stop"):
                yield b
            if self.outcome == "blocked_output":
                return
        for t in trailers:
            yield sse(t)
        yield SSE_DONE

    async def _finish(self, reason: str) -> AsyncIterator[bytes]:
        out, blocked = await self.screen.finish()
        if blocked is not None:
            yield self._blocked(blocked)
            yield SSE_DONE
            return
        if out:
            yield self._chunk({"content": out})
        last = self.screen.last
        if last is not None and last.sanitized is not None and self.outcome == "allowed":
            self.outcome = "redacted"
        yield self._chunk({}, reason, xiezhi=screen.xiezhi_info(last or self.pre))
