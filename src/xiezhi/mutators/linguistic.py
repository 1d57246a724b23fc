"""Rule-based linguistic mutators: keep the intent, change the syntactic structure.

Each rule (passive, 把, nominalisation, clause embedding, conditional, ...) is a
template family in ``data/linguistic.yaml``; the code here only registers them. All
are offline and deterministic for a given ``random.Random`` state.
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


@register("mutator", "passivize", languages=_BOTH, family="linguistic")
class Passivize(RuleMutator):
    """Passive voice (en) / 被 construction (zh)."""

    name = "passivize"


@register("mutator", "ba-construction", languages=("zh",), family="linguistic")
class BaConstruction(RuleMutator):
    """Chinese 把 construction: object fronted before the verb with a result complement."""

    name = "ba-construction"
    languages = frozenset({"zh"})


@register("mutator", "nominalize", languages=_BOTH, family="linguistic")
class Nominalize(RuleMutator):
    """Turn the request's verb phrase into a noun phrase (the writing of X / X的方法)."""

    name = "nominalize"


@register("mutator", "relative-clause", languages=_BOTH, family="linguistic")
class RelativeClause(RuleMutator):
    """Embed the request in a relative clause (the method by which ...)."""

    name = "relative-clause"


@register("mutator", "complement-clause", languages=_BOTH, family="linguistic")
class ComplementClause(RuleMutator):
    """Embed the request as the complement of a verb (I would like to know whether ...)."""

    name = "complement-clause"


@register("mutator", "conditional", languages=_BOTH, family="linguistic")
class Conditional(RuleMutator):
    """Conditional framing (If someone needed to ... / 如果有人需要……)."""

    name = "conditional"


@register("mutator", "hypothetical", languages=_BOTH, family="linguistic")
class Hypothetical(RuleMutator):
    """Counterfactual / hypothetical framing (Suppose ... / 假设……)."""

    name = "hypothetical"


@register("mutator", "presuppose", languages=_BOTH, family="linguistic")
class Presuppose(RuleMutator):
    """Presuppose that the answer was already given or is established (Given that ... / 既然……)."""

    name = "presuppose"


@register("mutator", "coordinate", languages=_BOTH, family="linguistic")
class Coordinate(RuleMutator):
    """Coordinate the request with a benign clause."""

    name = "coordinate"


@register("mutator", "topicalize", languages=_BOTH, family="linguistic")
class Topicalize(RuleMutator):
    """Front the object as a topic with a resumptive pronoun (X: ... it / X，……把它……)."""

    name = "topicalize"


@register("mutator", "indirect-question", languages=_BOTH, family="linguistic")
class IndirectQuestion(RuleMutator):
    """Turn the request into an embedded (indirect) question."""

    name = "indirect-question"


@register("mutator", "long-distance", languages=_BOTH, family="linguistic")
class LongDistance(RuleMutator):
    """Extract a wh-word across several embedded clauses (long-distance dependency)."""

    name = "long-distance"


LINGUISTIC: tuple[str, ...] = (
    "passivize", "ba-construction", "nominalize", "relative-clause", "complement-clause", "conditional",
    "hypothetical", "presuppose", "coordinate", "topicalize", "indirect-question", "long-distance",
)
"""Names of the linguistic mutators, in a stable order (used by the tier recipes)."""
