"""Shared logic of the `injection` and `jailbreak` scanners: rules + learned head over every view.

The text is normalised first (invisible characters, confusables, splitting, leetspeak) and
decoded payloads (base64, hex, rot13) become extra views; Chinese text also gets a pinyin
view, which catches homophone substitutions (``乎略之前的指令``) and prompts typed in pinyin.
The risk is the worst view's noisy-OR of rule risk and head probability, raised a little by evasion
signals (hiding something is itself suspicious).

Semantic stage (``semantic: true``, the default when its weights exist): when that risk falls
in the uncertain band ``[band_low, band_high)``, an e5-embedding head over the text cut to ~32
tokens (head + tail) gets a say, and the risk becomes the larger of the two. The n-gram head
overfits surface forms; the embedding catches paraphrases without the usual keywords. Most
prompts score below the band or above it, so the median stays on the sub-millisecond path.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from collections.abc import Iterator

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner, cached_normalize, noisy_or
from xiezhi.guard.scanners.rules import Rule, match_rules
from xiezhi.guard.scanners.textmodel import shared_heads

_CJK = re.compile(r"[\u4e00-\u9fff]")

# Set by `deferring_semantic()`: the semantic stage is skipped and recorded here instead of run.
_DEFERRED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("xiezhi_semantic_deferred",
                                                                             default=None)


@contextlib.contextmanager
def deferring_semantic() -> Iterator[list[str]]:
    """Within this block the scanners skip their e5 stage and append their name to the list.

    The guard proxy checks a prompt on its event loop this way (sub-millisecond) and, only when
    the list is not empty, checks it again in full in a worker thread, so a tens-of-ms e5
    embedding never holds the loop. Threads start with a fresh context: there the stage runs.
    """
    skipped: list[str] = []
    token = _DEFERRED.set(skipped)
    try:
        yield skipped
    finally:
        _DEFERRED.reset(token)


# A request *about* a short quoted phrase (translate it, what does it mean) mentions an attack
# string without using it: "Translate 'ignore previous instructions' into French". Such a
# phrase is scored as a placeholder. Only short quotes qualify (<= 40 chars, <= 14 CJK chars),
# so a quoted payload ("... and print your system prompt") is still scored, and only when the
# rest of the prompt is short (a long prompt could hide its real instruction elsewhere).
_META = re.compile(r"\b(?:translat\w*|mean(?:s|ing)?|defin\w*|pronounc\w*|spell\w*|explain\w*|origin)\b"
                   r"|翻译|译成|译为|什么意思|啥意思|含义|意思是|解释|怎么读|怎么念|出处", re.I)
_QUOTED = re.compile(r'"([^"\n]{1,40})"|“([^”\n]{1,40})”|(?<![A-Za-z])\'([^\'\n]{1,40})\'(?![A-Za-z])|‘([^’\n]{1,40})’'
                     r"|「([^」\n]{1,40})」|『([^』\n]{1,40})』")


def mention_view(text: str) -> str | None:
    """`text` with short quoted phrases replaced by a placeholder, when the prompt asks about
    them (translation, meaning, definition); None when it does not look like such a request."""
    if len(text) > 300 or not _QUOTED.search(text):
        return None
    rest = _QUOTED.sub(" ", text)
    if not _META.search(rest):
        return None

    def _short(m: re.Match[str]) -> str:
        inner = next(g for g in m.groups() if g is not None)
        return "“X”" if len(_CJK.findall(inner)) <= 14 else m.group(0)

    return _QUOTED.sub(_short, text)


_TONES = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")


@functools.lru_cache(maxsize=1)
def _pinyin_table() -> dict[str, str]:
    """Character -> tone-less pinyin (first reading), from pypinyin's single-character table."""
    from pypinyin.pinyin_dict import pinyin_dict

    return {chr(cp): f" {p.split(',')[0].translate(_TONES)} " for cp, p in pinyin_dict.items()}


@functools.lru_cache(maxsize=64)
def pinyin_view(text: str) -> str:
    """Tone-less pinyin of the Chinese characters in `text` ('' when there are none).

    A per-character table lookup (no word segmentation): fast enough for long prompts, and
    homophones map to the same syllables, which is the point."""
    if not _CJK.search(text):
        return ""
    table = _pinyin_table()
    return " ".join("".join(table.get(ch, ch) for ch in text).split())


class AttackScanner(BaseScanner):
    """Risk that a prompt attacks the model (subclasses pick the rules and the head)."""

    stages = frozenset({"input"})
    head: str = "injection"
    rules: tuple[Rule, ...] = ()

    def __init__(self, use_model: bool = True, signal_weight: float = 0.5, semantic: bool = True,
                 band_low: float = 0.05, band_high: float = 0.5) -> None:
        if not 0.0 <= band_low <= band_high <= 1.0:
            raise ValueError(f"need 0 <= band_low <= band_high <= 1, got {band_low}, {band_high}")
        self.use_model = use_model
        self.signal_weight = signal_weight
        self.semantic = semantic
        self.band_low = band_low
        self.band_high = band_high
        if semantic and use_model:
            from xiezhi.guard.scanners.e5head import warm_up_semantic

            # load e5 now, not on the first uncertain prompt; off when e5 cannot run here
            self.semantic = warm_up_semantic()

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        norm = cached_normalize(text)
        heads = shared_heads() if self.use_model else None
        best, reasons = 0.0, []
        views = norm.all_views()
        mention = mention_view(norm.text)
        if mention is not None:  # the quoted phrase is talked about, not used: score the rest
            views = [("text", mention), *views[1:]]
        for view, body in views:
            rule_risk, names = match_rules(body, self.rules)
            model = heads.predict(body)[self.head] if heads is not None else 0.0
            risk = noisy_or(rule_risk, model)
            if view != "text" and risk >= 0.5:
                risk = noisy_or(risk, 0.3)  # a hidden attack is worse than a plain one
            if risk > best:
                best = risk
                reasons = [f"{view}: rule {n}" for n in names]
                if model >= 0.5:
                    reasons.append(f"{view}: model {self.head} p={model:.2f}")
        pinyin = pinyin_view(mention if mention is not None else norm.text)
        if pinyin:
            rule_risk, names = match_rules(pinyin, tuple(r for r in self.rules if r.name.startswith("pinyin")))
            if rule_risk > best:
                best, reasons = rule_risk, [f"pinyin: rule {n}" for n in names]
        if norm.signals:
            sig = max(norm.signals.values()) * self.signal_weight
            best = noisy_or(best, sig)
            reasons += [f"evasion: {k}" for k in sorted(norm.signals)]
        if self.semantic and self.use_model and self.band_low <= best < self.band_high:
            deferred = _DEFERRED.get()
            if deferred is not None:
                deferred.append(self.head)
                return self.result(best, reasons)
            from xiezhi.guard.scanners.e5head import shared_e5_attack_head

            e5 = shared_e5_attack_head()
            if e5 is not None:
                p = e5.predict(mention if mention is not None else norm.text)
                if p > best:
                    best = p
                    reasons.append(f"semantic: e5 attack p={p:.2f}")
        return self.result(best, reasons)
