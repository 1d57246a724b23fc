"""The OpenAI chat-completions wire format, shared by `xiezhi serve` and the guard proxy.

Request validation (`ChatRequest`), response and stream-chunk bodies, Server-Sent Events
framing, and OpenAI-shaped errors (``{"error": {"message", "type", "param", "code"}}``)
with FastAPI handlers that turn every failure into that shape.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from xiezhi.types import GenerationParams, Message, Role

SSE_DONE = b"data: [DONE]\n\n"
_ROLES: dict[str, Role] = {"system": "system", "developer": "system", "user": "user",
                          "assistant": "assistant", "tool": "tool", "function": "tool"}


class APIError(Exception):
    """An error answered to the client as OpenAI-shaped JSON with an HTTP status."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.code, self.param)


class ChatMessageIn(BaseModel):
    """One message of a request; content is a string or a list of content parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields of ``POST /v1/chat/completions`` that xiezhi reads (others are kept)."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[ChatMessageIn] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    stream: bool | None = False
    seed: int | None = None
    n: int | None = Field(default=1, ge=1, le=16)


def error_body(message: str, type_: str = "invalid_request_error", code: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def content_text(content: str | list[dict[str, Any]] | list[Any] | None) -> str:
    """The text of a message content: a string, or the ``text`` parts of a parts list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type", "text") == "text"]
    return "\n".join(p for p in parts if isinstance(p, str))


def to_conversation(req: ChatRequest) -> list[Message]:
    """Request messages as xiezhi `Message`s (``developer`` -> system, ``function`` -> tool)."""
    out: list[Message] = []
    for i, m in enumerate(req.messages):
        role = _ROLES.get(m.role)
        if role is None:
            raise APIError(400, f"messages[{i}].role: unknown role {m.role!r}", param=f"messages[{i}].role")
        out.append(Message(role=role, content=content_text(m.content)))
    return out


def to_params(req: ChatRequest, default_max_tokens: int, max_tokens_limit: int, timeout_s: float) -> GenerationParams:
    """Generation parameters of a request, with the server's defaults and limits."""
    max_tokens = req.max_completion_tokens or req.max_tokens or default_max_tokens
    if max_tokens > max_tokens_limit:
        raise APIError(400, f"max_tokens={max_tokens} exceeds this server's limit of {max_tokens_limit}",
                       param="max_tokens")
    stop = [req.stop] if isinstance(req.stop, str) else req.stop
    return GenerationParams(
        max_tokens=max_tokens,
        temperature=0.0 if req.temperature is None else req.temperature,
        top_p=1.0 if req.top_p is None else req.top_p,
        seed=req.seed, stop=stop or None, timeout_s=timeout_s,
    )


def new_id(prefix: str = "chatcmpl") -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


def completion_body(cid: str, model: str, choices: list[tuple[str, str]], created: int | None = None,
                    **extra: Any) -> dict[str, Any]:
    """A ``chat.completion`` body; `choices` are (content, finish_reason) pairs."""
    body: dict[str, Any] = {
        "id": cid, "object": "chat.completion", "created": created or int(time.time()), "model": model,
        "choices": [{"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": fr}
                    for i, (text, fr) in enumerate(choices)],
    }
    body.update(extra)
    return body


def chunk_body(cid: str, model: str, created: int, delta: dict[str, Any], finish_reason: str | None = None,
               **extra: Any) -> dict[str, Any]:
    """A ``chat.completion.chunk`` body for choice 0."""
    body: dict[str, Any] = {
        "id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    body.update(extra)
    return body


def sse(obj: dict[str, Any]) -> bytes:
    """One Server-Sent Event line: ``data: {json}`` and a blank line."""
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n\n"


def split_text(text: str, size: int = 16) -> list[str]:
    """Cut `text` into pieces of about `size` characters, preferring whitespace boundaries."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind(" ", start + 1, end + 1)
            if cut > start:
                end = cut
        pieces.append(text[start:end])
        start = end
    return pieces
