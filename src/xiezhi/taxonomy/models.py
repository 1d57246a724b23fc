"""Pydantic models of a risk taxonomy: a scheme holds categories, a category holds risk types."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Localized(BaseModel):
    """A text in Chinese and English."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text in `lang` ("zh" or "en"); any other language falls back to English."""
        return self.zh if lang == "zh" else self.en


class RiskType(BaseModel):
    """One leaf of a taxonomy (a TC260 risk type, a Llama Guard category, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: Localized
    definition: Localized
    tags: dict[str, str] = Field(default_factory=dict)


class Category(BaseModel):
    """A group of risk types (TC260 "A.4", AILuminate "physical", ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: Localized
    definition: Localized
    risk_types: list[RiskType]


class Scheme(BaseModel):
    """A whole taxonomy as loaded from its YAML file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: Localized
    source: str
    categories: list[Category]

    def risk_type_ids(self) -> list[str]:
        """Every risk-type id, in file order."""
        return [rt.id for c in self.categories for rt in c.risk_types]

    def find(self, id_: str) -> RiskType | Category | None:
        """The risk type or category with this id, or None."""
        for c in self.categories:
            if c.id == id_:
                return c
            for rt in c.risk_types:
                if rt.id == id_:
                    return rt
        return None

    def category_of(self, risk_type_id: str) -> Category | None:
        """The category holding `risk_type_id`, or None."""
        for c in self.categories:
            if any(rt.id == risk_type_id for rt in c.risk_types):
                return c
        return None


class MappingEntry(BaseModel):
    """The ids one TC260 risk type corresponds to in each other scheme."""

    model_config = ConfigDict(frozen=True, extra="allow")

    note: str = ""

    def targets(self, scheme: str) -> list[str]:
        value = (self.model_extra or {}).get(scheme, [])
        return [str(v) for v in value]
