"""Micro-batching: concurrent requests to a batch-capable target share one `complete_batch` call.

A worker takes the first queued request, waits up to `wait_s` for more (or until
`max_batch`), and sends those with the same generation parameters as one batch. While a
batch runs, new requests queue up, so under load batches fill by themselves. Requests
with other parameters stay queued for the next round, in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from xiezhi.targets.base import Target
from xiezhi.types import GenerationParams, Message

log = logging.getLogger("xiezhi.serve")


@dataclass
class _Job:
    conversation: Sequence[Message]
    params: GenerationParams
    key: str
    future: asyncio.Future[Message] = field(repr=False)


class MicroBatcher:
    """Queue of single requests turned into `complete_batch` calls (one worker per batcher)."""

    def __init__(self, target: Target, wait_s: float = 0.005, max_batch: int | None = None,
                 on_batch: Callable[[int], None] | None = None) -> None:
        self.target = target
        self.wait_s = max(0.0, wait_s)
        self.max_batch = max(1, max_batch or target.max_batch)
        self.on_batch = on_batch
        self._queue: deque[_Job] = deque()
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="xiezhi-batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for job in self._queue:
            if not job.future.done():
                job.future.cancel()
        self._queue.clear()

    async def submit(self, conversation: Sequence[Message], params: GenerationParams) -> Message:
        """Answer one conversation as part of the next batch."""
        self.start()
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._queue.append(_Job(conversation, params, params.model_dump_json(), fut))
        self._wakeup.set()
        return await fut

    def _take(self) -> list[_Job]:
        """Remove and return up to `max_batch` queued jobs sharing the first job's parameters."""
        first = self._queue[0]
        batch: list[_Job] = []
        rest: deque[_Job] = deque()
        while self._queue:
            job = self._queue.popleft()
            if job.future.done():  # the client went away while queued
                continue
            if job.key == first.key and len(batch) < self.max_batch:
                batch.append(job)
            else:
                rest.append(job)
        self._queue = rest
        return batch

    async def _run(self) -> None:
        while True:
            while not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            if len(self._queue) < self.max_batch and self.wait_s > 0:
                await asyncio.sleep(self.wait_s)
            batch = self._take()
            if not batch:
                continue
            if self.on_batch is not None:
                self.on_batch(len(batch))
            try:
                replies = await self.target.complete_batch([j.conversation for j in batch], batch[0].params)
                if len(replies) != len(batch):
                    raise RuntimeError(f"target returned {len(replies)} replies for {len(batch)} conversations")
            except asyncio.CancelledError:
                for j in batch:
                    j.future.cancel()
                raise
            except Exception as e:  # handed to every waiting request
                for j in batch:
                    if not j.future.done():
                        j.future.set_exception(e)
                continue
            for j, reply in zip(batch, replies, strict=True):
                if not j.future.done():
                    j.future.set_result(reply)
