"""The embedded smollm2 target and hf:PATH on a real model (slow: loads SmolLM2)."""

from __future__ import annotations

import pytest

from xiezhi.targets.base import TargetError, TargetOptions, create_target
from xiezhi.types import GenerationParams, Message

pytestmark = pytest.mark.slow

CONVS = [
    [Message(role="user", content="What is the capital of France?")],
    [Message(role="user", content="请用一句话介绍长城。")],
    [Message(role="system", content="Answer in one word."), Message(role="user", content="Name a colour.")],
]


async def test_smollm2_batch_is_greedy_and_deterministic() -> None:
    t = create_target("smollm2", TargetOptions(batch_size=8))
    assert t.max_batch == 8
    params = GenerationParams(max_tokens=16)
    first = await t.complete_batch(CONVS, params)
    again = await t.complete_batch(CONVS, params)
    assert [m.content for m in first] == [m.content for m in again]
    assert all(m.role == "assistant" and m.content for m in first)
    assert "Paris" in first[0].content
    single = await t.complete(CONVS[0], params)
    assert single.content.split()[:3] == first[0].content.split()[:3]


async def test_hf_path_loads_a_local_directory(tmp_path: pytest.TempPathFactory) -> None:
    from xiezhi.targets.smollm2 import _checkpoint_dir, gguf_path, load_smollm2

    load_smollm2()  # makes sure the converted checkpoint exists
    t = create_target(f"hf:{_checkpoint_dir(gguf_path())}", TargetOptions())
    reply = await t.complete(CONVS[0], GenerationParams(max_tokens=8))
    assert reply.content


def test_hf_bad_paths_are_one_line(tmp_path: pytest.TempPathFactory) -> None:
    with pytest.raises(TargetError, match="not a directory"):
        create_target("hf:/nonexistent/model", TargetOptions())
    with pytest.raises(TargetError, match="config.json"):
        create_target(f"hf:{tmp_path}", TargetOptions())
    with pytest.raises(TargetError, match="takes no argument"):
        create_target("smollm2:big", TargetOptions())
