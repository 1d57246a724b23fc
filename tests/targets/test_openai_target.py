"""The openai: target against a scripted local HTTP server: retries, auth errors, secrecy."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from xiezhi.targets.base import TargetError, TargetOptions, create_target
from xiezhi.targets.openai import parse_openai_spec
from xiezhi.types import GenerationParams, Message

SECRET = "sk-test-SECRET-123456"


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._reply(self.server.models_status, {"object": "list", "data": []})

    def do_POST(self) -> None:
        self.server.paths.append(self.path)
        n = int(self.headers.get("content-length") or 0)
        self.server.bodies.append(json.loads(self.rfile.read(n)))
        self.server.auth.append(self.headers.get("authorization"))
        status = self.server.script.pop(0) if self.server.script else 200
        if status == 200:
            self._reply(200, {"choices": [{"message": {"role": "assistant", "content": "hello"}}]})
        elif self.server.echo_auth:  # some gateways quote the header they were sent, or only the key
            auth = self.headers.get("authorization") or ""
            quoted = auth.removeprefix("Bearer ") if self.server.echo_auth == "key" else auth
            self._reply(status, {"error": {"message": f"bad request from {'x' * 150}{quoted}"
                                           if self.server.echo_auth == "key" else f"bad request from {quoted}"}},
                        {"retry-after": "0"})
        else:
            self._reply(status, {"error": {"message": f"scripted {status}"}}, {"retry-after": "0"})

    def _reply(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[Any]:
    httpd: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.script, httpd.bodies, httpd.auth, httpd.models_status, httpd.echo_auth = [], [], [], 200, False
    httpd.paths = []
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield httpd
    httpd.shutdown()


def _target(server: Any, retries: int = 3, key_env: str = "XZ_TEST_KEY") -> Any:
    return create_target(f"openai:m1@{server.url}", TargetOptions(retries=retries, api_key_env=key_env))


async def test_retries_429_and_5xx_then_answers(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XZ_TEST_KEY", SECRET)
    server.script = [429, 503]
    t = _target(server)
    reply = await t.complete([Message(role="user", content="hi")], GenerationParams(max_tokens=5, seed=3))
    await t.aclose()
    assert reply.content == "hello"
    assert len(server.bodies) == 3
    assert server.bodies[-1]["model"] == "m1" and server.bodies[-1]["max_tokens"] == 5
    assert server.bodies[-1]["seed"] == 3
    assert server.auth[-1] == f"Bearer {SECRET}"


async def test_gives_up_after_retries_with_one_line(server: Any) -> None:
    server.script = [500, 500, 500]
    t = _target(server, retries=2)
    with pytest.raises(TargetError) as e:
        await t.complete([Message(role="user", content="hi")], GenerationParams())
    await t.aclose()
    assert "HTTP 500" in str(e.value) and "3 tries" in str(e.value) and "\n" not in str(e.value)


async def test_auth_failure_is_not_retried_and_hides_the_key(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XZ_TEST_KEY", SECRET)
    server.script = [401, 200]
    t = _target(server)
    with pytest.raises(TargetError) as e:
        await t.complete([Message(role="user", content="hi")], GenerationParams())
    await t.aclose()
    assert "authentication failed" in str(e.value) and "XZ_TEST_KEY" in str(e.value)
    assert SECRET not in str(e.value)
    assert len(server.bodies) == 1


@pytest.mark.parametrize("status", [400, 500])
async def test_an_endpoint_that_quotes_the_key_in_its_error_does_not_leak_it(
        server: Any, monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    monkeypatch.setenv("XZ_TEST_KEY", SECRET)
    server.echo_auth, server.script = True, [status] * 3
    t = _target(server, retries=1)
    with pytest.raises(TargetError) as e:
        await t.complete([Message(role="user", content="hi")], GenerationParams())
    await t.aclose()
    assert f"HTTP {status}" in str(e.value) and "bad request from" in str(e.value)
    assert SECRET not in str(e.value) and "***" in str(e.value)


async def test_a_key_quoted_late_in_a_long_error_is_masked_before_the_text_is_cut(
        server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A gateway key that is not sk-shaped, quoted without "Bearer" near the 200-character cut."""
    key = "gw-0123456789abcdefghijklmnop"
    monkeypatch.setenv("XZ_TEST_KEY", key)
    server.echo_auth, server.script = "key", [400]
    t = _target(server, retries=0)
    with pytest.raises(TargetError) as e:
        await t.complete([Message(role="user", content="hi")], GenerationParams())
    await t.aclose()
    assert "0123456789" not in str(e.value) and "***" in str(e.value)


async def test_a_short_placeholder_key_does_not_garble_messages_and_a_query_follows_the_path(
        server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XZ_TEST_KEY", "1")
    server.script = [500]
    t = create_target(f"openai:m1@{server.url}/?api-version=2024-06-01",
                      TargetOptions(retries=0, api_key_env="XZ_TEST_KEY"))
    with pytest.raises(TargetError) as e:
        await t.complete([Message(role="user", content="hi")], GenerationParams())
    assert "127.0.0.1" in str(e.value)  # not "***27.0.0.***"
    assert await t.complete([Message(role="user", content="hi")], GenerationParams()) is not None
    await t.aclose()
    assert server.paths[-1] == "/v1/chat/completions?api-version=2024-06-01"


def test_credentials_in_the_url_are_masked_and_do_not_mix_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    t = create_target("openai:m@https://gw.example.com/v1?api-key=QUERYSECRET42", TargetOptions())
    assert "QUERYSECRET42" not in t.name and "api-key=***" in t.name
    monkeypatch.setenv("XZ_TEST_KEY", SECRET)
    with pytest.raises(TargetError, match="one way to log in") as e:
        create_target("openai:m@http://alice:hunter2@gw.example.com/v1", TargetOptions(api_key_env="XZ_TEST_KEY"))
    assert "hunter2" not in str(e.value)


async def test_preflight_reports_auth_and_dead_host(server: Any) -> None:
    server.models_status = 401
    t = _target(server)
    with pytest.raises(TargetError, match="authentication failed"):
        await t.check()
    await t.aclose()
    dead = create_target("openai:m@http://127.0.0.1:9/v1", TargetOptions(retries=0))
    with pytest.raises(TargetError, match="cannot reach"):
        await dead.check()
    await dead.aclose()


def test_spec_parsing() -> None:
    assert parse_openai_spec("qwen2.5:7b@http://127.0.0.1:11434/v1/") == ("qwen2.5:7b", "http://127.0.0.1:11434/v1")
    with pytest.raises(TargetError):
        parse_openai_spec("m@ftp://x")
    with pytest.raises(TargetError):
        parse_openai_spec("")
