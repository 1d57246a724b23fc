"""Train the embedded judge's heads and write src/xiezhi/judges/weights/embedded.npz.

Usage: python scripts/train_judge.py [--cache build/judge_dev/emb_cache.npz] [--c-emb 16]
       [--pair-features r|rp4] [--band 0.35,0.65] [--skip-source PREFIX]

Data: PyRIT human-labelled objective/refusal sets and the clear cases of the harm-severity
set (../shared/data/judge), xiezhi's Chinese pairs (tests/judges/data/zh_*.jsonl), xiezhi's
synthetic English jailbreak responses over JBB/AdvBench behaviours (en_jbb_synth.jsonl) and
the guard's refusal texts behind expert-tier prompts (guard_refusals.jsonl); the held-out
split (by objective or behaviour / by topic, see xiezhi.judges.devdata) is never trained on.
Version 3: cue features per language block, CJK n-grams in their own hash half, operational
cues (imperative openers, code, defensive discussion, persona-only, prompt relevance).
Seeded and deterministic (numpy Newton logistic regression, fixed folds); numpy only.
The defaults were chosen by 5-fold cross-validation on the training split, grouped by
prompt (printed as ``cv``), not on the held-out split.

Heads:
  lex     logistic regression on hashed n-grams + cue features -> P(unsafe)
  emb     logistic regression on e5 features (``r``: the response embedding; ``rp4``:
          [r, p, r*p, |r-p|]) + the lex logit -> P(unsafe), used by the cascade when the
          lex score falls in the uncertainty band
  refusal logistic regression on the lexical features -> P(refusal)
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

from xiezhi.judges.devdata import Row, load_dev_rows  # noqa: E402
from xiezhi.judges.features import embed_pairs, lexical_features  # noqa: E402

SEED = 0
MAX_TOKENS = 64
PROMPT_TOKENS = 32
BAND = (0.35, 0.65)
VERSION = "6"


def cached_embeddings(rows: list[Row], cache: Path) -> np.ndarray:
    """e5 pair features, cached per (prompt, response, budget) so re-runs are fast."""
    keys = [hashlib.sha256(f"{MAX_TOKENS}|{PROMPT_TOKENS}|{r.prompt}\x1f{r.response}".encode()).hexdigest()[:20]
            for r in rows]
    store: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache) as z:
            store = {k: z[k] for k in z.files}
    todo = [i for i, k in enumerate(keys) if k not in store]
    for start in range(0, len(todo), 32):
        part = todo[start:start + 32]
        emb = embed_pairs([rows[i].prompt for i in part], [rows[i].response for i in part], MAX_TOKENS, PROMPT_TOKENS)
        for j, i in enumerate(part):
            store[keys[i]] = emb[j]
        print(f"  embedded {min(start + 32, len(todo))}/{len(todo)}", file=sys.stderr, flush=True)
        if (start // 32) % 5 == 4 or start + 32 >= len(todo):
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, **store)
    return np.stack([store[k] for k in keys]).astype(np.float32)


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


def oof_lex_logit(x: np.ndarray, y: np.ndarray, groups: list[str], c: float, folds: int = 5,
                  weight: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold lex logits (grouped by prompt) so the emb head sees honest inputs."""
    fold = np.array([int(hashlib.sha256(g.encode()).hexdigest(), 16) % folds for g in groups])
    out = np.zeros(len(y))
    for f in range(folds):
        tr, te = fold != f, fold == f
        w, b = fit_lr(x[tr], y[tr], c, weight=None if weight is None else weight[tr])
        out[te] = logit(x[te], w, b)
    return out


