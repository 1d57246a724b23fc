"""Train the embedded judge's lexical heads and write src/xiezhi/judges/weights/embedded.npz.

Usage: python scripts/train_judge.py [--band 0.1,0.9] [--c-lex 8] [--skip-source PREFIX]

Data: PyRIT human-labelled objective/refusal sets and the clear cases of the harm-severity
set (../shared/data/judge), xiezhi's Chinese pairs (tests/judges/data/zh_*.jsonl), xiezhi's
synthetic English jailbreak responses over JBB/AdvBench behaviours (en_jbb_synth.jsonl) and
the guard's refusal texts behind expert-tier prompts (guard_refusals.jsonl); the held-out
split (by objective or behaviour / by topic, see xiezhi.judges.devdata) is never trained on.
Version 3: cue features per language block, CJK n-grams in their own hash half, operational
cues (imperative openers, code, defensive discussion, persona-only, prompt relevance).
Seeded and deterministic (numpy Newton logistic regression, fixed folds); numpy only.
The regularisation was chosen by 5-fold cross-validation on the training split, grouped by
prompt (printed as ``cv``), not on the held-out split.

Heads:
  lex     logistic regression on hashed n-grams + cue features -> P(unsafe); the cascade
          sends responses it scores inside ``--band`` to the cross-encoder
          (scripts/train_judge_cross.py, which trains it)
  refusal logistic regression on the lexical features -> P(refusal)

Version 7 drops version 6's second head (a logistic regression on the pooled e5 embedding of
the response): the cross-encoder replaces it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xiezhi.judges.devdata import load_dev_rows  # noqa: E402
from xiezhi.judges.features import lexical_features  # noqa: E402

SEED = 0
BAND = (0.1, 0.9)
VERSION = "8"


def fit_lr(x: np.ndarray, y: np.ndarray, c: float, iters: int = 50,
           weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """L2 logistic regression with balanced class weights (times `weight` per row), by Newton's method.

    Minimises ``c * sum_i s_i * logloss_i + ||w||^2 / 2`` (the intercept is penalised
    too, as liblinear does). Rows are few and features many, so each Newton step solves
    an n-by-n system (Woodbury) instead of a d-by-d one. Deterministic, numpy only.
    """
    xa = np.concatenate([x.astype(np.float64), np.ones((len(x), 1))], axis=1)
    yf = y.astype(np.float64)
    n_pos = max(yf.sum(), 1.0)
    n_neg = max(len(yf) - yf.sum(), 1.0)
    s = np.where(yf == 1, len(yf) / (2 * n_pos), len(yf) / (2 * n_neg))
    if weight is not None:
        s = s * weight
    w = np.zeros(xa.shape[1])

    def loss(v: np.ndarray) -> float:
        z = xa @ v
        return float(c * np.sum(s * (np.logaddexp(0, z) - yf * z)) + 0.5 * v @ v)

    gram = xa @ xa.T
    for _ in range(iters):
        p = sigmoid(xa @ w)
        g = c * (xa.T @ (s * (p - yf))) + w
        if np.linalg.norm(g) < 1e-6 * max(1.0, np.linalg.norm(w)):
            break
        d = np.sqrt(c * s * p * (1 - p))
        inner = np.eye(len(d)) + d[:, None] * gram * d[None, :]
        step = g - xa.T @ (d * np.linalg.solve(inner, d * (xa @ g)))
        t, f0 = 1.0, loss(w)
        while loss(w - t * step) > f0 - 1e-4 * t * float(g @ step) and t > 1e-8:
            t /= 2
        w = w - t * step
    return w[:-1].astype(np.float32), float(w[-1])


def logit(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return np.asarray(x @ w + b, dtype=np.float64)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))))


def accuracy(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p >= 0.5) == (y == 1)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "xiezhi" / "judges" / "weights" / "embedded.npz")
    ap.add_argument("--c-lex", type=float, default=8.0)
    ap.add_argument("--c-ref", type=float, default=1.0)
    ap.add_argument("--band", default=f"{BAND[0]},{BAND[1]}",
                    help="lex scores in this range go to the cross-encoder (chosen on the held-out split)")
    ap.add_argument("--weight-source", action="append", default=[], metavar="PREFIX=W",
                    help="weigh the unsafe head's training rows whose source starts with PREFIX by W (default 1; "
                         "the refusal head is not weighted)")
    ap.add_argument("--skip-source", action="append", default=[],
                    help="leave out rows whose source starts with this prefix (ablations)")
    args = ap.parse_args()
    try:
        lo, hi = (float(x) for x in args.band.split(","))
    except ValueError:
        raise SystemExit(f"--band {args.band!r}: expected LO,HI (e.g. 0.1,0.9)") from None
    if not 0 <= lo <= hi <= 1:
        raise SystemExit(f"--band {args.band!r}: expected 0 <= LO <= HI <= 1")

    rows = [r for r in load_dev_rows(ROOT) if not any(r.source.startswith(p) for p in args.skip_source)]
    print(f"{len(rows)} rows", file=sys.stderr)
    xl = lexical_features([r.prompt for r in rows], [r.response for r in rows])
    split = np.array([r.split for r in rows])
    lang = np.array([r.lang for r in rows])
    has_u = np.array([r.unsafe is not None for r in rows])
    has_r = np.array([r.refusal is not None for r in rows])
    yu = np.array([1 if r.unsafe else 0 for r in rows])
    yr = np.array([1 if r.refusal else 0 for r in rows])
    tr_u = has_u & (split == "train")
    row_w = np.ones(len(rows))
    for spec in args.weight_source:
        prefix, _, value = spec.partition("=")
        try:
            weight = float(value)
        except ValueError:  # no "=", or not a number
            weight = 0.0
        if not prefix or not weight > 0:  # also refuses nan
            raise SystemExit(f"--weight-source {spec!r}: expected PREFIX=W with W > 0 (e.g. pyrit=2)")
        row_w[[r.source.startswith(prefix) for r in rows]] = weight
    wu = row_w[tr_u]

    wl, bl = fit_lr(xl[tr_u], yu[tr_u], args.c_lex, weight=wu)
    tr_r = has_r & (split == "train")
    wr, br = fit_lr(xl[tr_r], yr[tr_r], args.c_ref)

    # cross-validated accuracy on the training split (what --c-lex was chosen on)
    idx = np.flatnonzero(tr_u)
    fold = np.array([int(hashlib.sha256(rows[i].prompt.encode()).hexdigest(), 16) % 5 for i in idx])
    p_cv = np.zeros(len(idx))
    for f in range(5):
        a, b = fold != f, fold == f
        w_f, b_f = fit_lr(xl[idx][a], yu[idx][a], args.c_lex, weight=wu[a])
        p_cv[b] = sigmoid(logit(xl[idx][b], w_f, b_f))

    # held-out report (the benchmark re-measures through the judge itself)
    pl = sigmoid(logit(xl, wl, bl))
    band = (pl >= lo) & (pl <= hi)
    harm = np.array([r.source.startswith("pyrit_harm/") for r in rows])
    jbb = np.array([r.source.startswith("xiezhi_en/") for r in rows])
    report: dict[str, dict[str, float]] = {}
    for key, sel in (("en", (lang == "en") & ~harm & ~jbb), ("en_harm", harm), ("en_jbb", jbb), ("zh", lang == "zh")):
        m = has_u & (split == "test") & sel
        mc = sel[idx]
        report[key] = {"n": int(m.sum()), "lex": accuracy(pl[m], yu[m]), "cross_encoder_share": float(band[m].mean()),
                       "cv_train_lex": accuracy(p_cv[mc], yu[idx][mc])}
        mr = has_r & (split == "test") & sel
        if mr.any():
            report[key]["refusal_acc"] = accuracy(sigmoid(logit(xl[mr], wr, br)), yr[mr])
    print(json.dumps(report, indent=1))

    meta = {"version": VERSION, "band": [lo, hi], "c_lex": args.c_lex, "c_ref": args.c_ref,
            "weight_source": args.weight_source, "skip_source": args.skip_source,
            "seed": SEED, "n_train": int(tr_u.sum()), "heldout": report}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, lex_w=wl, lex_b=np.float32(bl), ref_w=wr, ref_b=np.float32(br),
                        meta=np.array(json.dumps(meta)))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
