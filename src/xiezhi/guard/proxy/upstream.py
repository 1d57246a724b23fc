"""The upstream model server: one shared `aiohttp.ClientSession`, credential handling, error mapping.

The upstream key goes into the ``Authorization`` header only; `scrub` removes it from any
upstream text the proxy passes on, and transport errors become OpenAI-shaped 502/504
errors with one log line that names the upstream without credentials.

aiohttp rather than httpx: in a cProfile of the proxy under load (benchmarks/proxy_load.py,
50 clients) the httpx call took ~40% of the event loop's time, 4.2 ms per request under the
profiler (a tenth of it a failing import that httpcore repeats on every call); the aiohttp
call takes 0.36 ms. No request is retried (a chat completion is not idempotent).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp

from xiezhi.serve.openai_api import APIError

if TYPE_CHECKING:
    from xiezhi.guard.proxy.settings import ProxySettings

log = logging.getLogger("xiezhi.guard.proxy")
KEEPALIVE_EXPIRY_S = 2.0
TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


def _encode(body: dict[str, Any]) -> bytes:
    """The request body as JSON bytes, as the client sent it: ASCII-escaped, so a lone surrogate
    escape the client's JSON allowed (``"\\udcff"``) is passed on instead of failing to encode."""
    return json.dumps(body).encode("ascii")


class UpstreamStream:
    """An open streamed upstream answer: iterate `lines()`, then `aclose()`.

    Transport errors while reading come out of `lines()` as `APIError` (already logged).
    Closing before the end drops the connection, so the upstream stops generating.
    """

    def __init__(self, upstream: Upstream, resp: aiohttp.ClientResponse, path: str) -> None:
        self._upstream, self._resp, self._path = upstream, resp, path
        self._done = False

    async def lines(self) -> AsyncIterator[str]:
        """The body's lines (without the line end), decoded as UTF-8, as they arrive."""
        buf = b""
        try:
            async for data in self._resp.content.iter_any():
                buf += data
                if b"\n" not in buf:
                    continue
                *complete, buf = buf.split(b"\n")
                for raw in complete:
                    yield raw.rstrip(b"\r").decode("utf-8", "replace")
        except TRANSPORT_ERRORS as e:
            raise self._upstream.transport_error(e, self._path) from None
        self._done = True
        if buf:
            yield buf.rstrip(b"\r").decode("utf-8", "replace")

    async def aclose(self) -> None:
        if self._done:
            self._resp.release()  # read to the end: the connection goes back to the pool
        else:
            self._resp.close()  # closes the connection: the upstream sees the client leave