def accuracy(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p >= 0.5) == (y == 1)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "judge_dev" / "emb_cache.npz")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "xiezhi" / "judges" / "weights" / "embedded.npz")
    ap.add_argument("--c-lex", type=float, default=8.0)
    ap.add_argument("--c-emb", type=float, default=16.0)
    ap.add_argument("--c-ref", type=float, default=1.0)
    ap.add_argument("--pair-features", choices=("r", "rp4"), default="r")
    ap.add_argument("--band", default=f"{BAND[0]},{BAND[1]}", help="lex scores in this range go to e5")
    ap.add_argument("--weight-source", action="append", default=[], metavar="PREFIX=W",
                    help="weigh the unsafe heads' training rows whose source starts with PREFIX by W (default 1; "
                         "the refusal head is not weighted)")
    ap.add_argument("--skip-source", action="append", default=[],
                    help="leave out rows whose source starts with this prefix (ablations)")
    args = ap.parse_args()
    lo, hi = (float(x) for x in args.band.split(","))

    rows = [r for r in load_dev_rows(ROOT) if not any(r.source.startswith(p) for p in args.skip_source)]
    print(f"{len(rows)} rows", file=sys.stderr)
    xl = lexical_features([r.prompt for r in rows], [r.response for r in rows])
    xe = cached_embeddings(rows, args.cache)
    if args.pair_features == "r":
        xe = xe[:, :384]  # the cache holds [r, p, r*p, |r-p|]; r comes first
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
    oof = oof_lex_logit(xl[tr_u], yu[tr_u], [r.prompt for r, m in zip(rows, tr_u, strict=True) if m], args.c_lex,
                        weight=wu)
    xe_tr = np.concatenate([xe[tr_u], oof[:, None].astype(np.float32)], axis=1)
    we, be = fit_lr(xe_tr, yu[tr_u], args.c_emb, weight=wu)
    tr_r = has_r & (split == "train")
    wr, br = fit_lr(xl[tr_r], yr[tr_r], args.c_ref)

    # cross-validated cascade accuracy on the training split (what the defaults were chosen on)
    idx = np.flatnonzero(tr_u)
    groups = [rows[i].prompt for i in idx]
    fold = np.array([int(hashlib.sha256(g.encode()).hexdigest(), 16) % 5 for g in groups])
    p_cv = np.zeros(len(idx))
    for f in range(5):
        a, b = fold != f, fold == f
        w_f, b_f = fit_lr(xe_tr[a], yu[idx][a], args.c_emb, weight=wu[a])
        pl_f = sigmoid(oof[b])
        use = (pl_f >= lo) & (pl_f <= hi)
        p_cv[b] = np.where(use, sigmoid(logit(xe_tr[b], w_f, b_f)), pl_f)

    # held-out report (the benchmark re-measures through the judge itself)
    pl = sigmoid(logit(xl, wl, bl))
    pe = sigmoid(logit(np.concatenate([xe, logit(xl, wl, bl)[:, None].astype(np.float32)], axis=1), we, be))
    band = (pl >= lo) & (pl <= hi)
    pc = np.where(band, pe, pl)
    harm = np.array([r.source.startswith("pyrit_harm/") for r in rows])
    jbb = np.array([r.source.startswith("xiezhi_en/") for r in rows])
    report: dict[str, dict[str, float]] = {}
    for key, sel in (("en", (lang == "en") & ~harm & ~jbb), ("en_harm", harm), ("en_jbb", jbb), ("zh", lang == "zh")):
        m = has_u & (split == "test") & sel
        mc = sel[idx]
        report[key] = {"n": int(m.sum()), "lex": accuracy(pl[m], yu[m]), "emb": accuracy(pe[m], yu[m]),
                       "cascade": accuracy(pc[m], yu[m]), "embedded_share": float(band[m].mean()),
                       "cv_train_cascade": accuracy(p_cv[mc], yu[idx][mc])}
        mr = has_r & (split == "test") & sel
        if mr.any():
            report[key]["refusal_acc"] = accuracy(sigmoid(logit(xl[mr], wr, br)), yr[mr])
    print(json.dumps(report, indent=1))

    meta = {"version": VERSION, "max_tokens": MAX_TOKENS, "prompt_tokens": PROMPT_TOKENS, "band": [lo, hi],
            "pair_features": args.pair_features, "c_lex": args.c_lex, "c_emb": args.c_emb,
            "c_ref": args.c_ref, "weight_source": args.weight_source, "skip_source": args.skip_source,
            "seed": SEED, "n_train": int(tr_u.sum()), "heldout": report}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, lex_w=wl, lex_b=np.float32(bl), emb_w=we, emb_b=np.float32(be),
                        ref_w=wr, ref_b=np.float32(br), meta=np.array(json.dumps(meta)))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
