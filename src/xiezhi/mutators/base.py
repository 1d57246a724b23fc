"""Mutator contract: rewrite a prompt's surface, keep its intent.

`mutate(text, lang, rng)` must be deterministic for a given `rng` state and must keep
the language (``zh`` stays ``zh``) unless the mutator is declared a language switch.
"""

from __future__ import annotations

import random
from typing import ClassVar, Protocol, runtime_checkable


@runtime_checkable
class Mutator(Protocol):
    name: str
    languages: frozenset[str]
    kind: str  # "linguistic" | "strategy" | "encoding"

    def mutate(self, text: str, lang: str, rng: random.Random) -> str: ...


class BaseMutator:
    name: ClassVar[str] = "mutator"
    languages: ClassVar[frozenset[str]] = frozenset({"zh", "en"})
    kind: ClassVar[str] = "linguistic"

    def mutate(self, text: str, lang: str, rng: random.Random) -> str:
        raise NotImplementedError
