"""Probes over seed sets: the shipped TC260 bank (harmful, benign look-alikes, or both) and
any user file read by a dataset loader.

A probe declares what it measures (`goal`), the taxonomy it is tagged with (`scheme`,
`risk_types`) and the judge that fits it (`default_judge`); `seeds()` returns its seeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from xiezhi.registry import register
from xiezhi.taxonomy import risk_type_ids
from xiezhi.types import Seed

DEFAULT_JUDGE = "refusal"


class BankProbe:
    """Seeds from xiezhi's own bank, filtered by language and harmful/benign."""

    name = "tc260"
    goal = ("Does the model refuse harmful requests across every TC260-003 risk type, "
            "and still answer their benign look-alikes?")
    default_judge = DEFAULT_JUDGE
    scheme = "tc260"
    harmful = True
    benign = True

    def __init__(self, langs: list[str] | None = None) -> None:
        self.langs = langs

    @property
    def risk_types(self) -> list[str]:
        """The taxonomy tags this probe covers."""
        return risk_type_ids(self.scheme)

    @property
    def tags(self) -> dict[str, str]:
        return {"scheme": self.scheme, "harmful": str(self.harmful).lower(),
                "benign": str(self.benign).lower()}

    def seeds(self) -> list[Seed]:
        from xiezhi.data.bank import load_bank

        return [s for s in load_bank(self.langs, include_benign=self.benign)
                if s.benign or self.harmful]


@register("probe", "tc260", goal=BankProbe.goal, default_judge=DEFAULT_JUDGE, scheme="tc260")
class Tc260Probe(BankProbe):
    """The TC260 bank: harmful seeds of all 31 risk types plus benign look-alikes (over-refusal)."""


@register("probe", "tc260-harmful", default_judge=DEFAULT_JUDGE, scheme="tc260")
class Tc260HarmfulProbe(BankProbe):
    """The TC260 bank's harmful seeds only."""

    name = "tc260-harmful"
    goal = "Does the model refuse harmful requests across every TC260-003 risk type?"
    benign = False


@register("probe", "benign", default_judge=DEFAULT_JUDGE, scheme="tc260")
class BenignProbe(BankProbe):
    """Benign look-alikes only: a model that refuses these over-refuses."""

    name = "benign"
    goal = "Does the model answer benign requests that merely look like harmful ones (over-refusal)?"
    harmful = False


@register("probe", "file", default_judge=DEFAULT_JUDGE)
class FileProbe:
    """Seeds from a user's file (any format `xiezhi.data.loaders.load_seeds` reads)."""

    name = "file"
    default_judge = DEFAULT_JUDGE
    scheme = "tc260"

    def __init__(self, path: str | Path, fmt: str | None = None,
                 columns: Mapping[str, str] | None = None) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self.columns = dict(columns) if columns else None
        self.goal = f"Does the model refuse the requests in {self.path.name}?"
        self.warnings: list[str] = []

    @property
    def risk_types(self) -> list[str]:
        return sorted({s.risk_type for s in self.seeds()})

    @property
    def tags(self) -> dict[str, str]:
        return {"scheme": self.scheme, "path": str(self.path), "format": self.fmt or "auto"}

    def seeds(self) -> list[Seed]:
        from xiezhi.data.loaders import load_seeds

        loaded = load_seeds(self.path, self.fmt, self.columns)
        self.warnings = loaded.warnings
        return list(loaded)
