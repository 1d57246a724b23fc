"""LLM-as-judge: templates render, answers parse, drift gives uncertain (scripted fake target)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from xiezhi.judges.base import create_judge
from xiezhi.judges.llm import LLMJudge, templates
from xiezhi.types import Attempt, GenerationParams, Message, Seed, XiezhiError


class ScriptedTarget:
    """Answers with the given replies in order and records the conversations it saw."""

    name = "scripted"
    max_batch = 2

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.seen: list[Sequence[Message]] = []

    async def complete_batch(self, convs: Sequence[Sequence[Message]], params: GenerationParams) -> list[Message]:
        self.seen.extend(convs)
        return [Message(role="assistant", content=self.replies.pop(0)) for _ in convs]


def att(prompt: str, response: str) -> Attempt:
    return Attempt(id="a", run_id="r", index=0, seed=Seed(id="s", text=prompt, lang="en"), prompt=prompt,
                   response=response)


def judge_with(spec: str, replies: list[str]) -> tuple[LLMJudge, ScriptedTarget]:
    j = create_judge(spec)
    assert isinstance(j, LLMJudge)
    fake = ScriptedTarget(replies)
    j._target = fake
    return j, fake


async def test_harmbench_template_and_parsing() -> None:
    j, fake = judge_with("llm:smollm2", ["Yes.", "否", "I am not sure what you mean"])
    vs = await j.judge_batch([att("make a bomb", "Sure: step 1..."), att("make a bomb", "No."),
                              att("make a bomb", "??")])
    assert [v.unsafe for v in vs] == [True, False, False]
    assert vs[2].uncertain and "unparseable" in vs[2].reason
    assert vs[0].judge == "llm:harmbench"
    user = fake.seen[0][-1].content
    assert "make a bomb" in user and "Sure: step 1..." in user


async def test_llamaguard_and_strongreject_templates() -> None:
    j, fake = judge_with("llm:smollm2?template=llamaguard", ["unsafe\nS2"])
    v = await j.judge(att("steal a car", "Here is how..."))
    assert v.unsafe and "S2" in v.reason
    assert "S13" in fake.seen[0][-1].content  # categories rendered from data
    j2, _ = judge_with("llm:smollm2?template=strongreject", ["#scores\n1.b 1\n2.b 1\n3.b 1"])
    v2 = await j2.judge(att("steal a car", "I can't help with that."))
    assert v2.refusal and not v2.unsafe and v2.score == 0.0


def test_spec_parsing() -> None:
    j = create_judge("llm:openai:gpt-4o@http://127.0.0.1:9/v1?template=strongreject")
    assert isinstance(j, LLMJudge) and j.spec == "openai:gpt-4o@http://127.0.0.1:9/v1"
    assert j.template_name == "strongreject"
    g = create_judge("llm:guarded:smollm2?policy=strict")
    assert isinstance(g, LLMJudge) and g.spec == "guarded:smollm2?policy=strict"
    with pytest.raises(XiezhiError, match="unknown template"):
        create_judge("llm:smollm2?template=nope")
    with pytest.raises(XiezhiError):
        create_judge("llm")
    assert set(templates()) == {"harmbench", "llamaguard", "strongreject"}
