"""FastAPI plumbing shared by `xiezhi serve` and the guard proxy: OpenAI-shaped errors for
every failure, bearer-key auth, request parsing, and the uvicorn runner used by the CLI.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from xiezhi.serve.openai_api import APIError, ChatRequest, error_body
from xiezhi.types import XiezhiError

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

log = logging.getLogger("xiezhi.serve")
MAX_BODY_BYTES = 8 * 1024 * 1024
_STATUS_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                 405: "invalid_request_error", 413: "invalid_request_error", 429: "rate_limit_error"}


def keys_from_env(name: str | None, what: str = "--api-key-env") -> list[str]:
    """Comma-separated keys from environment variable `name` (None -> no auth)."""
    if not name:
        return []
    value = os.environ.get(name)
    if value is None:
        raise XiezhiError(f"{what} {name}: environment variable is not set")
    keys = [k.strip() for k in value.split(",") if k.strip()]
    if not keys:
        raise XiezhiError(f"{what} {name}: environment variable holds no key")
    return keys


def check_bearer(request: Request, keys: Sequence[str]) -> None:
    """Raise a 401 APIError unless the request carries one of `keys` (no-op when `keys` is empty)."""
    if not keys:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    ok = False
    for k in keys:  # compare with every key: timing does not tell which one matched
        ok |= hmac.compare_digest(token.encode(), k.encode())
    if not ok:
        raise APIError(401, "invalid or missing API key (send 'Authorization: Bearer KEY')",
                       "authentication_error", "invalid_api_key")


async def read_chat_request(request: Request) -> tuple[dict[str, Any], ChatRequest]:
    """The raw JSON body and its validated view; malformed input -> 400 naming the problem."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise APIError(413, f"request body of {len(raw)} bytes exceeds {MAX_BODY_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise APIError(400, f"request body is not valid UTF-8 (byte {e.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise APIError(400, f"request body is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(data, dict):
        raise APIError(400, f"request body must be a JSON object, got {type(data).__name__}")
    try:
        req = ChatRequest.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        raise APIError(400, f"{loc}: {err['msg']}", param=loc) from None
    return data, req


def json_error(status: int, message: str, type_: str | None = None, code: str | None = None) -> JSONResponse:
    from fastapi.responses import JSONResponse

    t = type_ or _STATUS_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    return JSONResponse(error_body(message, t, code), status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Answer APIError, validation errors, unknown routes and crashes as OpenAI-shaped JSON."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, APIError)
        return json_error(exc.status, exc.message, exc.type, exc.code)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        errs = exc.errors() if isinstance(exc, RequestValidationError) else []
        msg = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errs[:3]) or "invalid request"
        return json_error(400, msg)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "error"
        return json_error(status, f"{request.method} {request.url.path}: {detail}")

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return json_error(500, f"internal error ({type(exc).__name__})", "server_error")

    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


def run_uvicorn(app: FastAPI | str, host: str, port: int, access_log: bool, log_level: str = "info",
                workers: int = 1) -> None:
    """Serve `app` until Ctrl-C (used by the CLI commands). With `workers` > 1, `app` is the
    import string of an app factory and each worker process builds its own app.

    uvicorn picks uvloop and httptools when they are installed (``loop="auto"``,
    ``http="auto"``; both are xiezhi dependencies, uvloop where it builds): a faster event
    loop and HTTP parser than asyncio + h11 (see benchmarks/proxy_load.py)."""
    import uvicorn

    if port < 0 or port > 65535:
        raise XiezhiError(f"--port {port}: not a TCP port (0-65535)")
    try:
        uvicorn.run(app, host=host, port=port, access_log=access_log, log_level=log_level,
                    timeout_graceful_shutdown=5, workers=workers if workers > 1 else None, loop="auto", http="auto",
                    factory=isinstance(app, str))
    except OSError as e:
        raise XiezhiError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
