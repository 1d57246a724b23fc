"""`xiezhi serve` streams a streaming target's pieces as they are produced (not generate-then-chunk)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest

from tests.serve.servers import ScriptedTarget, run_server
from xiezhi.serve import ServeSettings, create_app
from xiezhi.serve.streaming import TextFilter
from xiezhi.targets.base import TargetError
from xiezhi.types import GenerationParams, Message

CHAT = {"model": "x", "messages": [{"role": "user", "content": "Say hello."}], "stream": True}


class GatedStreamTarget(ScriptedTarget):
    """Streams "Hello", then waits until the test has *received* that piece before finishing."""

    def __init__(self, fail_at_once: bool = False) -> None:
        super().__init__("unused")
        self.gate = threading.Event()
        self.gate_open_before_end: bool | None = None
        self.fail_at_once = fail_at_once
        self.closed = False

    async def stream_text(self, conversation: Sequence[Message], params: GenerationParams) -> AsyncIterator[str]:
        if self.fail_at_once:
            raise TargetError("no model here")
        try:
            yield "Hello"
            self.gate_open_before_end = await asyncio.to_thread(self.gate.wait, 10.0)
            yield ", world"
        finally:
            self.closed = True


def _content(line: str) -> str | None:
    if not line.startswith("data: ") or line == "data: [DONE]":
        return None
    delta = json.loads(line[6:])["choices"][0]["delta"]
    return delta.get("content") or None


def test_first_piece_arrives_before_generation_ends() -> None:
    target = GatedStreamTarget()
    app = create_app(ServeSettings(target="scripted", warmup=False), target=target)
    pieces: list[str] = []
    with run_server(app) as url, httpx.stream("POST", f"{url}/v1/chat/completions", json=CHAT, timeout=30) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = []
        for line in r.iter_lines():
            if line:
                lines.append(line)
            piece = _content(line)
            if piece:
                pieces.append(piece)
                target.gate.set()  # only now may the target finish
    assert pieces == ["Hello", ", world"]
    assert target.gate_open_before_end is True  # the client had "Hello" while the target was still generating
    assert lines[-1] == "data: [DONE]"
    last = json.loads([x for x in lines if x.startswith("data: {")][-1][6:])
    assert last["choices"][0]["finish_reason"] == "stop"


def test_stream_target_failing_at_once_is_502() -> None:
    target = GatedStreamTarget(fail_at_once=True)
    app = create_app(ServeSettings(target="scripted", warmup=False), target=target)
    with run_server(app) as url:
        r = httpx.post(f"{url}/v1/chat/completions", json=CHAT, timeout=30)
        assert r.status_code == 502 and r.json()["error"]["code"] == "target_error"
        assert 'xiezhi_serve_requests_total{outcome="target_error"} 1.0' in httpx.get(f"{url}/metrics").text


def test_client_leaving_closes_the_generation() -> None:
    target = GatedStreamTarget()
    app = create_app(ServeSettings(target="scripted", warmup=False), target=target)
    with run_server(app) as url:
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=CHAT, timeout=30) as r:
            for line in r.iter_lines():
                if _content(line):
                    break  # leave after the first piece
        target.gate.set()
        for _ in range(200):
            if target.closed:
                break
            threading.Event().wait(0.02)
        assert target.closed


@pytest.mark.parametrize(("pieces", "stops", "expected"), [
    (["  Hel", "lo ", " wor", "ld  \n"], None, "Hello  world"),
    (["one two", " STOP", " three"], ["STOP"], "one two"),
    (["one two S", "T", "OP three"], ["STOP"], "one two"),  # a stop string split over pieces
    (["a\n\nUser:", " hi"], ["\n\nUser:"], "a"),
    (["  ", "\n", "x"], [], "x"),
])
def test_text_filter_matches_the_whole_answer_rules(pieces: list[str], stops: list[str] | None,
                                                    expected: str) -> None:
    f = TextFilter(stops)
    out = "".join(f.feed(p) for p in pieces) + f.finish()
    assert out == expected
    whole = "".join(pieces)
    for s in stops or ():
        if s in whole:
            whole = whole[:whole.find(s)]
    assert out == whole.strip()
