"""A shallow, rule-based analysis of a seed into the slots the templates use.

English: an imperative ("Write a script that ...") or a how-question ("How can I make
X?") yields a verb phrase ``vp`` = verb + object, with the verb's participle and
gerund from the lexicon (regular rules otherwise). Chinese: known question/request
prefixes (如何 / 请 / 我想) are stripped and jieba's POS tags find the main verb, its
adverbials and its object. Everything else falls back to whole-text slots, so every
template family always has something to render.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from xiezhi.mutators.data_files import load

_END = "?？!！。.;；,，:： \t\n"


@dataclass
class Slots:
    """Named pieces of a seed; ``values`` holds only the slots that were found."""

    lang: str
    values: dict[str, str] = field(default_factory=dict)

    def has(self, *names: str) -> bool:
        return all(self.values.get(n) for n in names)


def _strip_end(text: str) -> str:
    return text.strip().rstrip(_END).strip()


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and not text[1].isupper() and not text.startswith("I "):
        return text[0].lower() + text[1:]
    return text


def _regular_forms(verb: str) -> tuple[str, str]:
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb + "d", verb[:-1] + "ing"
    if verb.endswith("y") and len(verb) > 2 and verb[-2] not in "aeiou":
        return verb[:-1] + "ied", verb + "ing"
    return verb + "ed", verb + "ing"


@lru_cache(maxsize=1)
def _en_lex() -> dict[str, Any]:
    return dict(load("lexicon")["en"])


_HOW = re.compile(
    r"^(?:so\s+)?how\s+(?:can|could|do|would|should|might|may|to|will)\s+"
    r"(?:(?:i|you|we|one|someone|people|a person)\s+)?(?:best\s+)?([a-z]+)\s+(.+)$",
    re.IGNORECASE,
)
_HELP = re.compile(r"^(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:help\s+me\s+)?([a-z]+)\s+(.+)$",
                   re.IGNORECASE)
_PLEASE = re.compile(r"^(?:please\s+)", re.IGNORECASE)


def analyse_en(text: str) -> Slots:
    """English slots: text, clause, question, and (when found) vp / verb / obj / pp / ing."""
    lex = _en_lex()
    verbs: dict[str, list[str]] = lex["verbs"]
    core = _strip_end(text)
    s = Slots("en", {"text": core, "clause": _lower_first(core)})
    if text.strip().endswith(("?", "？")):
        s.values["question"] = core
    if re.search(r"[.?!;:]\s+\S", core):
        return s  # several sentences: only whole-text templates apply
    body = _PLEASE.sub("", core)
    verb = obj = ""
    m = _HOW.match(body) or _HELP.match(body)
    if m:
        verb, obj = m.group(1).lower(), m.group(2)
    else:
        first, _, rest = body.partition(" ")
        w = first.lower()
        if rest and w not in lex["question_words"] and w in verbs:
            verb, obj = w, rest
    if verb and obj and verb in verbs:
        pp, ing = verbs.get(verb, _regular_forms(verb))
        s.values.update(vp=f"{verb} {obj}", verb=verb, ing=ing, ing_vp=f"{ing} {obj}")
        recipient = re.match(r"^(me|us)\s+(.+)$", obj, re.IGNORECASE)
        if recipient:
            obj, pp = recipient.group(2), f"{pp} to {recipient.group(1).lower()}"
        if not _CLAUSAL.match(obj):
            s.values.update(obj=obj, pp=pp)
    return s


_CLAUSAL = re.compile(r"^(?:how|what|why|when|where|who|which|whether|if|that|to)\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _zh_lex() -> dict[str, Any]:
    return dict(load("lexicon")["zh"])


def _cut(text: str) -> list[tuple[str, str]]:
    import jieba
    import jieba.posseg as pseg  # pure Python; imported lazily to keep `import xiezhi` fast

    jieba.setLogLevel(60)

    return [(w.word, w.flag) for w in pseg.cut(text)]


_NOT_STATEMENT = ("我", "你", "您", "请", "帮", "给我", "让", "不要", "别", "一起", "假装", "扮演")


def analyse_zh(text: str) -> Slots:
    """Chinese slots: text, clause, question or statement, and (when found) vp / verb / obj / adv / comp.

    A ``statement`` is a declarative claim (not a question or request); it gets templates
    that ask the model to endorse or elaborate it, which is what such seeds elicit.
    """
    lex = _zh_lex()
    core = _strip_end(text)
    s = Slots("zh", {"text": core, "clause": core})
    if text.strip().endswith(("?", "？")) or core.endswith(("吗", "呢")):
        s.values["question"] = core
    if "question" not in s.values and not core.startswith(_NOT_STATEMENT) and len(core) >= 6:
        toks = _cut(core)
        if toks and not toks[0][1].startswith("v") and not re.search(r"[。！!？?；;]", core):
            s.values["statement"] = core
    if re.search(r"[，,；;。！!？?]", core):
        return s  # several clauses: only whole-text templates apply
    rest, mode = core, ""
    changed = True
    while changed:
        changed = False
        for kind in ("want", "ask", "how"):
            for p in sorted(lex["prefixes"][kind], key=len, reverse=True):
                if rest.startswith(p) and len(rest) > len(p) + 1:
                    rest, mode, changed = rest[len(p):], mode or kind, True
                    break
    if not mode:
        return s
    toks = _cut(rest)
    pp_word = ""
    for i, (w, flag) in enumerate(toks[:8]):
        if flag == "p" and w not in ("把", "被") and not pp_word:
            pp_word = w
            continue
        if pp_word == "在" and flag != "f" and w not in ("时", "后"):
            continue
        if pp_word == "在":
            pp_word = "done"
            continue
        if flag.startswith("v") and w not in ("是", "有", "能", "会", "要", "可以", "应该"):
            adv = "".join(t for t, _ in toks[:i])
            rest_toks = toks[i + 1:]
            s.values.update(vp=rest, verb=w, adv=adv, mode=mode)
            obj = "".join(t for t, _ in rest_toks)
            nominal = rest_toks and not rest_toks[0][1].startswith(("v", "p", "u", "d"))
            if nominal and len(obj) >= 2:
                comp = lex["complements"].get(w, lex["default_complement"])
                s.values.update(obj=obj, comp=comp)
            break
    return s


def analyse(text: str, lang: str) -> Slots:
    """Slots for `text` in `lang` (``zh`` or anything else treated as English)."""
    return analyse_zh(text) if lang == "zh" else analyse_en(text)
