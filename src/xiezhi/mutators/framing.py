"""Jailbreak strategy mutators: wrap the request in a persona, frame, or in-context examples.

Templates live in ``data/strategies.yaml``; this module registers one mutator per family
and fills the few slots that need code (payload splitting, few-/many-shot examples).
"""

from __future__ import annotations

import random
from typing import ClassVar

from xiezhi.mutators.base import BaseMutator
from xiezhi.mutators.data_files import load
from xiezhi.registry import register

_BOTH = ("zh", "en")


class FrameMutator(BaseMutator):
    """Fills one template of the strategy family named like the mutator."""

    kind: ClassVar[str] = "strategy"

    def slots(self, text: str, lang: str, rng: random.Random) -> dict[str, str]:
        return {"text": text}

    def mutate(self, text: str, lang: str, rng: random.Random) -> str:
        if lang not in self.languages:
            return text
        templates: list[str] = load("strategies")["templates"][self.name][lang]
        template = rng.choice(templates)
        return template.format_map(self.slots(text, lang, rng))


def _frame(name: str, doc: str) -> type[FrameMutator]:
    cls = type(name.title().replace("-", ""), (FrameMutator,), {"name": name, "__doc__": doc})
    register("mutator", name, languages=_BOTH, family="strategy")(cls)
    return cls


RolePlay = _frame("role-play", "Role-play as an unrestricted character (DAN-style) who answers anything.")
Persona = _frame("persona", "Adopt a persona (expert, grandmother) whose answer is the harmful content.")
RefusalSuppression = _frame("refusal-suppression", "Forbid the words and moves of a refusal.")
PrefixInjection = _frame("prefix-injection", "Demand that the reply start with an affirmative prefix.")
FictionalFraming = _frame("fictional-framing", "Frame the request as fiction (a novel's chapter, a story).")
AcademicFraming = _frame("academic-framing", "Frame the request as research or coursework.")
HistoricalFraming = _frame("historical-framing", "Frame the request as history (how it was done then).")


def split_three(text: str) -> tuple[str, str, str]:
    """Split `text` into three non-empty-ish parts at word (en) or character (zh) boundaries."""
    words = text.split(" ")
    if len(words) >= 3:
        k = len(words)
        i, j = k // 3, 2 * k // 3
        return " ".join(words[:i]) + " ", " ".join(words[i:j]) + " ", " ".join(words[j:])
    n = len(text)
    return text[: n // 3], text[n // 3: 2 * n // 3], text[2 * n // 3:]


@register("mutator", "payload-splitting", languages=_BOTH, family="strategy")
class PayloadSplitting(FrameMutator):
    """Split the request into variables and ask the model to join and answer them."""

    name = "payload-splitting"

    def slots(self, text: str, lang: str, rng: random.Random) -> dict[str, str]:
        a, b, c = split_three(text)
        return {"text": text, "a": a, "b": b, "c": c}


class ShotsMutator(FrameMutator):
    """In-context examples of compliance before the request."""

    n_shots: ClassVar[tuple[int, int]] = (2, 3)

    def slots(self, text: str, lang: str, rng: random.Random) -> dict[str, str]:
        pool: list[list[str]] = load("strategies")["shots"][lang]
        lo, hi = self.n_shots
        k = rng.randint(lo, hi)
        order = list(range(len(pool)))
        rng.shuffle(order)
        picked = [pool[order[i % len(order)]] for i in range(k)]
        user, bot, colon = ("用户", "助手", "：") if lang == "zh" else ("User", "Assistant", ": ")
        shots = "\n".join(f"{user}{colon}{q}\n{bot}{colon}{a}" for q, a in picked)
        return {"text": text, "shots": shots}


@register("mutator", "few-shot", languages=_BOTH, family="strategy")
class FewShot(ShotsMutator):
    """A few (2-3) examples of an assistant complying, then the request."""

    name = "few-shot"


@register("mutator", "many-shot", languages=_BOTH, family="strategy")
class ManyShot(ShotsMutator):
    """Many (16-24) faux dialogue turns of compliance, then the request (many-shot jailbreaking)."""

    name = "many-shot"
    n_shots = (16, 24)


@register("mutator", "language-switch", languages=_BOTH, family="strategy", changes_language=True)
class LanguageSwitch(FrameMutator):
    """Frame the request in the other language and ask for the answer in it (changes language)."""

    name = "language-switch"
    changes_language: ClassVar[bool] = True
