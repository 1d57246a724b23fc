"""Rule-based linguistic mutators: keep the intent, change the syntactic structure.

Each rule (passive, 把, nominalisation, clause embedding, conditional, ...) is a
template family in ``data/linguistic.yaml``; the code here only declares them: one row
of `RULES` (name, languages, description) per mutator, registered as a `RuleMutator`
subclass. All are offline and deterministic for a given ``random.Random`` state.
"""

from __future__ import annotations

import random
from typing import ClassVar

from xiezhi.mutators.base import BaseMutator
from xiezhi.mutators.templating import render_rule
from xiezhi.registry import register


class RuleMutator(BaseMutator):
    """A linguistic mutator whose templates are the YAML family named like the mutator."""

    kind: ClassVar[str] = "linguistic"

    def mutate(self, text: str, lang: str, rng: random.Random) -> str:
        if lang not in self.languages:
            return text
        return render_rule(self.name, text, lang, rng)


_BOTH = ("zh", "en")

RULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("passivize", _BOTH, "Passive voice (en) / 被 construction (zh)."),
    ("ba-construction", ("zh",), "Chinese 把 construction: object fronted before the verb with a result complement."),
    ("nominalize", _BOTH, "Turn the request's verb phrase into a noun phrase (the writing of X / X的方法)."),
    ("relative-clause", _BOTH, "Embed the request in a relative clause (the method by which ...)."),
    ("complement-clause", _BOTH, "Embed the request as the complement of a verb (I would like to know whether ...)."),
    ("conditional", _BOTH, "Conditional framing (If someone needed to ... / 如果有人需要……)."),
    ("hypothetical", _BOTH, "Counterfactual / hypothetical framing (Suppose ... / 假设……)."),
    ("presuppose", _BOTH, "Presuppose that the answer was already given or is established (Given that ... / 既然……)."),
    ("coordinate", _BOTH, "Coordinate the request with a benign clause."),
    ("topicalize", _BOTH, "Front the object as a topic with a resumptive pronoun (X: ... it / X，……把它……)."),
    ("indirect-question", _BOTH, "Turn the request into an embedded (indirect) question."),
    ("long-distance", _BOTH, "Extract a wh-word across several embedded clauses (long-distance dependency)."),
)
"""One row per linguistic mutator: registered name, languages, description."""


def _rule(name: str, languages: tuple[str, ...], doc: str) -> type[RuleMutator]:
    attrs = {"name": name, "languages": frozenset(languages), "__doc__": doc, "__module__": __name__}
    cls = type(name.title().replace("-", ""), (RuleMutator,), attrs)
    register("mutator", name, languages=languages, family="linguistic")(cls)
    return cls


MUTATORS: dict[str, type[RuleMutator]] = {name: _rule(name, langs, doc) for name, langs, doc in RULES}
"""The registered classes, by name."""

LINGUISTIC: tuple[str, ...] = tuple(name for name, _, _ in RULES)
"""Names of the linguistic mutators, in a stable order (used by the tier recipes)."""
