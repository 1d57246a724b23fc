"""The upstream model server: one pooled `httpx.AsyncClient`, credential handling, error mapping.

The upstream key goes into the ``Authorization`` header only; `scrub` removes it from any
upstream text the proxy passes on, and transport errors become OpenAI-shaped 502/504
errors with one log line that names the upstream without credentials.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import httpx

from xiezhi.serve.openai_api import APIError

if TYPE_CHECKING:
    from xiezhi.guard.proxy.settings import ProxySettings

log = logging.getLogger("xiezhi.guard.proxy")
KEEPALIVE_EXPIRY_S = 2.0


class Upstream:
    """Sends requests to the upstream OpenAI-compatible server over pooled connections.

    The pool is split over a few `httpx.AsyncClient`s used in turn: httpcore scans every
    connection of a pool on each request, which costs milliseconds at 50+ connections;
    `shards` smaller pools keep that scan short (measured in benchmarks/proxy_load.py).
    """

    def __init__(self, settings: ProxySettings, shards: int = 8) -> None:
        self.settings = settings
        self._key = settings.upstream_key.get_secret_value() if settings.upstream_key else ""
        shards = max(1, min(shards, settings.max_connections))
        per = -(-settings.max_connections // shards)
        # idle pooled connections are dropped well before a server's keep-alive timeout closes them
        # (uvicorn's default is 5 s, httpx's own expiry too): reusing one that the server is closing
        # at that moment fails the request with a ReadError (seen under load in proxy_load.py)
        limits = httpx.Limits(max_connections=per, max_keepalive_connections=per,
                              keepalive_expiry=KEEPALIVE_EXPIRY_S)
        timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        tls = httpx.create_ssl_context()  # loaded once, shared by the shards
        self._clients = [httpx.AsyncClient(base_url=settings.upstream, limits=limits, timeout=timeout, verify=tls)
                         for _ in range(shards)]
        self._turn = 0

    @property
    def client(self) -> httpx.AsyncClient:
        """The next client in turn."""
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    async def aclose(self) -> None:
        for c in self._clients:
            await c.aclose()

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

    def transport_error(self, e: httpx.HTTPError, path: str) -> APIError:
        """Log one line and build the client's error for a failed upstream exchange."""
        what = self.scrub(f"{type(e).__name__}: {e}")[:300]
        log.warning("upstream %s%s failed: %s", self.settings.upstream_display, path, what)
        if isinstance(e, httpx.TimeoutException):
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

    async def post_json(self, path: str, body: dict[str, Any], client_auth: str | None) -> dict[str, Any]:
        """POST a JSON body and return the JSON answer (errors raised as APIError)."""
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            resp = await self.client.post(path, content=payload, headers=self.headers(client_auth))
        except httpx.HTTPError as e:
            raise self.transport_error(e, path) from None
        return self._json_object(resp, path, warn=True)

    async def get_json(self, path: str, client_auth: str | None) -> dict[str, Any]:
        try:
            resp = await self.client.get(path, headers=self.headers(client_auth))
        except httpx.HTTPError as e:
            raise self.transport_error(e, path) from None
        return self._json_object(resp, path, warn=False)

    def _json_object(self, resp: httpx.Response, path: str, *, warn: bool) -> dict[str, Any]:
        """The upstream's answer as a JSON object; an error status or a non-object body is an APIError."""
        if resp.status_code >= 300:
            raise self.status_error(resp.status_code, resp.content)
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if warn:
                log.warning("upstream %s%s returned a body that is not a JSON object",
                            self.settings.upstream_display, path)
            raise APIError(502, "the upstream model server returned invalid JSON", "server_error", "upstream_invalid")
        return data

    async def open_stream(self, path: str, body: dict[str, Any], client_auth: str | None) -> httpx.Response:
        """Start a streamed POST; the caller must `aclose()` the response."""
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        client = self.client
        req = client.build_request("POST", path, content=payload, headers=self.headers(client_auth))
        try:
            resp = await client.send(req, stream=True)
        except httpx.HTTPError as e:
            raise self.transport_error(e, path) from None
        if resp.status_code >= 300:
            try:
                raw = await resp.aread()
            except httpx.HTTPError:
                raw = b""
            await resp.aclose()
            raise self.status_error(resp.status_code, raw)
        return resp
