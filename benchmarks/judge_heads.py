"""Does a different head fix the embedded judge's English? Held-out accuracy of several heads
over the same features.

The shipped judge is a cascade of two logistic heads (hashed n-grams + cues, then the e5
response embedding). Its English agreement on the real, human-labelled PyRIT sets is 0.72-0.83,
against the issue's 0.90. This benchmark trains other heads on the same training split and
features (plus two candidate features: the guard's n-gram prompt-harm heads and the e5
prompt/response cosine) and reports held-out accuracy per set, to tell whether the gap is
the head (then a non-linear head would close part of it) or the features (then none will).
``en_blind`` / ``zh_blind`` pool the blind sets (tests/judges/data/*_blind7/8.jsonl), never trained on.

Usage: python benchmarks/judge_heads.py   (needs the ``train`` extra: scikit-learn)
Writes benchmarks/results/judge_heads.json. Embeddings are cached by scripts/train_judge.py
in build/judge_dev/emb_cache.npz (computed on the first run, a few minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

import train_judge as tj  # noqa: E402

from xiezhi.guard.scanners.textmodel import shared_heads  # noqa: E402
from xiezhi.judges.devdata import load_dev_rows  # noqa: E402
from xiezhi.judges.features import N_HASH, lexical_features  # noqa: E402


def prompt_logits(prompts: list[str]) -> np.ndarray:
    """(n, 3) logits of the guard's n-gram heads (harmful, jailbreak, injection) on each prompt / 10."""
    heads = shared_heads()
    if heads is None:
        raise SystemExit("guard n-gram weights missing")
    p = np.array([[heads.predict(t[:4000])[k] for k in ("harmful", "jailbreak", "injection")] for t in prompts])
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)) / 10


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "judge_heads.json")
    args = ap.parse_args()
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neural_network import MLPClassifier

    t0 = time.perf_counter()
    rows = load_dev_rows(ROOT)
    xl = lexical_features([r.prompt for r in rows], [r.response for r in rows])
    xe4 = tj.cached_embeddings(rows, ROOT / "build" / "judge_dev" / "emb_cache.npz")  # [r, p, r*p, |r-p|]
    split = np.array([r.split for r in rows])
    lang = np.array([r.lang for r in rows])
    has_u = np.array([r.unsafe is not None for r in rows])
    yu = np.array([1 if r.unsafe else 0 for r in rows])
    harm = np.array([r.source.startswith("pyrit_harm/") for r in rows])
    jbb = np.array([r.source.startswith("xiezhi_en/") for r in rows])
    blind = np.array([r.split.startswith("blind") for r in rows])
    sets = {"en": (lang == "en") & ~harm & ~jbb & ~blind, "en_harm": harm, "en_jbb": jbb, "zh": (lang == "zh") & ~blind,
            "en_blind": (lang == "en") & blind, "zh_blind": (lang == "zh") & blind}
    tr = has_u & (split == "train")

    # the lex logit as the second stage sees it: out-of-fold on the training split
    wl, bl = tj.fit_lr(xl[tr], yu[tr], 8.0)
    lex = tj.logit(xl, wl, bl)
    lex[tr] = tj.oof_lex_logit(xl[tr], yu[tr], [r.prompt for r, m in zip(rows, tr, strict=True) if m], 8.0)
    ph = prompt_logits([r.prompt for r in rows])
    cos = xe4[:, 768:1152].sum(axis=1, keepdims=True)  # both embeddings are unit length
    cues = xl[:, N_HASH:]
    r_emb = xe4[:, :384]

    def heldout(p: np.ndarray) -> dict[str, dict[str, float]]:
        out = {}
        for k, s in sets.items():
            m = has_u & ((split == "test") | blind) & s
            out[k] = {"n": int(m.sum()), "accuracy": round(float(np.mean((p[m] >= 0.5) == (yu[m] == 1))), 4)}
        return out

    def linear(x: np.ndarray, c: float) -> np.ndarray:
        w, b = tj.fit_lr(x[tr], yu[tr], c)
        return tj.sigmoid(tj.logit(x, w, b))

    def sk(make: Callable[[], Any], x: np.ndarray) -> np.ndarray:
        m = make()
        m.fit(x[tr], yu[tr])
        return np.asarray(m.predict_proba(x)[:, 1])

    def mlp() -> Any:
        return MLPClassifier((128,), alpha=1e-2, max_iter=300, random_state=0, early_stopping=True)

    def gbdt() -> Any:
        return HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=0)

    lex_e5 = np.concatenate([r_emb, lex[:, None] / 5], axis=1)
    rich = np.concatenate([xe4, lex[:, None] / 5, ph, cos, cues], axis=1)
    variants: dict[str, Callable[[], np.ndarray]] = {
        "linear: n-grams + cues (shipped stage 1)": lambda: linear(xl, 8.0),
        "linear: n-grams + cues + prompt-harm + cosine": lambda: linear(
            np.concatenate([xl, ph.astype(np.float32), cos], axis=1), 8.0),
        "linear: e5 response + lex logit (shipped stage 2, on every row)": lambda: linear(lex_e5, 16.0),
        "MLP(128): e5 response + lex logit": lambda: sk(mlp, lex_e5),
        "MLP(128): e5 [r,p,r*p,|r-p|] + lex + prompt-harm + cosine + cues": lambda: sk(mlp, rich),
        "GBDT: e5 [r,p,r*p,|r-p|] + lex + prompt-harm + cosine + cues": lambda: sk(gbdt, rich),
    }
    results: dict[str, Any] = {
        "what": "held-out accuracy (unsafe) of alternative judge heads on the embedded judge's features",
        "command": "python " + shlex.join(sys.argv),
        "machine": {"python": platform.python_version(), "cpus_visible": len(os.sched_getaffinity(0)),
                    "loadavg_before": os.getloadavg()},
        "n_train": int(tr.sum()),
        "heads": {},
    }
    for name, run in variants.items():
        res = heldout(run())
        results["heads"][name] = res
        print(f"{name:68s} " + "  ".join(f"{k}={v['accuracy']:.3f}" for k, v in res.items()), flush=True)
    results["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
