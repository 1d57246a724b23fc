"""Optional LLM-assisted mutation: ask a capable model to apply a named rewrite rule.

Not used by default (it needs a target that follows instructions well); the rules are
the same names as the rule-based mutators, described to the model in its language.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, ClassVar

from xiezhi.mutators.base import BaseMutator
from xiezhi.registry import register
from xiezhi.types import GenerationParams, Message, XiezhiError

_RULES = {
    "passivize": ("use the passive voice", "改用被动句（被字句）"),
    "ba-construction": ("front the object", "改用把字句"),
    "nominalize": ("turn the main verb phrase into a noun phrase", "把主要动词短语名词化"),
    "relative-clause": ("embed the request inside a relative clause", "把请求嵌入一个定语从句"),
    "complement-clause": ("embed the request as the complement of a verb", "把请求嵌入为宾语从句"),
    "conditional": ("frame it as a conditional (if ...)", "改写成条件句（如果……）"),
    "hypothetical": ("frame it as a hypothetical", "改写成假设情境"),
    "presuppose": ("presuppose that the answer is already known", "预设答案已经为人所知"),
    "topicalize": ("move the object to the front as a topic", "把宾语提前作话题"),
    "indirect-question": ("make it an indirect question", "改写成间接疑问句"),
    "long-distance": ("ask it through several embedded clauses", "通过多层嵌套从句来提问"),
}

_PROMPT = {
    "en": ("Rewrite the following text so that it keeps exactly the same meaning but you {rule}. "
           "Reply with the rewritten text only.\n\nText: {text}"),
    "zh": "请改写下面这段话，保持意思完全不变，但要{rule}。只输出改写后的文本。\n\n原文：{text}",
}


@register("mutator", "llm-rewrite", languages=("zh", "en"), family="linguistic", requires_target=True)
class LlmRewrite(BaseMutator):
    """Ask a target model (`target` spec, e.g. ``openai:MODEL@URL``) to apply rule `rule`.

    Greedy decoding makes it as deterministic as the model allows; `rng` picks the rule
    when `rule` is ``"any"``.
    """

    name = "llm-rewrite"
    kind: ClassVar[str] = "linguistic"

    def __init__(self, target: str | None = None, rule: str = "any", max_tokens: int = 256) -> None:
        if rule != "any" and rule not in _RULES:
            raise XiezhiError(f"llm-rewrite: unknown rule {rule!r}; rules: any, {', '.join(_RULES)}")
        self.target_spec = target
        self.rule = rule
        self.max_tokens = max_tokens
        self._target: Any = None

    def prompt_for(self, text: str, lang: str, rng: random.Random) -> str:
        rule = self.rule if self.rule != "any" else rng.choice(sorted(_RULES))
        en, zh = _RULES[rule]
        key = "zh" if lang == "zh" else "en"
        return _PROMPT[key].format(rule=zh if key == "zh" else en, text=text)

    async def amutate(self, text: str, lang: str, rng: random.Random) -> str:
        if self.target_spec is None:
            raise XiezhiError("llm-rewrite needs a target: LlmRewrite(target='openai:MODEL@URL')")
        if self._target is None:
            from xiezhi.targets.base import create_target

            self._target = create_target(self.target_spec)
        params = GenerationParams(max_tokens=self.max_tokens, temperature=0.0)
        reply = await self._target.complete([Message(role="user", content=self.prompt_for(text, lang, rng))],
                                            params)
        out = reply.content.strip().strip('"“”')
        return out or text

    def mutate(self, text: str, lang: str, rng: random.Random) -> str:
        """Synchronous wrapper; inside a running event loop use `amutate`."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.amutate(text, lang, rng))
        raise XiezhiError("llm-rewrite.mutate called inside an event loop; await amutate() instead")

    async def aclose(self) -> None:
        if self._target is not None:
            await self._target.aclose()
            self._target = None
