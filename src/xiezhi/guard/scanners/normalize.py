"""Normalise text before scanning, and expose the hidden payloads of an evasive prompt.

Attackers hide keywords with invisible characters (zero-width, bidi controls), confusable
letters (Cyrillic ``о`` for Latin ``o``), leetspeak, character splitting (``i g n o r e``)
and encodings (base64, hex, rot13). `views` returns the normalised text plus each decoded
payload, so a scanner can score every view and keep the worst; `obfuscation_signals`
reports how hard the text tried to hide something.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass, field

INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u2064\u2066-\u206f\ufeff\ufe00-\ufe0f\U000e0000-\U000e007f]")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")

# Letters from other scripts that look like Latin ones (the common confusables).
_CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h",
    "ӏ": "l", "ԛ": "q", "ԝ": "w", "ᴀ": "a", "ʀ": "r", "ɪ": "i", "ɴ": "n", "ʏ": "y",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}
_CONFUSABLE_TABLE = str.maketrans(_CONFUSABLES)
_LEET_TABLE = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                             "$": "s", "!": "i", "|": "l"})
_LEET_WORD = re.compile(r"(?<![\w@$!|])(?=[\w@$!|]*[a-zA-Z])(?=[\w@$!|]*[0-9@$!|])[\w@$!|]{3,}")
# Single characters joined by one separator: "i g n o r e", "i-g-n-o-r-e", "i.g.n.o.r.e".
_SPLIT = re.compile(r"(?<![^\W_])(?:[^\W_][ .\-_*|/+]{1,2}){3,}[^\W_](?![^\W_])")
_SPLIT_CJK = re.compile(r"(?:[\u4e00-\u9fff][ .\-_*|/+]{1,2}){2,}[\u4e00-\u9fff]")
_B64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"(?:(?:0x|\\x)?[0-9a-fA-F]{2}[\s,:]?){8,}")
_LATIN_CYR = re.compile(r"[A-Za-z][\u0400-\u04ff\u0370-\u03ff]|[\u0400-\u04ff\u0370-\u03ff][A-Za-z]")
_ROT13_HINT = re.compile(r"rot[\s-]?13|caesar|凯撒|回转13", re.I)
# Cheap prefilters (single character classes are fast) so long benign prompts skip the costly regexes.
_CYR_GREEK = re.compile(r"[\u0370-\u04ff]")
_LEET_CHARS = re.compile(r"[0-9@$!|]")
_DIGIT = re.compile(r"\d")
_SEP = frozenset(".-_*|/+")


def _maybe_split(text: str) -> bool:
    """True when the text has a run of 4+ one-character tokens or a token like i-g-n-o-r-e."""
    run = 0
    for tok in text.split():
        if len(tok) == 1:
            run += 1
            if run >= 4:
                return True
        else:
            run = 0
            if len(tok) >= 7 and sum(ch in _SEP for ch in tok) >= 3:
                return True
    return False


@dataclass
class Normalized:
    """The normalised text, the decoded payload views and evasion signals found on the way."""

    text: str
    views: list[tuple[str, str]] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)

    def all_views(self) -> list[tuple[str, str]]:
        return [("text", self.text), *self.views]


def _printable_ratio(s: str) -> float:
    if not s:
        return 0.0
    ok = sum(1 for ch in s if ch.isprintable() or ch in "\n\t")
    return ok / len(s)


def _decode_b64(chunk: str) -> str | None:
    if len(chunk) < 16:
        return None
    raw = chunk.rstrip("=")
    pad = "=" * (-len(raw) % 4)
    try:
        data = base64.b64decode(raw + pad, altchars=b"-_" if ("-" in raw or "_" in raw) else None,
                                validate=True)
        out = data.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    letters = sum(ch.isalpha() for ch in out)
    if _printable_ratio(out) < 0.95 or letters < max(4, len(out) // 3):
        return None
    return out


def _decode_hex(chunk: str) -> str | None:
    digits = re.sub(r"0x|\\x|[\s,:]", "", chunk)
    if len(digits) % 2:
        digits = digits[:-1]
    try:
        out = bytes.fromhex(digits).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    if _printable_ratio(out) < 0.95 or sum(ch.isalpha() for ch in out) < 4:
        return None
    return out


def _unsplit(text: str) -> str:
    def join(m: re.Match[str]) -> str:
        return re.sub(r"[ .\-_*|/+]", "", m.group(0))

    return _SPLIT_CJK.sub(join, _SPLIT.sub(join, text))


def normalize(text: str, max_chars: int = 64000) -> Normalized:
    """Canonical text (NFKC, invisible characters removed, confusables mapped) + decoded views."""
    text = text[:max_chars]
    signals: dict[str, float] = {}
    n_invisible = len(INVISIBLE.findall(text))
    if n_invisible:
        signals["invisible_chars"] = min(1.0, 0.35 + 0.1 * n_invisible)
    if BIDI.search(text):
        signals["bidi_controls"] = 0.6
    clean = unicodedata.normalize("NFKC", INVISIBLE.sub("", text))
    if _CYR_GREEK.search(clean) and _LATIN_CYR.search(clean):
        signals["mixed_script"] = 0.5
    clean = clean.translate(_CONFUSABLE_TABLE)
    views: list[tuple[str, str]] = []
    unsplit = _unsplit(clean) if _maybe_split(clean) else clean
    if unsplit != clean:
        views.append(("unsplit", unsplit))
    leet = _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET_TABLE), clean) if _LEET_CHARS.search(clean) else clean
    if leet != clean:
        views.append(("leet", leet))
    for chunk in _B64.findall(clean)[:8]:
        decoded = _decode_b64(chunk)
        if decoded:
            signals["base64_payload"] = 0.3
            views.append(("base64", unicodedata.normalize("NFKC", decoded)))
    for chunk in _HEX.findall(clean)[:8] if len(_DIGIT.findall(clean)) >= 8 else []:
        decoded = _decode_hex(chunk)
        if decoded:
            signals["hex_payload"] = 0.3
            views.append(("hex", decoded))
    low = clean.lower()
    if ("rot" in low or "caesar" in low or "凯撒" in clean or "回转" in clean) and _ROT13_HINT.search(clean):
        views.append(("rot13", codecs.decode(clean, "rot13")))
    return Normalized(clean, views, signals)
