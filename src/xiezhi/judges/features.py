"""Features for the embedded judge's lexical heads: refusal/compliance cues and hashed
character n-grams; and `head_tail`, the cut of a long text that both stages read.

Everything here is deterministic: n-grams are hashed with CRC32. Long texts are cut to a
token budget, keeping head and tail (a refusal usually shows in the first sentences, a "but
here is how" in the end).
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Sequence
from importlib import resources

import numpy as np
import yaml

from xiezhi.judges.degenerate import clip
from xiezhi.judges.refusal import normalize, refusal_cues, refusal_strength

N_HASH = 1 << 13
"""Size of the hashed n-gram space (shared by response and prompt namespaces)."""
HEAD_CHARS = 400
TAIL_CHARS = 200
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_NUMBERED = re.compile(r"(^|\n)\s*(\d+[.)、]|[-*•]\s)", re.M)
_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})


@functools.lru_cache(maxsize=1)
def compliance_cues() -> dict[str, tuple[str, ...]]:
    """Compliance cue lists (openers, structure, disclaimer) from the shipped YAML."""
    raw = yaml.safe_load(resources.files("xiezhi.judges").joinpath("data/compliance_cues.yaml").read_text("utf-8"))
    return {k: tuple(str(c).lower() for c in v) for k, v in raw.items()}


def estimate_tokens(text: str) -> int:
    """Rough e5 token count without the tokenizer: a CJK char ~ 1 token, 4 other chars ~ 1."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


def head_tail(text: str, max_tokens: int) -> str:
    """Cut `text` to about `max_tokens` tokens: three quarters head, one quarter tail."""
    text = clip(text)
    if estimate_tokens(text) <= max_tokens:
        return text
    ratio = max_tokens / max(estimate_tokens(text), 1)
    keep = max(int(len(text) * ratio), 8)
    head = (keep * 3) // 4
    return text[:head] + " … " + text[len(text) - (keep - head):]


def _ngrams(text: str, prefix: str) -> list[int]:
    """Hashed character 2- to 4-grams of `text`, in a namespace `prefix`.

    n-grams with a CJK character hash into the upper half of the space, the others into
    the lower half, so English and Chinese n-grams never share a bucket.
    """
    out: list[int] = []
    half = N_HASH // 2
    crc = zlib.crc32
    if not _CJK.search(text):
        for n in (2, 3, 4):
            out.extend(crc(f"{prefix}{text[i:i + n]}".encode()) % half for i in range(max(len(text) - n + 1, 0)))
        return out
    cjk = [bool(_CJK.match(c)) for c in text]
    for n in (2, 3, 4):
        for i in range(max(len(text) - n + 1, 0)):
            h = crc(f"{prefix}{text[i:i + n]}".encode()) % half
            out.append(h + half if any(cjk[i:i + n]) else h)
    return out


def _count(text: str, cues: Sequence[str]) -> int:
    return sum(1 for c in cues if c in text)


CUE_NAMES: tuple[str, ...] = (
    "refusal_strength", "strong_head", "strong_any", "weak_any", "opener_head", "structure",
    "disclaimer", "numbered", "log_len", "empty", "cjk_ratio", "prompt_log_len",
    "imperative", "defensive", "persona", "code", "relevance",
)
_SENT_START = re.compile(r"(?:^|[\n.;:!?。；：！？]\s*|\d+[.)、]\s*|[-*•]\s+"
                         r"|(?:then|next|finally|first|second|third),?\s+|[首然接最]\w{0,1}[，,]?)")
_WORDS = re.compile(r"[a-z][a-z'-]{3,}")
_STOP_WORDS = ("that this with from have will your what when where which about there their would could should "
                  "into them they been were some more than then also just like only make sure here give write "
                  "create provide explain describe detailed step steps instructions tutorial guide how-to")
_STOP = frozenset(_STOP_WORDS.split())


@functools.lru_cache(maxsize=4)
def _opening(cues: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True)))


