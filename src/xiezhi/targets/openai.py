"""``openai:MODEL@BASE_URL`` — any OpenAI-compatible chat endpoint (vLLM, Ollama, cloud APIs).

The API key is read from the environment variable named by ``--api-key-env`` (default
``OPENAI_API_KEY``); when it is unset no Authorization header is sent (local servers).
Requests are async (aiohttp: its connection pool stays cheap at 64+ connections) and bounded
by ``--concurrency``; 429, 5xx, timeouts and dropped
connections are retried with exponential backoff (honouring ``Retry-After``); a failed
login or an unreachable host is one clear `TargetError`. The key never appears in a
message, a log line or the store.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
from collections.abc import Sequence
from typing import Any

import aiohttp

from xiezhi.config import REDACTED, redact_text
from xiezhi.registry import register
from xiezhi.targets.base import BaseTarget, TargetError, TargetOptions
from xiezhi.types import GenerationParams, Message

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MIN_SECRET_CHARS = 8
_URL_USER = re.compile(r"[a-z][a-z0-9+.-]*://[^/@\s]+@", re.I)
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0


def parse_openai_spec(arg: str | None) -> tuple[str, str]:
    """``"gpt-4o-mini@https://api.openai.com/v1"`` -> (model, base_url)."""
    if not arg or not arg.strip():
        raise TargetError("openai target needs a model: openai:MODEL@BASE_URL, e.g. openai:qwen2.5@http://127.0.0.1:8000/v1")
    model, sep, url = arg.strip().partition("@")
    if not model:
        raise TargetError(f"openai:{arg}: empty model name")
    url = url.strip() if sep else (os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
    if not url.startswith(("http://", "https://")):
        raise TargetError(f"openai:{arg}: base URL must start with http:// or https:// (got '{redact_text(url)}')")
    return model, url.rstrip("/")


class OpenAITarget(BaseTarget):
    """Chat completions over HTTP with a concurrency limit and retries."""

    max_batch = 1

    def __init__(self, model: str, base_url: str, options: TargetOptions) -> None:
        self.model = model
        # a gateway may need a query string (?api-version=...): it goes after each route's path
        base_url, _, query = base_url.partition("?")
        self.base_url = base_url.rstrip("/")
        self._query = f"?{query}" if query else ""
        self.shown_url = redact_text(base_url + self._query)
        self.name = f"openai:{model}@{self.shown_url}"
        self.options = options
        self.key_env = options.api_key_env
        key = os.environ.get(options.api_key_env) or ""
        self._key = key if len(key) >= MIN_SECRET_CHARS else ""  # "x" would mask every x in a message
        headers = {"content-type": "application/json"}
        if key:
            if _URL_USER.match(base_url):
                raise TargetError(f"openai:{model}@{self.shown_url}: the URL carries a user name and ${self.key_env} "
                                  "is set too; use one way to log in")
            headers["authorization"] = f"Bearer {key}"
        self._headers = headers
        self._n = max(1, options.concurrency)
        self._session: aiohttp.ClientSession | None = None
        self._sem = asyncio.Semaphore(self._n)

    def _client(self) -> aiohttp.ClientSession:
        """The shared session, made on first use inside the running event loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                connector=aiohttp.TCPConnector(limit=self._n, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(total=self.options.timeout_s, connect=min(10.0, self.options.timeout_s)),
            )
        return self._session

    def _scrub(self, raw: bytes) -> bytes:
        """An endpoint's reply with the key masked, before any of it is cut short for a message
        (a key cut in half no longer matches, and half a key is still a leak)."""
        return raw.replace(self._key.encode(), REDACTED.encode()) if self._key else raw

    def _error(self, message: str) -> TargetError:
        """A `TargetError` whose text has no credentials: an endpoint or proxy may quote the key
        (or the ``Authorization`` header) in its error message."""
        if self._key:
            message = message.replace(self._key, REDACTED)
        return TargetError(redact_text(message.replace(self.base_url + self._query, self.shown_url)))

    def _auth_error(self, status: int) -> TargetError:
        hint = f"set ${self.key_env}" if not os.environ.get(self.key_env) else f"check the key in ${self.key_env}"
        return self._error(f"{self.base_url}: authentication failed (HTTP {status}); {hint}")

    async def check(self) -> None:
        """Preflight: the host answers and accepts the key (a missing /models route is fine)."""
        try:
            async with self._client().get(f"{self.base_url}/models{self._query}",
                                          timeout=aiohttp.ClientTimeout(total=min(10.0, self.options.timeout_s))) as r:
                status = r.status
        except (aiohttp.ClientError, TimeoutError) as e:
            raise self._error(f"cannot reach {self.base_url}: {_describe(e)}") from None
        if status in (401, 403):
            raise self._auth_error(status)

    async def complete(self, conversation: Sequence[Message], params: GenerationParams) -> Message:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in conversation],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
        }
        if params.top_p != 1.0:
            body["top_p"] = params.top_p
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = params.stop
        async with self._sem:
            data = await self._post(body, params.timeout_s)
        try:
            content = _content(data, self.base_url)
        except TargetError as e:
            raise self._error(str(e)) from None
        return Message(role="assistant", content=content)

    async def _post(self, body: dict[str, Any], timeout_s: float) -> Any:
        url = f"{self.base_url}/chat/completions{self._query}"
        last = ""
        for attempt in range(self.options.retries + 1):
            wait = min(MAX_BACKOFF_S, 0.5 * 2**attempt) * (0.5 + random.random())
            try:
                async with self._client().post(url, data=json.dumps(body, ensure_ascii=False).encode(),
                                               timeout=aiohttp.ClientTimeout(total=timeout_s)) as r:
                    status, raw, retry_after = r.status, await r.read(), r.headers.get("retry-after")
                raw = self._scrub(raw)
            except TimeoutError:
                last = f"timed out after {timeout_s:g} s"
            except aiohttp.ClientConnectorError as e:
                last = f"cannot connect ({_describe(e)})"
            except aiohttp.ClientError as e:
                last = _describe(e)
            else:
                if status in (401, 403):
                    raise self._auth_error(status)
                if status < 400:
                    try:
                        return json.loads(raw)
                    except ValueError:
                        raise self._error(f"{url}: reply is not JSON ({raw[:80]!r})") from None
                last = f"HTTP {status} {_error_text(raw)}".strip()
                if status not in RETRY_STATUS:
                    raise self._error(f"{url}: {last}")
                if retry_after and retry_after.replace(".", "", 1).isdigit():
                    wait = min(MAX_BACKOFF_S, float(retry_after))
            if attempt < self.options.retries:
                await asyncio.sleep(wait)
        raise self._error(f"{url}: {last} (after {self.options.retries + 1} tries)")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _describe(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]


def _error_text(raw: bytes) -> str:
    try:
        err = json.loads(raw).get("error")
        msg = err.get("message") if isinstance(err, dict) else err
        return str(msg or "")[:200]
    except (ValueError, AttributeError):
        return raw[:120].decode("utf-8", "replace").replace("\n", " ")


def _content(data: Any, where: str) -> str:
    try:
        content = data["choices"][0]["message"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise TargetError(f"{where}: reply has no choices[0].message ({str(data)[:120]})") from None
    return content if isinstance(content, str) else ""


@register("target", "openai")
def openai_target(arg: str | None, options: TargetOptions) -> OpenAITarget:
    model, url = parse_openai_spec(arg)
    return OpenAITarget(model, url, options)
