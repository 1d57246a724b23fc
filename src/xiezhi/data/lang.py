"""Tell Chinese from English text by the share of CJK characters (no model needed)."""

from __future__ import annotations

ZH_THRESHOLD = 0.2
"""A text is Chinese when CJK characters are at least this share of its letters.

Counted against Latin *letters*, so a Chinese sentence naming "Python" or "keylogger" (a few
Latin words among many Hanzi) stays Chinese, while an English sentence quoting one Chinese
word stays English."""


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= cp <= 0x4DBF  # extension A
        or 0x20000 <= cp <= 0x2FA1F  # extensions B.. and compatibility supplement
        or 0xF900 <= cp <= 0xFAFF  # compatibility ideographs
    )


def cjk_ratio(text: str) -> float:
    """CJK characters / (CJK characters + Latin letters); 0.0 for text with neither."""
    cjk = latin = 0
    for ch in text:
        if _is_cjk(ch):
            cjk += 1
        elif ch.isascii() and ch.isalpha():
            latin += 1
    total = cjk + latin
    return cjk / total if total else 0.0


def detect_lang(text: str) -> str:
    """"zh" or "en" for a text (anything without enough Hanzi counts as English)."""
    return "zh" if cjk_ratio(text) >= ZH_THRESHOLD else "en"


_ALIASES = {
    "zh": "zh", "zh-cn": "zh", "zh-hans": "zh", "zh-tw": "zh", "zh-hant": "zh", "cn": "zh",
    "chinese": "zh", "中文": "zh", "汉语": "zh", "en": "en", "en-us": "en", "en-gb": "en",
    "english": "en", "英文": "en", "英语": "en",
}


def normalize_lang(value: str) -> str | None:
    """A language tag as "zh"/"en", or None when it is neither."""
    return _ALIASES.get(value.strip().lower().replace("_", "-"))