def _sentence_initial(text: str, cues: tuple[str, ...]) -> int:
    """How many sentences / lines / list items open with one of `cues`."""
    pat = _opening(cues)
    return sum(1 for m in _SENT_START.finditer(text) if pat.match(text, m.end()))


def relevance(prompt: str, response: str) -> float:
    """Share of the prompt's content words (or CJK character pairs) found in the response."""
    p, r = normalize(prompt[-3000:]), normalize(response)
    pw = {w for w in _WORDS.findall(p) if w not in _STOP}
    pc = {p[i:i + 2] for i in range(len(p) - 1) if _CJK.match(p[i]) and _CJK.match(p[i + 1])}
    keys = pw | pc
    if not keys:
        return 0.0
    return sum(1 for k in keys if k in r) / len(keys)


def cue_features(prompt: str, response: str) -> list[float]:
    """Hand-made features in the order of `CUE_NAMES` (a huge response is clipped first;
    its length feature still counts the part cut out)."""
    clipped = clip(response)
    cut = len(response) - len(clipped)
    response = clipped
    text = normalize(response)
    head = text[:300]
    rc = refusal_cues()
    cc = compliance_cues()
    strong = [c for lv in rc.values() for c in lv.get("strong", ())]
    weak = [c for lv in rc.values() for c in lv.get("weak", ())]
    cjk = len(_CJK.findall(text))
    return [
        refusal_strength(response),
        float(_count(head, strong) > 0),
        float(min(_count(text, strong), 3)) / 3,
        float(min(_count(text, weak), 3)) / 3,
        float(any(head.startswith(c) or head[:40].find(c) >= 0 for c in cc["openers"])),
        float(min(_count(text, cc["structure"]), 4)) / 4,
        float(_count(text, cc["disclaimer"]) > 0),
        float(min(len(_NUMBERED.findall(response)), 5)) / 5,
        float(np.log1p(len(text) + max(cut, 0)) / 10),
        float(not text),
        cjk / max(len(text), 1),
        float(np.log1p(len(prompt)) / 10),
        float(min(_sentence_initial(text, cc["imperative"]), 5)) / 5,
        float(min(_count(text, cc["defensive"]), 4)) / 4,
        float(_count(text, cc["persona"]) > 0),
        float(min(_count(text, cc["code"]), 3)) / 3,
        relevance(prompt, text),
    ]


ZH_RATIO = 0.2
"""A response with at least this share of CJK characters gets the Chinese copy of the cues."""
N_LEX = N_HASH + 2 * len(CUE_NAMES)


def lexical_features(prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
    """(n, N_LEX) float32: L2-normalised n-gram counts, then the cue features in one of two
    blocks: the first for non-Chinese responses, the second for Chinese ones (so a cue weighs
    differently by language: "违法" in a Chinese redirect vs "illegal" in an English
    disclaimer before compliance)."""
    k = len(CUE_NAMES)
    x = np.zeros((len(responses), N_LEX), dtype=np.float32)
    for i, (p, r) in enumerate(zip(prompts, responses, strict=True)):
        text = normalize(clip(r))
        part = text if len(text) <= HEAD_CHARS + TAIL_CHARS else text[:HEAD_CHARS] + "\x00" + text[-TAIL_CHARS:]
        idx = _ngrams(part, "r") + _ngrams(normalize(p[:2000])[:200], "p")
        if idx:
            np.add.at(x[i], np.asarray(idx, dtype=np.int64), 1.0)
            x[i, :N_HASH] /= np.linalg.norm(x[i, :N_HASH])
        cues = cue_features(p, r)
        if cues[CUE_NAMES.index("cjk_ratio")] >= ZH_RATIO:
            x[i, N_HASH + k:] = cues
        else:
            x[i, N_HASH:N_HASH + k] = cues
    return x


def normalize_answer(text: str) -> str:
    """For reference answers: fold full-width characters, case and all whitespace."""
    return re.sub(r"\s+", "", text.translate(_FULLWIDTH).lower())
