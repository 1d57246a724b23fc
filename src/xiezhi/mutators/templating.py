"""Render a rule's template family (from YAML) with the slots of a seed."""

from __future__ import annotations

import random
import string
from collections.abc import Sequence

from xiezhi.mutators.analysis import analyse
from xiezhi.mutators.data_files import load

_FMT = string.Formatter()


def fields(template: str) -> set[str]:
    """The slot names a template uses."""
    return {name for _, name, _, _ in _FMT.parse(template) if name}


def _capitalised(values: dict[str, str]) -> dict[str, str]:
    out = dict(values)
    for k, v in values.items():
        if v:
            out[k[0].upper() + k[1:]] = v[0].upper() + v[1:]
    return out


def fill(templates: Sequence[str], values: dict[str, str], rng: random.Random) -> str | None:
    """One template (chosen by `rng`) whose slots are all present, filled; None if none fits."""
    present = {k for k, v in values.items() if v or k in ("adv", "Adv")}  # an adverbial may be empty
    usable = [t for t in templates if fields(t) <= present]
    if not usable:
        return None
    return rng.choice(usable).format_map(values)


def render_rule(rule: str, text: str, lang: str, rng: random.Random) -> str:
    """Apply the linguistic rule `rule` to `text`: structured, then statement, then fallback templates."""
    data = load("linguistic")
    family = data["rules"][rule][lang]
    values = dict(analyse(text, lang).values)
    values["benign"] = rng.choice(data["benign"][lang])
    values = _capitalised(values)
    for group in ("structured", "statement", "fallback"):
        out = fill(family.get(group, []), values, rng)
        if out is not None:
            return out
    return text