class Upstream:
    """Sends requests to the upstream OpenAI-compatible server over pooled keep-alive connections.

    The session is created on first use, inside the running event loop (aiohttp binds it
    to that loop); `aclose()` closes it.
    """

    def __init__(self, settings: ProxySettings) -> None:
        self.settings = settings
        self._key = settings.upstream_key.get_secret_value() if settings.upstream_key else ""
        self._session: aiohttp.ClientSession | None = None
        # idle pooled connections are dropped well before a server's keep-alive timeout closes them
        # (uvicorn's default is 5 s): reusing one that the server is closing at that moment fails the
        # request (seen under load in benchmarks/proxy_load.py with httpx's 5 s default)
        self._timeout = aiohttp.ClientTimeout(total=None, connect=settings.timeout_s,
                                              sock_connect=settings.connect_timeout_s,
                                              sock_read=settings.timeout_s)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.settings.max_connections, limit_per_host=0,
                                             keepalive_timeout=KEEPALIVE_EXPIRY_S, ttl_dns_cache=60)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout,
                                                  skip_auto_headers=("User-Agent",),
                                                  headers={"user-agent": "xiezhi-guard-proxy"})
        return self._session

    def url(self, path: str) -> str:
        return f"{self.settings.upstream}{path}"

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def headers(self, client_auth: str | None) -> dict[str, str]:
        """Upstream headers: the upstream key if configured; else the client's own key when the
        proxy does not authenticate clients itself (so users can bring their own key)."""
        h = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
        if self._key:
            h["authorization"] = f"Bearer {self._key}"
        elif client_auth and not self.settings.client_keys:
            h["authorization"] = client_auth
        return h

    def scrub(self, text: str) -> str:
        """`text` with the upstream key masked (it must never reach a client or a log)."""
        return text.replace(self._key, "***") if self._key else text

    def transport_error(self, e: BaseException, path: str) -> APIError:
        """Log one line and build the client's error for a failed upstream exchange."""
        what = self.scrub(f"{type(e).__name__}: {e}")[:300]
        log.warning("upstream %s%s failed: %s", self.settings.upstream_display, path, what)
        if isinstance(e, asyncio.TimeoutError):
            return APIError(504, "the upstream model server timed out", "server_error", "upstream_timeout")
        return APIError(502, "the upstream model server is unreachable", "server_error", "upstream_unreachable")

    def status_error(self, status: int, raw: bytes) -> APIError:
        """An upstream non-2xx answer as the client's error (message scrubbed)."""
        message = f"upstream returned HTTP {status}"
        try:
            err = json.loads(raw).get("error")
            if isinstance(err, dict) and isinstance(err.get("message"), str):
                message = f"upstream: {err['message']}"
            elif isinstance(err, str):
                message = f"upstream: {err}"
        except (ValueError, AttributeError):
            pass
        message = self.scrub(message)[:2000]
        if self._key and status in (401, 403):  # the proxy's own credentials were refused
            log.warning("upstream %s refused the proxy's upstream key (HTTP %d)", self.settings.upstream_display,
                        status)
            return APIError(502, "the upstream model server refused the proxy's credentials", "server_error",
                            "upstream_auth")
        type_ = "invalid_request_error" if 400 <= status < 500 else "server_error"
        return APIError(status if 400 <= status < 600 else 502, message, type_, "upstream_error")

    async def _request(self, method: str, path: str, payload: bytes | None,
                       client_auth: str | None) -> tuple[int, bytes]:
        try:
            async with self.session.request(method, self.url(path), data=payload,
                                            headers=self.headers(client_auth)) as resp:
                return resp.status, await resp.read()
        except TRANSPORT_ERRORS as e:
            raise self.transport_error(e, path) from None

    async def post_json(self, path: str, body: dict[str, Any], client_auth: str | None) -> dict[str, Any]:
        """POST a JSON body and return the JSON answer (errors raised as APIError)."""
        payload = _encode(body)
        status, raw = await self._request("POST", path, payload, client_auth)
        return self._json_object(status, raw, path, warn=True)

    async def get_json(self, path: str, client_auth: str | None) -> dict[str, Any]:
        status, raw = await self._request("GET", path, None, client_auth)
        return self._json_object(status, raw, path, warn=False)

    def _json_object(self, status: int, raw: bytes, path: str, *, warn: bool) -> dict[str, Any]:
        """The upstream's answer as a JSON object; an error status or a non-object body is an APIError."""
        if status >= 300:
            raise self.status_error(status, raw)
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if warn:
                log.warning("upstream %s%s returned a body that is not a JSON object",
                            self.settings.upstream_display, path)
            raise APIError(502, "the upstream model server returned invalid JSON", "server_error", "upstream_invalid")
        return data

    async def open_stream(self, path: str, body: dict[str, Any], client_auth: str | None) -> UpstreamStream:
        """Start a streamed POST; the caller must `aclose()` the stream."""
        payload = _encode(body)
        try:
            resp = await self.session.post(self.url(path), data=payload, headers=self.headers(client_auth))
        except TRANSPORT_ERRORS as e:
            raise self.transport_error(e, path) from None
        if resp.status >= 300:
            try:
                raw = await resp.read()
            except TRANSPORT_ERRORS:
                raw = b""
            resp.close()
            raise self.status_error(resp.status, raw)
        return UpstreamStream(self, resp, path)
