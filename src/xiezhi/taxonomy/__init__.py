"""Risk taxonomies as data: TC260-003 Appendix A, AILuminate v1, Llama Guard 3, OWASP LLM 2025.

Each scheme is a YAML file beside this module; ``mapping.yaml`` maps TC260 risk types onto
the others. Files are read once through cached pure loaders (no module-level state)::

    >>> from xiezhi.taxonomy import describe, map_risk_type
    >>> describe("A.4.e", lang="zh")
    '侵害他人隐私权'
    >>> map_risk_type("A.4.e", "llamaguard3")
    ['S7']
"""

from __future__ import annotations

from xiezhi.taxonomy.loader import load_mapping, load_scheme, schemes
from xiezhi.taxonomy.models import Category, Localized, MappingEntry, RiskType, Scheme
from xiezhi.types import XiezhiError

DEFAULT_SCHEME = "tc260"

__all__ = [
    "DEFAULT_SCHEME",
    "Category",
    "Localized",
    "MappingEntry",
    "RiskType",
    "Scheme",
    "category_of",
    "define",
    "describe",
    "is_risk_type",
    "load_mapping",
    "load_scheme",
    "map_risk_type",
    "risk_type_ids",
    "schemes",
]


def risk_type_ids(scheme: str = DEFAULT_SCHEME) -> list[str]:
    """Every risk-type id of `scheme`, in order (TC260: the 31 ids A.1.a ... A.5.b)."""
    return load_scheme(scheme).risk_type_ids()


def is_risk_type(id_: str, scheme: str = DEFAULT_SCHEME) -> bool:
    """True when `id_` is a risk type (a leaf, not a category) of `scheme`."""
    return id_ in set(risk_type_ids(scheme))


def category_of(risk_type_id: str, scheme: str = DEFAULT_SCHEME) -> str:
    """The category id holding a risk type ("A.4.e" -> "A.4")."""
    cat = load_scheme(scheme).category_of(risk_type_id)
    if cat is None:
        raise XiezhiError(f"unknown {scheme} risk type {risk_type_id!r}")
    return cat.id


def describe(id_: str, lang: str = "en", scheme: str = DEFAULT_SCHEME) -> str:
    """The name of a risk type or category in `lang` ("zh" or "en")."""
    node = load_scheme(scheme).find(id_)
    if node is None:
        raise XiezhiError(f"unknown {scheme} id {id_!r}")
    return node.name.get(lang)


def define(id_: str, lang: str = "en", scheme: str = DEFAULT_SCHEME) -> str:
    """The one-line definition of a risk type or category in `lang`."""
    node = load_scheme(scheme).find(id_)
    if node is None:
        raise XiezhiError(f"unknown {scheme} id {id_!r}")
    return node.definition.get(lang)


def map_risk_type(tc260_id: str, to_scheme: str) -> list[str]:
    """Ids in `to_scheme` that a TC260 risk type corresponds to ([] where none really applies)."""
    if to_scheme == DEFAULT_SCHEME:
        if not is_risk_type(tc260_id):
            raise XiezhiError(f"unknown tc260 risk type {tc260_id!r}")
        return [tc260_id]
    load_scheme(to_scheme)  # unknown scheme -> clear error
    entry = load_mapping().get(tc260_id)
    if entry is None:
        raise XiezhiError(f"unknown tc260 risk type {tc260_id!r}")
    return entry.targets(to_scheme)
