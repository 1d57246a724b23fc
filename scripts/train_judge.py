"""Train the embedded judge's heads and write src/xiezhi/judges/weights/embedded.npz.

Usage: python scripts/train_judge.py [--cache build/judge_dev/emb_cache.npz] [--eval-only]

Data: PyRIT human-labelled objective/refusal sets (../shared/data/judge) and xiezhi's
Chinese pairs (tests/judges/data/zh_pairs.jsonl); the held-out split (by objective /
by topic, see xiezhi.judges.devdata) is never trained on. Seeded and deterministic
(liblinear logistic regression, fixed folds).

Heads:
  lex     logistic regression on hashed n-grams + cue features -> P(unsafe)
  emb     logistic regression on e5 [r, p, r*p, |r-p|] + the lex logit -> P(unsafe),
          used by the cascade when the lex score falls in the uncertainty band
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
BAND = (0.2, 0.8)


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


def fit_lr(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", random_state=SEED, max_iter=1000)
    m.fit(x, y)
    return m.coef_[0].astype(np.float32), float(m.intercept_[0])


def logit(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return np.asarray(x @ w + b, dtype=np.float64)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def oof_lex_logit(x: np.ndarray, y: np.ndarray, groups: list[str], c: float, folds: int = 5) -> np.ndarray:
    """Out-of-fold lex logits (grouped by prompt) so the emb head sees honest inputs."""
    fold = np.array([int(hashlib.sha256(g.encode()).hexdigest(), 16) % folds for g in groups])
    out = np.zeros(len(y))
    for f in range(folds):
        tr, te = fold != f, fold == f
        w, b = fit_lr(x[tr], y[tr], c)
        out[te] = logit(x[te], w, b)
    return out


def accuracy(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p >= 0.5) == (y == 1)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "judge_dev" / "emb_cache.npz")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "xiezhi" / "judges" / "weights" / "embedded.npz")
    ap.add_argument("--c-lex", type=float, default=4.0)
    ap.add_argument("--c-emb", type=float, default=1.0)
    args = ap.parse_args()

    rows = load_dev_rows(ROOT)
    print(f"{len(rows)} rows", file=sys.stderr)
    xl = lexical_features([r.prompt for r in rows], [r.response for r in rows])
    xe = cached_embeddings(rows, args.cache)
    split = np.array([r.split for r in rows])
    lang = np.array([r.lang for r in rows])
    has_u = np.array([r.unsafe is not None for r in rows])
    has_r = np.array([r.refusal is not None for r in rows])
    yu = np.array([1 if r.unsafe else 0 for r in rows])
    yr = np.array([1 if r.refusal else 0 for r in rows])
    tr_u = has_u & (split == "train")

    wl, bl = fit_lr(xl[tr_u], yu[tr_u], args.c_lex)
    oof = oof_lex_logit(xl[tr_u], yu[tr_u], [r.prompt for r, m in zip(rows, tr_u, strict=True) if m], args.c_lex)
    xe_tr = np.concatenate([xe[tr_u], oof[:, None].astype(np.float32)], axis=1)
    we, be = fit_lr(xe_tr, yu[tr_u], args.c_emb)
    tr_r = has_r & (split == "train")
    wr, br = fit_lr(xl[tr_r], yr[tr_r], args.c_lex)

    # held-out report (the benchmark re-measures through the judge itself)
    pl = sigmoid(logit(xl, wl, bl))
    pe = sigmoid(logit(np.concatenate([xe, logit(xl, wl, bl)[:, None].astype(np.float32)], axis=1), we, be))
    band = (pl >= BAND[0]) & (pl <= BAND[1])
    pc = np.where(band, pe, pl)
    report: dict[str, dict[str, float]] = {}
    for lg in ("en", "zh"):
        m = has_u & (split == "test") & (lang == lg)
        report[lg] = {"n": int(m.sum()), "lex": accuracy(pl[m], yu[m]), "emb": accuracy(pe[m], yu[m]),
                      "cascade": accuracy(pc[m], yu[m]), "embedded_share": float(band[m].mean())}
        mr = has_r & (split == "test") & (lang == lg)
        report[lg]["refusal_acc"] = accuracy(sigmoid(logit(xl[mr], wr, br)), yr[mr])
    print(json.dumps(report, indent=1))

    meta = {"version": "1", "max_tokens": MAX_TOKENS, "prompt_tokens": PROMPT_TOKENS, "band": list(BAND),
            "seed": SEED, "n_train": int(tr_u.sum()), "heldout": report}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, lex_w=wl, lex_b=np.float32(bl), emb_w=we, emb_b=np.float32(be),
                        ref_w=wr, ref_b=np.float32(br), meta=np.array(json.dumps(meta)))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
