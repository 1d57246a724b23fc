"""A local transformers chat model as a target (shared by ``smollm2`` and ``hf:PATH``).

Generation runs in a worker thread so the event loop stays free; one batch at a time
holds the model (a lock), and a batch is left-padded and generated in one call, which
is what keeps both CPU cores busy. torch and transformers are imported only here, when
a local target is built.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from xiezhi.targets.base import BaseTarget, TargetError, TargetOptions
from xiezhi.types import GenerationParams, Message

log = logging.getLogger("xiezhi.targets.local")

_LOAD_LOCK = threading.Lock()
_LOADED: dict[str, LocalChatModel] = {}

MAX_PROMPT_TOKENS = 1536


def _apply_stops(text: str, stops: Sequence[str] | None) -> str:
    for s in stops or ():
        cut = text.find(s)
        if cut >= 0:
            text = text[:cut]
    return text


class LocalChatModel:
    """A causal LM and its tokenizer, with batched greedy/sampled chat generation."""

    def __init__(self, model: Any, tokenizer: Any, name: str) -> None:
        import torch

        self.torch = torch
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        self.lock = threading.Lock()

    @classmethod
    def from_dir(cls, path: Path, name: str) -> LocalChatModel:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True, dtype="float32")
        except (OSError, ValueError) as e:
            raise TargetError(f"cannot load a transformers model from {path}: {str(e).splitlines()[0]}") from e
        return cls(model, tok, name)

    def render(self, conversation: Sequence[Message]) -> str:
        msgs = [{"role": m.role if m.role != "tool" else "user", "content": m.content} for m in conversation]
        if getattr(self.tokenizer, "chat_template", None):
            text: str = self.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
            return text
        return "\n".join(f"{m['role']}: {m['content']}" for m in msgs) + "\nassistant:"

    def generation_inputs(self, prompts: list[str], params: GenerationParams) -> tuple[Any, dict[str, Any]]:
        """Tokenised prompts (left-truncated to fit) and the `generate` keyword arguments for
        `params`: greedy at temperature 0, else seeded sampling. Call with `self.lock` held."""
        self.tokenizer.truncation_side = "left"
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, truncation=True,
                             max_length=MAX_PROMPT_TOKENS, add_special_tokens=False)
        kwargs: dict[str, Any] = {
            "max_new_tokens": max(1, params.max_tokens),
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self.tokenizer.eos_token_id,
        }
        if params.temperature > 0:
            if params.seed is not None:
                self.torch.manual_seed(params.seed)
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return enc, kwargs

    def generate(self, conversations: Sequence[Sequence[Message]], params: GenerationParams) -> list[str]:
        torch = self.torch
        prompts = [self.render(c) for c in conversations]
        with self.lock:
            enc, kwargs = self.generation_inputs(prompts, params)
            with torch.inference_mode():
                out = self.model.generate(**enc, **kwargs)
        width = enc["input_ids"].shape[1]
        texts = self.tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)
        return [_apply_stops(t, params.stop).strip() for t in texts]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])


class LocalTarget(BaseTarget):
    """Target over a `LocalChatModel`; `complete_batch` generates a whole batch at once."""

    def __init__(self, model: LocalChatModel, options: TargetOptions) -> None:
        self.model = model
        self.name = model.name
        self.max_batch = max(1, options.batch_size)
        self.options = options

    async def complete(self, conversation: Sequence[Message], params: GenerationParams) -> Message:
        return (await self.complete_batch([conversation], params))[0]

    async def complete_batch(
        self, conversations: Sequence[Sequence[Message]], params: GenerationParams
    ) -> list[Message]:
        if not conversations:
            return []
        try:
            texts = await asyncio.to_thread(self.model.generate, conversations, params)
        except RuntimeError as e:  # out of memory and similar
            raise TargetError(f"{self.name}: generation failed: {str(e).splitlines()[0]}") from e
        return [Message(role="assistant", content=t) for t in texts]


def set_threads() -> None:
    """Use every core for the matmuls (a CI box has 2); XIEZHI_TORCH_THREADS overrides.

    Also quiets transformers' own progress bars and warnings: xiezhi shows its own progress.
    """
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    n = int(os.environ.get("XIEZHI_TORCH_THREADS") or 0) or (os.cpu_count() or 1)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def load_once(key: str, build: Callable[[], LocalChatModel]) -> LocalChatModel:
    """The process's one copy of a local model: `build` runs (with all cores set) only the first time."""
    with _LOAD_LOCK:
        if key not in _LOADED:
            set_threads()
            _LOADED[key] = build()
        return _LOADED[key]
