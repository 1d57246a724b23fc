"""A deterministic shallow parser that scores syntactic complexity (zh / en).

No statistical parser ships offline with a sound licence and provenance on PyPI (the
spaCy English pipelines there are third-party re-uploads), so the measure is a
documented rule-based clause parser:

- the text is split into sentences (``. ? ! ; 。？！；``) and, for Chinese, into clause
  segments at commas;
- **embedding depth**: a stack of open clauses per sentence. English complementisers,
  relative pronouns and embedded wh-words (``that, which, whether, how`` ...) and
  infinitival ``to`` + verb open a level; adverbial subordinators (``if, because`` ...)
  open one that a following comma closes; quotation marks open one until they close.
  Chinese: adverbial subordinators (如果, 既然 ...) open a level closed by the comma;
  complement-taking verbs (认为, 想知道 ...) open one to the sentence end; a verb phrase
  modifying a noun through 的 (a relative clause, jieba POS) adds one inside its segment;
- **clauses**: sentences + clause openers + coordinated clauses (+ Chinese segments);
- **constituents**: phrase openers (determiners, prepositions, subordinators, 把/被 ...)
  plus clauses, an estimate of the number of phrases.

``score = max_depth + 0.25 * (clauses - 1) + 0.05 * constituents`` (>= 1 for any text,
unbounded; a plain one-clause request scores about 1.2-2, a doubly embedded one 3+).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class ComplexityReport:
    """The parts of a complexity score."""

    depth: int
    clauses: int
    constituents: int
    score: float


@lru_cache(maxsize=1)
def _markers() -> dict[str, Any]:
    text = resources.files("xiezhi.complexity").joinpath("markers.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return {lang: {k: frozenset(v) for k, v in d.items()} for lang, d in data.items()}


_OPEN_Q = {'"': '"', "“": "”", "「": "」", "『": "』", "(": ")", "（": "）"}
_EN_TOK = re.compile(r"[A-Za-z][A-Za-z'-]*|[0-9]+|[.?!;:,\"“”()]")
_SENT_END = frozenset(".?!;。？！；")


def _score(depth: int, clauses: int, constituents: int) -> ComplexityReport:
    score = depth + 0.25 * max(clauses - 1, 0) + 0.05 * constituents
    return ComplexityReport(depth, clauses, constituents, round(score, 4))


def analyse_en(text: str) -> ComplexityReport:
    """Shallow clause parse of English text."""
    m = _markers()["en"]
    toks = _EN_TOK.findall(text)
    stack: list[str] = []
    max_depth, clauses, constituents, start = 1, 0, 0, True
    closers: list[str] = []
    for i, tok in enumerate(toks):
        low = tok.lower()
        nxt = toks[i + 1].lower() if i + 1 < len(toks) else ""
        if tok in _SENT_END:
            stack, closers, start = [], [], True
            continue
        if start and tok not in _OPEN_Q:
            clauses += 1
        if closers and tok == closers[-1]:
            closers.pop()
            while stack and stack.pop() != "q":
                pass
        elif tok in _OPEN_Q:
            stack.append("q")
            closers.append(_OPEN_Q[tok])
            clauses += 1
        elif tok == ",":
            if "adv" in stack:  # a fronted adverbial clause ends; the main clause starts
                while stack.pop() != "adv":
                    pass
                start = True
                continue
        elif low in m["adverbial"] and (start or nxt not in (",",)):
            stack.append("adv")
            clauses += 0 if start else 1
            constituents += 1
        elif low in m["embedding"] and not start and not (low == "that" and nxt in m["determiners"]):
            stack.append("emb")
            clauses += 1
            constituents += 1
        elif low == "to" and nxt.isalpha() and nxt not in m["not_verbs_after_to"] and nxt not in m["determiners"]:
            stack.append("inf")
            clauses += 1
            constituents += 1
        elif low in m["coordinators"]:
            if nxt in ("i", "you", "we", "they", "he", "she", "it", "also", "then"):
                clauses += 1  # a coordinated clause: back to the depth of its conjunct
                stack = [s for s in stack if s == "q"]
            constituents += 1
        elif low in m["determiners"] or low in m["prepositions"]:
            constituents += 1
        if tok not in _OPEN_Q:
            start = False
        max_depth = max(max_depth, 1 + len(stack))
    return _score(max_depth, max(clauses, 1), constituents + max(clauses, 1))


def _cut(text: str) -> list[tuple[str, str]]:
    import jieba
    import jieba.posseg as pseg

    jieba.setLogLevel(60)
    return [(w.word, w.flag) for w in pseg.cut(text)]


def analyse_zh(text: str) -> ComplexityReport:
    """Shallow clause parse of Chinese text (jieba words and POS tags)."""
    m = _markers()["zh"]
    stack: list[str] = []
    closers: list[str] = []
    max_depth, clauses, constituents = 1, 0, 0
    seg_start, seg_has_verb, rel_in_seg = True, False, 0
    for w, flag in _cut(text):
        if w in _SENT_END or w in "，,：:、":
            if w in _SENT_END:
                stack, closers = [], []
            elif stack and stack[-1] == "adv" and w in "，,":
                stack.pop()
            seg_start, seg_has_verb, rel_in_seg = True, False, 0
            continue
        if seg_start:
            clauses += 1
            seg_start = False
        if closers and w == closers[-1]:
            closers.pop()
            while stack and stack.pop() != "q":
                pass
        elif w in _OPEN_Q:
            stack.append("q")
            closers.append(_OPEN_Q[w])
        elif w in m["adverbial"]:
            stack.append("adv")
            constituents += 1
        elif w in m["complement_verbs"]:
            stack.append("comp")
            clauses += 1
            constituents += 1
        elif w == "的" and seg_has_verb and rel_in_seg < 2:
            rel_in_seg += 1
            clauses += 1
            constituents += 1
        elif w in m["coordinators"] or w in m["constructions"] or flag == "p":
            constituents += 1
        elif flag.startswith(("n", "v", "r")) and len(w) > 1:
            constituents += 0 if flag.startswith("v") else 1
        if flag.startswith("v"):
            seg_has_verb = True
        max_depth = max(max_depth, 1 + len(stack) + rel_in_seg)
    return _score(max_depth, max(clauses, 1), constituents // 2 + max(clauses, 1))


def analyse(text: str, lang: str) -> ComplexityReport:
    """Complexity parts of `text` (``zh`` uses the Chinese parser, anything else English)."""
    if not text.strip():
        return _score(1, 1, 0)
    return analyse_zh(text) if lang == "zh" else analyse_en(text)


def complexity(text: str, lang: str) -> float:
    """One complexity score for `text`: higher = more deeply embedded, more clauses."""
    return analyse(text, lang).score
