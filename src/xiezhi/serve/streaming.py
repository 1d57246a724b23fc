"""Token streaming for `xiezhi serve`: text pieces sent as the model produces them.

A target streams when it has a ``stream_text(conversation, params)`` method (an async
iterator of text pieces). Local transformers targets (``smollm2``, ``hf:PATH``) get one here:
generation runs in a worker thread with a `transformers.TextStreamer` whose pieces are
handed to the event loop as they are decoded. Other targets (``openai:``, ``guarded:`` —
whose output guard must see the whole answer) are not streamed; the server sends their
finished answer in chunks.

The pieces follow the same rules as the non-streamed answer: leading and trailing whitespace
is dropped and the text ends before the first stop string (held back until it cannot be the
start of one); a stop string, the client leaving or the timeout also stop the generation.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from xiezhi.targets.base import TargetError
from xiezhi.types import GenerationParams, Message

if TYPE_CHECKING:
    from xiezhi.targets.local import LocalChatModel

StreamFn = Callable[[Sequence[Message], GenerationParams], AsyncIterator[str]]


def stream_function(target: Any) -> StreamFn | None:
    """How to stream `target`'s answers, or None when it cannot stream."""
    fn = getattr(target, "stream_text", None)
    if callable(fn):
        return fn  # type: ignore[no-any-return]
    from xiezhi.targets.local import LocalTarget

    if isinstance(target, LocalTarget):
        model = target.model
        name = target.name

        def stream(conversation: Sequence[Message], params: GenerationParams) -> AsyncIterator[str]:
            return stream_local(model, conversation, params, name)

        return stream
    return None


class TextFilter:
    """Incremental version of ``_apply_stops(text, stops).strip()``: feed pieces, get what is safe to send."""

    def __init__(self, stops: Sequence[str] | None) -> None:
        self.stops = [s for s in stops or () if s]
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.text = ""  # everything received, leading whitespace dropped
        self.sent = 0
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.text = (self.text + piece) if self.text else piece.lstrip()
        cut = min((i for i in (self.text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            return self._release(self.text[:cut].rstrip())
        # hold back what could still be the start of a stop string, and trailing whitespace
        safe = self.text[:max(self.sent, len(self.text) - self.hold)]
        return self._release(safe.rstrip())

    def finish(self) -> str:
        return "" if self.stopped else self._release(self.text.rstrip())

    def _release(self, upto_text: str) -> str:
        if len(upto_text) <= self.sent:
            return ""
        out, self.sent = upto_text[self.sent:], len(upto_text)
        return out


async def stream_local(model: LocalChatModel, conversation: Sequence[Message], params: GenerationParams,
                       name: str = "local") -> AsyncIterator[str]:
    """Generate with `model` in a worker thread; yield decoded text pieces as they come."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextStreamer


    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, str | BaseException | None]] = asyncio.Queue()
    cancel = threading.Event()
    deadline = time.monotonic() + params.timeout_s
    tok = model.tokenizer

    class _Pieces(TextStreamer):
        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                loop.call_soon_threadsafe(queue.put_nowait, ("text", text))

    class _Cancel(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            stop = cancel.is_set() or time.monotonic() > deadline
            return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

    def run() -> None:
        try:
            prompt = model.render(conversation)
            with model.lock:
                enc, kwargs = model.generation_inputs([prompt], params)
                kwargs.update(streamer=_Pieces(tok, skip_prompt=True, skip_special_tokens=True),
                              stopping_criteria=StoppingCriteriaList([_Cancel()]))
                with torch.inference_mode():
                    model.model.generate(**enc, **kwargs)
            loop.call_soon_threadsafe(queue.put_nowait, ("end", None))
        except BaseException as e:  # handed to the event loop
            loop.call_soon_threadsafe(queue.put_nowait, ("error", e))

    worker = threading.Thread(target=run, name="xiezhi-serve-stream", daemon=True)
    worker.start()
    filt = TextFilter(params.stop)
    try:
        while True:
            kind, value = await queue.get()
            if kind == "end":
                break
            if kind == "error":
                assert isinstance(value, BaseException)
                if isinstance(value, RuntimeError):
                    raise TargetError(f"{name}: generation failed: {str(value).splitlines()[0]}") from value
                raise value
            out = filt.feed(str(value))
            if out:
                yield out
            if filt.stopped:
                break
        rest = filt.finish()
        if rest:
            yield rest
    finally:
        cancel.set()  # a stop string, the client gone, or an error: the model stops at the next token
