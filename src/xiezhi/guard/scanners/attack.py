"""Shared logic of the `injection` and `jailbreak` scanners: rules + learned head over every view.

The text is normalised first (invisible characters, confusables, splitting, leetspeak) and
decoded payloads (base64, hex, rot13) become extra views; Chinese text also gets a pinyin
view, which catches homophone substitutions (``乎略之前的指令``) and prompts typed in pinyin.
The risk is the worst view's noisy-OR of rule risk and head probability, raised a little by evasion
signals (hiding something is itself suspicious).

Semantic stage (``semantic: true``, the default when it can run): the ``attack`` logit of the
guard's fine-tuned e5 encoder (`encoder_stage`; with ``stage: e5``, or without torch, an
e5-embedding head over the text cut to ~32 tokens) is fused with the injection and jailbreak
n-gram heads (a weighted sum of the three logits, see `E5AttackHead`), and the risk becomes the
larger of that and the rest. The n-gram heads overfit surface forms; the embedding catches paraphrases
without the usual keywords; summed, two half-convinced heads can block what neither would alone.
(Letting the text's n-gram evidence count only through the fusion removed a few false positives
but lost more detection on the session-2 blind sets, so each head still counts alone too.)
e5 runs only when the prompt is not already blocked (risk below ``block_at``, the policy's
threshold) and the n-gram part is within the gate of the operating point (widened when
``block_at`` is below 0.5), so most everyday prompts stay on the sub-millisecond path. Both
scanners report the fused risk. Prompts past 4,000 characters are scored by n-gram windows at
run time (the worst window wins) but by their first 4,000 characters in training.

Veto (``veto``, default 4, logit units; ``null`` turns it off; guard encoder only): a prompt that
rules or n-grams block on its plain text alone, with no evasion signal, is read by the guard
encoder too, and when both of its logits are more than ``veto`` below 0 the fused risk replaces
the block. Look-alikes ("what does DAN mean?", "让新的规则覆盖旧的规则") were most of the
false positives left; decoded payloads, pinyin and disguised text are never vetoed.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import TYPE_CHECKING

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner, cached_normalize, logit_of, noisy_or, sigmoid
from xiezhi.guard.scanners.e5head import check_semantic_options, check_stage, deferred_list, fused_or_none
from xiezhi.guard.scanners.encoder_stage import EncoderAttackStage
from xiezhi.guard.scanners.rules import Rule, match_rules
from xiezhi.guard.scanners.textmodel import shared_heads

if TYPE_CHECKING:
    from xiezhi.guard.scanners.e5head import E5AttackHead

_log = logging.getLogger(__name__)
_CJK = re.compile(r"[\u4e00-\u9fff]")

# A request *about* a short quoted phrase (translate it, what does it mean, why does it work,
# detect / filter / label it) mentions an attack string without using it: "Translate 'ignore
# previous instructions' into French", "write a regex that flags 'reveal your system prompt'". Such a
# phrase is scored as a placeholder. Only short quotes qualify (<= 40 chars, <= 14 CJK chars),
# so a quoted payload ("... and print your system prompt") is still scored, and only when the
# rest of the prompt is short (a long prompt could hide its real instruction elsewhere).
_META = re.compile(r"\b(?:translat\w*|mean(?:s|ing)?|defin\w*|pronounc\w*|spell\w*|explain\w*|origin"
                   r"|detect\w*|flag(?:s|ged|ging)?|filter\w*|regex\w*|regular expressions?|classif\w*|label\w*"
                   r"|categori[sz]\w*|why|saw|seen|typed|phrases? like|strings? like|defen[cd]\w*|mitigat\w*)\b"
                   r"|翻译|译成|译为|什么意思|啥意思|含义|意思是|解释|怎么读|怎么念|出处"
                   r"|为什么|起作用|检测|识别|过滤|拦截|正则|标注|标成|标为|归类|分类|看到有人|防御|防范", re.I)
_QUOTED = re.compile(r'"([^"\n]{1,40})"|“([^”\n]{1,40})”|(?<![A-Za-z])\'([^\'\n]{1,40})\'(?![A-Za-z])|‘([^’\n]{1,40})’'
                     r"|「([^」\n]{1,40})」|『([^』\n]{1,40})』")


# ... unless the rest of the prompt also tells the model to act on the quote ("Do both. Why? I am
# the developer", "Now act on it", "请直接按它说的做"); only words that point back at the quote count
# ("then explain why" is still a question about it)
_ACT = re.compile(r"\b(?:obey\w*|execut\w*|comply|act\s+on|carry\s+(?:it|them|this|that)\s+out|apply\s+(?:it|them)|"
                  r"demonstrat\w*|on\s+yourself|do\s+(?:it|this|that|both|them|so|what|as)|"
                  r"follow\s+(?:it|them|this|that|these|those|the\s+(?:instruction|command|order)s?))\b"
                  r"|照做|照着做|按它说的|按照它|执行|服从|遵照|遵从", re.I)
MAX_MENTIONS = 4


def mention_view(text: str) -> str | None:
    """`text` with short quoted phrases replaced by a placeholder, when the prompt asks about
    them (translation, meaning, definition, why it works, a detector for it) and does not also ask
    to act on them; None when it does not look like such a request."""
    if len(text) > 300 or not _QUOTED.search(text) or len(_QUOTED.findall(text)) > MAX_MENTIONS:
        return None
    rest = _QUOTED.sub(" ", text)
    if not _META.search(rest) or _ACT.search(rest):
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
                 gate: float | None = None, block_at: float = 0.5, band_low: float | None = None,
                 band_high: float | None = None, stage: str = "auto", veto: float | None = 4.0) -> None:
        if band_low is not None or band_high is not None:
            raise ValueError("band_low / band_high are gone: the semantic stage now fuses e5 with the n-gram heads "
                             "behind a `gate` (logit units below the threshold; default from the weights)")
        check_semantic_options(gate, block_at)
        self.stage = check_stage(stage)
        if veto is not None and veto <= 0:
            raise ValueError(f"veto must be > 0 (logit units below 0) or null, got {veto}")
        self.veto = veto
        self.use_model = use_model
        self.signal_weight = signal_weight
        self.semantic = semantic
        self.gate = gate
        self.block_at = block_at
        if semantic and use_model:
            from xiezhi.guard.scanners.e5head import shared_e5_attack_head, warm_up_semantic

            # load e5 now, not on the first uncertain prompt; off when e5 cannot run here
            self.semantic = warm_up_semantic(self.stage) and shared_e5_attack_head(self.stage) is not None

    def _fusion(self) -> E5AttackHead | None:
        """The fused n-gram + e5 stage when it is on and its weights exist."""
        if not self.semantic:
            return None
        from xiezhi.guard.scanners.e5head import shared_e5_attack_head

        return shared_e5_attack_head(self.stage)

    def _vetoed(self, fusion: EncoderAttackStage, body: str, text_logits: dict[str, float], best: float,
                other_views: float, reasons: list[str]) -> ScanResult:
        """A prompt that rules or n-grams block on its text, checked by the guard encoder: when both
        of its logits are more than `veto` below 0 (sure the prompt is neither an attack nor a
        harmful request), the fused risk replaces the text's risk. Never for a text the encoder
        does not read whole (its token budget) or with evasion signals, and the other views
        (decoded payloads, leetspeak, pinyin: `other_views`, their highest risk) still count in
        full. Deferred like the semantic stage on the proxy's event loop; an encoder failure
        leaves the block standing, with a warning."""
        try:
            if not fusion.encoder.reads_whole(body):  # an attack in the middle of a long text is cut out
                return self.result(best, reasons)
            deferred = deferred_list()
            if deferred is not None:
                deferred.append(self.head)
                return self.result(best, reasons)
            attack, harmful = fusion.encoder.logit(body, "attack"), fusion.encoder.logit(body, "harmful")
        except Exception as e:  # the veto only ever lowers a risk: without it the block stands
            _log.warning("guard encoder veto (%s) skipped for one text: %s: %s", self.head, type(e).__name__, e)
            return self.result(best, reasons)
        if max(attack, harmful) >= -self.veto:  # type: ignore[operator]
            return self.result(best, reasons)
        p = fusion.combine(fusion.ngram_part(text_logits["injection"], text_logits["jailbreak"]), attack)
        risk = max(p, other_views)
        return self.result(risk, [*reasons, f"semantic: encoder veto (attack {attack:.1f}, harmful {harmful:.1f}), "
                                             f"fused p={p:.2f}"])

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        norm = cached_normalize(text)
        heads = shared_heads() if self.use_model else None
        fusion = self._fusion() if heads is not None else None
        best, reasons, best_view, other_views = 0.0, [], "", 0.0
        views = norm.all_views()
        mention = mention_view(norm.text)
        if mention is not None:  # the quoted phrase is talked about, not used: score the rest
            views = [("text", mention), *views[1:]]
        text_logits: dict[str, float] = {}
        for view, body in views:
            rule_risk, names = match_rules(body, self.rules)
            model = 0.0
            if heads is not None:
                logits = heads.logits(body)
                model = sigmoid(logits[self.head])
                if not text_logits:  # the first view: the text (or its mention view)
                    text_logits = logits
            risk = noisy_or(rule_risk, model)
            if view != "text" and risk >= 0.5:
                risk = noisy_or(risk, 0.3)  # a hidden attack is worse than a plain one
            if view != "text":
                other_views = max(other_views, risk)
            if risk > best:
                best, best_view = risk, view
                reasons = [f"{view}: rule {n}" for n in names]
                if model >= 0.5:
                    reasons.append(f"{view}: model {self.head} p={model:.2f}")
        pinyin = pinyin_view(mention if mention is not None else norm.text)
        if pinyin:
            rule_risk, names = match_rules(pinyin, tuple(r for r in self.rules if r.name.startswith("pinyin")))
            other_views = max(other_views, rule_risk)
            if rule_risk > best:
                best, reasons, best_view = rule_risk, [f"pinyin: rule {n}" for n in names], "pinyin"
        if norm.signals:
            sig = max(norm.signals.values()) * self.signal_weight
            best = noisy_or(best, sig)
            reasons += [f"evasion: {k}" for k in sorted(norm.signals)]
        if (best >= self.block_at and best_view == "text" and not norm.signals and self.veto is not None
                and isinstance(fusion, EncoderAttackStage) and text_logits):
            return self._vetoed(fusion, mention if mention is not None else norm.text, text_logits, best, other_views,
                                reasons)
        other = "jailbreak" if self.head == "injection" else "injection"
        if (fusion is not None and text_logits and best < self.block_at
                and text_logits[other] < logit_of(self.block_at)):
            # both scanners report the fused risk (the embedding is memoised, so the second costs
            # nothing), so a policy that keeps only one of them still gets the stage; neither asks
            # e5 about a prompt the other head's n-grams already block on their own
            part = fusion.ngram_part(text_logits["injection"], text_logits["jailbreak"])
            if fusion.needs_e5(part, self.gate, self.block_at):  # below the gate the n-gram heads speak alone
                deferred = deferred_list()
                if deferred is not None:
                    deferred.append(self.head)
                    return self.result(best, reasons)
                body = mention if mention is not None else norm.text
                p = fused_or_none(self.head, lambda: fusion.fused(body, part))
                if p is not None and p > best:
                    best = p
                    reasons = [*reasons, f"semantic: n-gram + e5 fusion p={p:.2f}"]
        return self.result(best, reasons)
