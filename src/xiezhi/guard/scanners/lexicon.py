"""Harmful-topic lexicon by TC260-003 risk type (data: ``guard/policy/lexicons/harmful.yaml``).

A topic term is weak evidence on its own (news, fiction, prevention); with a how-to intent
cue it is strong; a prevention cue halves it. The matched risk type is reported, so a
decision says *which* kind of harm it saw.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

LEXICON = Path(__file__).resolve().parents[1] / "policy" / "lexicons" / "harmful.yaml"


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[tuple[str, tuple[str, ...]], ...]  # (risk type, normalised terms)
    intent: tuple[str, ...]
    prevention: tuple[str, ...]


_WORD = re.compile(r"[a-z0-9']+|[\u4e00-\u9fff]+")


def _norm(text: str) -> str:
    """Lower-cased words joined by single spaces, padded: whole-word tests become substring tests."""
    return " " + " ".join(_WORD.findall(text.lower())) + " "


def _terms(words: list[str]) -> tuple[str, ...]:
    out = []
    for w in {str(x) for x in words}:
        n = _norm(w).strip()
        # Chinese terms match anywhere; English ones as whole words (padded with spaces)
        out.append(n if re.search(r"[\u4e00-\u9fff]", n) else f" {n} ")
    return tuple(sorted(out))


@functools.lru_cache(maxsize=4)
def load_lexicon(path: str = str(LEXICON)) -> Lexicon:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    terms = tuple((rtype, _terms([*langs.get("zh", []), *langs.get("en", [])]))
                  for rtype, langs in data["types"].items())
    return Lexicon(terms, _terms([*data["intent"]["zh"], *data["intent"]["en"]]),
                   _terms([*data["prevention"]["zh"], *data["prevention"]["en"]]))


def lexicon_risk(text: str, lex: Lexicon | None = None) -> tuple[float, list[str]]:
    """(risk, matched risk types): 0.2 for a term, 0.45 with intent, 0.6 for 2+ types with intent."""
    lex = lex or load_lexicon()
    norm = _norm(text)
    squeezed = norm.replace(" ", "")  # Chinese terms may be split by the word regex
    types = [rtype for rtype, terms in lex.terms
             if any((t in squeezed) if not t.startswith(" ") else (t in norm) for t in terms)]
    if not types:
        return 0.0, []
    def has(terms: tuple[str, ...]) -> bool:
        return any((t in squeezed) if not t.startswith(" ") else (t in norm) for t in terms)

    risk = 0.2
    if has(lex.intent):
        risk = 0.6 if len(types) >= 2 else 0.45
    if has(lex.prevention):
        risk *= 0.5
    return risk, types
