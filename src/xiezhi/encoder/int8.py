"""int8 linear maps for CPUs without native bfloat16: 1.5 to 2 times float32's speed on AVX2.

A layer's linear maps (q, k and v fused into one, the attention output, the two feed-forward
maps) run as dynamically quantised int8 matmuls (fbgemm through
``torch.ao.nn.quantized.dynamic.Linear``): weights int8 per output channel, activations int8
per tensor, their scale computed per call. Per-tensor activation scales lose much where a few
input channels carry outliers (e5's feed-forward output map, whose input is the GELU of 1,536
channels), so the maps are first smoothed as in SmoothQuant (Xiao et al., 2023): input channel
j is divided by s_j and the weight's column j multiplied by it, which leaves the float result
unchanged and moves the range from the activation into the weight, with
s_j = max|x_j| ** alpha / max|w_j| ** (1 - alpha) (for the fused q, k and v, max|w_j| over all three).

max|x_j| comes from calibration: `input_ranges` runs a model in float32 over texts of its
own training data and records each map's per-channel input range; the model's npz keeps them
as ``int8.l{i}.{name}`` (float16). A model without them, or a torch without the int8 kernels, runs
in float32 (with a warning).

The alphas were chosen on the judge's cross-encoder, comparing logits with float32 (one-off
runs): 0.5 everywhere but 0.8 for the feed-forward output map. Because the activation scale
is per tensor, a row's logits depend slightly on the other rows in its batch.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from xiezhi.encoder.model import LINEARS, E5Encoder

_log = logging.getLogger(__name__)
# torch 2.13 marks its quantised tensor types deprecated (in favour of torchao, which has no fast
# CPU int8 matmul here); said at every load it only alarms users
warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*", category=UserWarning)
warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated.*", category=DeprecationWarning)

MAPS = (("qkv", ("q", "k", "v")), ("ao", ("ao",)), ("fi", ("fi",)), ("fo", ("fo",)))
"""The int8 maps of a layer and the float maps each is made of: q, k and v read the same input, so
they run as one map of three times the width, with one smoothing and one quantisation."""
ALPHA = {"qkv": 0.5, "ao": 0.5, "fi": 0.5, "fo": 0.8}
"""SmoothQuant's migration strength per int8 map."""
PREFIX = "int8."
"""Keys of the calibrated input ranges in a model's npz: ``int8.l{i}.{name}``."""


def calibration_problem(z: dict[str, np.ndarray], n_layers: int, hidden: int) -> str | None:
    """Why a model's arrays cannot run in int8 (a range missing or of the wrong shape), or None."""
    for i in range(n_layers):
        for name, (_, n_in) in LINEARS.items():
            ranges = z.get(f"{PREFIX}l{i}.{name}")
            if ranges is None:
                return f"no int8 calibration ({PREFIX}l{i}.{name} is missing)"
            if ranges.shape != (n_in * hidden,) or not np.isfinite(ranges).all():
                return f"int8 calibration {PREFIX}l{i}.{name} has shape {ranges.shape} or non-finite values"
    return None


def input_ranges(encoder: E5Encoder, layers: list[dict[str, Any]], ids: Sequence[list[int]],
                 batch: int = 16) -> dict[str, np.ndarray]:
    """Per-channel max |input| of every linear map of `layers` (float32 tensors) over `ids`
    (token-id sequences in the model's layout): the npz entries ``int8.l{i}.{name}``."""
    torch = encoder.torch
    ranges: dict[str, Any] = {}

    def recorder(key: str) -> Any:
        def seen(x: Any) -> None:
            m = x.detach().abs().reshape(-1, x.shape[-1]).amax(0)
            ranges[key] = torch.maximum(ranges[key], m) if key in ranges else m
        return seen

    observed = [dict(layer, **{f"{n}.seen": recorder(f"{PREFIX}l{i}.{n}") for n in LINEARS})
                for i, layer in enumerate(layers)]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    with torch.inference_mode():
        for s in range(0, len(order), batch):
            x, mask = encoder.batch([ids[i] for i in order[s:s + batch]])
            h = encoder.embed(x)
            for weights in observed:
                h = encoder.layer(weights, h, mask)
    return {k: np.minimum(v.numpy(), 6e4).astype(np.float16) for k, v in ranges.items()}


def int8_layer(torch: Any, layer: dict[str, np.ndarray], z: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    """Layer `i` (float32 arrays) with its linear maps as smoothed int8 modules (``NAME.q8``, whose
    input is first multiplied by ``NAME.inv_s``; q, k and v fused as ``qkv``), its layer norms as
    float32 tensors."""
    out: dict[str, Any] = {k: torch.from_numpy(v) for k, v in layer.items() if k.split(".")[0] not in LINEARS}
    for name, parts in MAPS:
        w = torch.cat([torch.from_numpy(layer[f"{p}.w"]) for p in parts])
        bias = torch.cat([torch.from_numpy(layer[f"{p}.b"]) for p in parts])
        x_max = torch.from_numpy(z[f"{PREFIX}l{i}.{parts[0]}"].astype(np.float32)).clamp(min=1e-5)
        alpha = ALPHA[name]
        s = (x_max ** alpha / w.abs().amax(0).clamp(min=1e-5) ** (1 - alpha)).clamp(min=1e-5)
        ws = (w * s[None, :]).contiguous()
        scale = (ws.abs().amax(1) / 127).clamp(min=1e-12).double()
        zero = torch.zeros(ws.shape[0], dtype=torch.long)
        q = torch.ao.nn.quantized.dynamic.Linear(ws.shape[1], ws.shape[0], dtype=torch.qint8)
        q.set_weight_bias(torch.quantize_per_channel(ws, scale, zero, 0, torch.qint8), bias)
        out[f"{name}.q8"] = q
        out[f"{name}.inv_s"] = 1.0 / s
    return out


def modules(layers: list[dict[str, Any]]) -> list[Any]:
    """The int8 modules of `layers` (for tracing: they must belong to the traced module)."""
    return [v for layer in layers for k, v in layer.items() if k.endswith(".q8")]
