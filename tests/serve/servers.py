"""Test helpers: real uvicorn servers on 127.0.0.1 (free ports) and a scripted target."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import uvicorn

from xiezhi.targets.base import BaseTarget, TargetError
from xiezhi.types import GenerationParams, Message


class ScriptedTarget(BaseTarget):
    """A fake target for unit tests: answers with `reply(conversation)`, records batch sizes."""

    name = "scripted"

    def __init__(self, reply: Callable[[Sequence[Message]], str] | str = "Hello from the scripted target.",
                 max_batch: int = 8, delay: float = 0.01, fail: bool = False) -> None:
        self.reply = reply
        self.max_batch = max_batch
        self.delay = delay
        self.fail = fail
        self.batches: list[int] = []
        self.seen: list[list[Message]] = []

    @property
    def calls(self) -> int:
        return sum(self.batches)

    async def complete(self, conversation: Sequence[Message], params: GenerationParams) -> Message:
        return (await self.complete_batch([conversation], params))[0]

    async def complete_batch(self, conversations: Sequence[Sequence[Message]],
                             params: GenerationParams) -> list[Message]:
        self.batches.append(len(conversations))
        self.seen.extend(list(c) for c in conversations)
        await asyncio.sleep(self.delay)
        if self.fail:
            raise TargetError("scripted failure")
        return [Message(role="assistant", content=self.reply if isinstance(self.reply, str) else self.reply(c))
                for c in conversations]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def run_server(app: Any, timeout: float = 60.0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free loopback port; yields its base URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
