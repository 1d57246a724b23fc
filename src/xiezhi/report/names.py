"""Human names (zh / en) for taxonomy ids, from `xiezhi.taxonomy` when it is installed.

Imported lazily so a report still renders (ids only) where the taxonomy is missing or an
id is unknown to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xiezhi.types import XiezhiError

Describe = Callable[[str, str, str], str]
UNMAPPED = "unmapped"


def _describer() -> Describe | None:
    try:
        from xiezhi.taxonomy import describe
    except ImportError:
        return None
    return describe


def names_for(ids: list[str], scheme: str = "tc260") -> dict[str, dict[str, str]]:
    """id -> {"en": name, "zh": name} for the ids the taxonomy knows; others are left out."""
    describe = _describer()
    out: dict[str, dict[str, str]] = {}
    if describe is None:
        return out
    for id_ in ids:
        try:
            out[id_] = {"en": describe(id_, "en", scheme), "zh": describe(id_, "zh", scheme)}
        except (XiezhiError, KeyError, ValueError):
            continue
    return out


def grouper(scheme: str) -> Callable[[str, str, str], tuple[list[str], list[str]]]:
    """(seed scheme, category, risk type) -> (category ids, risk-type ids) in `scheme`.

    TC260 (or a seed already tagged in `scheme`) keeps its own tags; otherwise the TC260
    risk type is mapped with `xiezhi.taxonomy.map_risk_type` (possibly to several ids, or
    to none: "unmapped"). XiezhiError when the taxonomy is missing or `scheme` unknown.
    """
    if scheme == "tc260":
        return lambda _s, cat, rt: ([cat], [rt])
    try:
        from xiezhi.taxonomy import category_of, map_risk_type, schemes
    except ImportError:
        raise XiezhiError(
            f"--scheme {scheme}: grouping by another scheme needs xiezhi.taxonomy, which is not installed"
        ) from None
    known = schemes()
    if scheme not in known:
        raise XiezhiError(f"unknown taxonomy scheme {scheme!r}; known schemes: {', '.join(known)}")

    def fn(seed_scheme: str, cat: str, rt: str) -> tuple[list[str], list[str]]:
        if seed_scheme == scheme:
            return [cat], [rt]
        try:
            ids = list(map_risk_type(rt, scheme)) if seed_scheme == "tc260" else []
        except XiezhiError:
            ids = []
        if not ids:
            return [UNMAPPED], [UNMAPPED]
        cats: list[str] = []
        for i in ids:
            try:
                c = category_of(i, scheme)
            except XiezhiError:
                c = i
            if c not in cats:
                cats.append(c)
        return cats, ids

    return fn


def label(key: str, names: dict[str, Any]) -> str:
    """``A.4 侵犯他人合法权益 / Infringing others' rights`` style label for a group key."""
    n = names.get(key)
    if not n:
        return key
    return f"{key} {n.get('zh', '')} / {n.get('en', '')}".strip()
