"""`xiezhi serve` app over a scripted target: OpenAI shapes, SSE streaming, micro-batching, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.serve.servers import ScriptedTarget
from xiezhi.serve import ServeSettings, create_app
from xiezhi.serve.openai_api import split_text

REPLY = "Paris is the capital of France, and it is known for the Eiffel Tower and its museums."
CHAT = {"model": "x", "messages": [{"role": "user", "content": "What is the capital of France?"}]}


def sse_events(raw: str) -> list[str]:
    return [line[len("data: "):] for line in raw.split("\n") if line.startswith("data: ")]


async def _client(target: ScriptedTarget, **kw: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ServeSettings(target="scripted", warmup=False, **kw), target=target)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as client:
            yield client


@pytest.fixture
async def target() -> ScriptedTarget:
    return ScriptedTarget(REPLY)


@pytest.fixture
async def client(target: ScriptedTarget) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(target):
        yield c


async def test_completion_shape(client: httpx.AsyncClient, target: ScriptedTarget) -> None:
    r = await client.post("/v1/chat/completions", json={**CHAT, "max_tokens": 20, "temperature": 0.2, "stop": "\n"})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "scripted"
    assert body["choices"] == [{"index": 0, "message": {"role": "assistant", "content": REPLY},
                                "finish_reason": "stop"}]
    assert target.seen[-1][-1].content == "What is the capital of France?"


async def test_n_choices(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/chat/completions", json={**CHAT, "n": 2})
    assert [c["index"] for c in r.json()["choices"]] == [0, 1]


async def test_stream_sse(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == REPLY
    assert len(chunks) > 3  # really chunked
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_micro_batching_groups_concurrent_requests(target: ScriptedTarget) -> None:
    target.delay = 0.05
    async for client in _client(target, batch_wait_ms=50):
        rs = await asyncio.gather(*(client.post("/v1/chat/completions", json=CHAT) for _ in range(6)))
        assert all(r.status_code == 200 for r in rs)
        assert sum(target.batches) == 6
        assert max(target.batches) > 1  # at least some requests shared a complete_batch call
        metrics = (await client.get("/metrics")).text
        assert 'xiezhi_serve_requests_total{outcome="ok"} 6.0' in metrics


async def test_different_params_are_not_mixed(target: ScriptedTarget) -> None:
    async for client in _client(target, batch_wait_ms=50):
        rs = await asyncio.gather(*(client.post("/v1/chat/completions", json={**CHAT, "max_tokens": 5 + i % 2})
                                    for i in range(4)))
        assert all(r.status_code == 200 for r in rs)
        assert sorted(target.batches) == [2, 2]


@pytest.mark.parametrize(("payload", "status", "needle"), [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (json.dumps({"model": "x"}).encode(), 400, "messages"),
    (json.dumps({"messages": []}).encode(), 400, "messages"),
    (json.dumps({"messages": [{"role": "wizard", "content": "hi"}]}).encode(), 400, "unknown role"),
    (json.dumps({**CHAT, "max_tokens": 10**6}).encode(), 400, "limit"),
    (json.dumps({**CHAT, "temperature": 9}).encode(), 400, "temperature"),
    (b"\xff\xfe", 400, "UTF-8"),
])
async def test_bad_requests_are_openai_errors(client: httpx.AsyncClient, target: ScriptedTarget,
                                              payload: bytes, status: int, needle: str) -> None:
    r = await client.post("/v1/chat/completions", content=payload, headers={"content-type": "application/json"})
    assert r.status_code == status
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and needle in err["message"]
    assert target.calls == 0


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/nope")
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    r = await client.get("/v1/chat/completions")
    assert r.status_code == 405 and "error" in r.json()


async def test_target_failure_is_502(target: ScriptedTarget) -> None:
    target.fail = True
    async for client in _client(target):
        r = await client.post("/v1/chat/completions", json=CHAT)
        assert r.status_code == 502
        assert r.json()["error"]["code"] == "target_error"


async def test_api_key(target: ScriptedTarget) -> None:
    async for client in _client(target, api_keys=["k1", "k2"]):
        r = await client.post("/v1/chat/completions", json=CHAT)
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        r = await client.get("/v1/models", headers={"authorization": "Bearer wrong"})
        assert r.status_code == 401
        r = await client.post("/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer k2"})
        assert r.status_code == 200
        assert (await client.get("/healthz")).status_code == 200  # health stays open
    assert target.calls == 1


async def test_models_and_health(client: httpx.AsyncClient) -> None:
    models = (await client.get("/v1/models")).json()
    assert models["object"] == "list" and models["data"][0]["id"] == "scripted"
    health = (await client.get("/healthz")).json()
    assert health["status"] == "ok" and health["max_batch"] == 8


def test_split_text_keeps_all_text() -> None:
    text = "word " * 40 + "不间断的中文文本没有空格" * 5
    pieces = split_text(text, 16)
    assert "".join(pieces) == text and all(len(p) <= 16 for p in pieces) and len(pieces) > 10


def test_the_served_model_name_never_shows_credentials_of_the_target_spec() -> None:
    from xiezhi.serve.app import ServeSettings

    name = ServeSettings(target="openai:m@https://alice:hunter2@gw.example.com/v1?api-key=QSECRET").served_name
    assert "hunter2" not in name and "QSECRET" not in name and name.startswith("openai:m@https://***@")
    assert ServeSettings(target="smollm2", model_name="mine").served_name == "mine"
