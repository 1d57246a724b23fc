"""Embedded judge throughput (responses per second) on CPU, per mode.

Two workloads: the development responses as they are (cut to 512 tokens), and each one
padded with the following responses to about 512 tokens (the worst case the goal names; not
with copies of itself, which the judge would rightly call degenerate). The machine's load
average is recorded before and after, and the CPU seconds used: on a shared machine wall
time inflates with other sessions' load, CPU time much less (compare modes as ratios).

The cross-encoder runs in bfloat16 where the CPU has native bf16 instructions (AVX512-BF16 or
AMX), in int8 on other x86-64 CPUs with AVX2, and in float32 elsewhere; ``--precision fp32``
measures the float32 path on any machine.

Usage: python benchmarks/judge_speed.py [--quick] [--n 256] [--threads 2] [--precision auto|fp32|bf16|int8]
Writes benchmarks/results/judge_speed.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer responses, no full mode")
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2, help="torch threads for the cross-encoder")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "int8"),
                    help="the cross-encoder's precision (auto: bf16 where the CPU has native bf16)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "judge_speed.json")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)

    from xiezhi.judges.cross import load_cross_head
    from xiezhi.judges.devdata import load_dev_rows
    from xiezhi.judges.embedded import EmbeddedJudge, load_weights
    from xiezhi.judges.features import estimate_tokens, head_tail
    from xiezhi.types import Attempt, Seed

    n = 64 if args.quick else args.n
    rows = load_dev_rows(ROOT)[:n]

    def attempts(pad: bool) -> list[Attempt]:
        out = []
        for i, r in enumerate(rows):
            text = r.response
            j = i
            while pad and estimate_tokens(text) < 500:  # pad with the following rows' responses: repeating
                j = (j + 1) % len(rows)                 # one short response would make it degenerate text,
                text = text + "\n" + rows[j].response  # which the judge answers without the encoder
            text = head_tail(text, 512)
            out.append(Attempt(id=f"s{i}", run_id="speed", index=i, seed=Seed(id=f"s{i}", text=r.prompt, lang=r.lang),
                               prompt=r.prompt, response=text))
        return out

    modes = ["lex", "cascade"] if args.quick else ["lex", "cascade", "full"]
    load_before = os.getloadavg()
    import psutil

    rss_before = psutil.Process().memory_info().rss / 2**20
    EmbeddedJudge(f"mode=full,precision={args.precision}").score(attempts(False)[:2])  # load once, untimed
    rss_loaded = psutil.Process().memory_info().rss / 2**20
    print(f"memory: RSS {rss_before:.0f} MB with torch imported, {rss_loaded:.0f} MB with the cross-encoder loaded")
    meta = load_weights()["meta"]
    from xiezhi.encoder.tuned import cpu_summary

    res: dict[str, object] = {
        "command": "python " + shlex.join(sys.argv), "n": n, "omp_threads": os.environ["OMP_NUM_THREADS"],
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                    "cpus_visible": len(os.sched_getaffinity(0)), **cpu_summary()},
        "cpus_visible": len(os.sched_getaffinity(0)), "loadavg_before": load_before,
        "rss_mb": {"torch_imported": round(rss_before, 1), "cross_encoder_loaded": round(rss_loaded, 1)},
        "embedded_weights": {k: meta[k] for k in ("version", "band") if k in meta},
        "cross_encoder": {k: v for k, v in load_cross_head(args.precision).meta.items() if k != "heldout"},
        "precision": {"asked": args.precision, "used": load_cross_head(args.precision).precision},
    }
    for workload in ("as_is", "padded_512"):
        batch = attempts(workload == "padded_512")
        avg_tokens = sum(min(estimate_tokens(a.response or ""), 512) for a in batch) / len(batch)
        for mode in modes:
            judge = EmbeddedJudge(f"mode={mode},precision={args.precision}")
            t0, c0 = time.perf_counter(), time.process_time()
            verdicts = asyncio.run(judge.judge_batch(batch))
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            share = sum("cross-encoder" in v.reason for v in verdicts) / len(verdicts)
            # CPU seconds (all threads) do not grow much with other sessions' load, wall time does:
            # with two idle cores the wall time lies between cpu/2 (all parallel) and cpu.
            res[f"{workload}/{mode}"] = {"responses_per_s": round(len(batch) / dt, 2), "seconds": round(dt, 2),
                                         "cpu_seconds": round(cpu, 2),
                                         "responses_per_cpu_s": round(len(batch) / max(cpu, 1e-9), 2),
                                         "cross_encoder_share": round(share, 3),
                                         "avg_tokens_est": round(avg_tokens, 1)}
            print(f"{workload:10s} {mode:8s} {len(batch) / dt:8.1f} responses/s  {len(batch) / max(cpu, 1e-9):8.1f} "
                  f"per CPU-second  (cross-encoder on {share:.0%}, ~{avg_tokens:.0f} tokens)", flush=True)
    res["loadavg_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
