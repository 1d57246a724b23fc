"""xiezhi's own cost per attempt, and the embedded model's tokens/s batched vs one at a time.

    python benchmarks/scan_overhead.py [--quick] [--skip-model]

Part 1 (the tool is never the bottleneck): a local OpenAI-compatible server that answers
every chat completion at once (the raw ASGI upstream of `proxy_load.py`, its own process)
is scanned through the real pipeline — `openai:` target, async workers, the refusal-cue
judge, the SQLite store — at concurrency 1, 8 and 64. Reported: attempts per second from
the first request to the last stored verdict, and a check that the store holds every one.

Part 2: SmolLM2-135M-Instruct (the embedded target) generates the same prompts one at a
time and in batches of 8; reported: generated tokens per second for both.

Results go to benchmarks/results/scan_overhead.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
RESULTS = ROOT / "benchmarks" / "results" / "scan_overhead.json"

from proxy_load import _free_port, _stop, _wait  # noqa: E402

from xiezhi.config import Settings  # noqa: E402
from xiezhi.data.bank import load_bank  # noqa: E402
from xiezhi.runner import run_scan  # noqa: E402
from xiezhi.store import open_store  # noqa: E402
from xiezhi.types import Seed  # noqa: E402


def synthetic_seeds(n: int) -> list[Seed]:
    """n distinct seeds: the bank's texts, numbered so that none is deduplicated away."""
    bank = load_bank()
    return [
        s.model_copy(update={"id": f"{s.id}-b{i}", "text": f"{s.text} (#{i})"})
        for i, s in ((i, bank[i % len(bank)]) for i in range(n))
    ]


def scan_rate(url: str, concurrency: int, n: int, db_dir: Path) -> dict[str, Any]:
    db = f"sqlite:///{db_dir / f'c{concurrency}.db'}"
    settings = Settings(target=f"openai:bench@{url}", judge="refusal", db=db, concurrency=concurrency,
                        limit=n, max_tokens=64, retries=0)
    store = open_store(db)
    seeds = synthetic_seeds(n)
    t0 = time.perf_counter()
    run = asyncio.run(run_scan(settings, store, seeds=seeds, progress=False))
    wall = time.perf_counter() - t0
    stored = store.count_attempts(run.id)
    return {"concurrency": concurrency, "attempts": n, "stored": stored, "wall_s": round(wall, 3),
            "attempts_per_s": round(n / wall, 1), "status": run.status}


def part_scan(args: argparse.Namespace) -> list[dict[str, Any]]:
    port = _free_port()
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); " \
           f"from proxy_load import run_upstream; run_upstream({port})"
    up = subprocess.Popen([sys.executable, "-c", code])
    rows = []
    try:
        _wait(port, "/v1/models", up)
        url = f"http://127.0.0.1:{port}/v1"
        with tempfile.TemporaryDirectory() as tmp:
            scan_rate(url, 8, 100, Path(tmp))  # warm-up: imports, first connections
            for c, n in ((1, 300), (8, 2000), (64, 5000)):
                n = n // 5 if args.quick else n
                row = scan_rate(url, c, n, Path(tmp))
                rows.append(row)
                print(f"concurrency {c:>2}: {row['attempts_per_s']:>7.1f} attempts/s "
                      f"({row['attempts']} attempts, {row['wall_s']} s, stored {row['stored']})", flush=True)
    finally:
        _stop(up)
    return rows


def part_model(args: argparse.Namespace) -> dict[str, Any]:
    from xiezhi.targets.smollm2 import load_smollm2
    from xiezhi.types import GenerationParams, Message

    model = load_smollm2()
    bank = [s for s in load_bank() if not s.benign]
    n = 8 if args.quick else 16
    prompts = [[Message(role="user", content=s.text)] for s in bank[:: max(1, len(bank) // n)][:n]]
    params = GenerationParams(max_tokens=64)
    model.generate(prompts[:2], params)  # warm-up
    out: dict[str, Any] = {"prompts": len(prompts), "max_new_tokens": params.max_tokens,
                           "threads": __import__("torch").get_num_threads()}
    # interleaved per group of 8 prompts (8 single calls, then the same 8 as one batch), so that
    # both modes see the same machine load on a shared box
    acc: dict[str, list[float]] = {"one_at_a_time": [0, 0.0], "batched_8": [0, 0.0]}
    for i in range(0, len(prompts), 8):
        group = prompts[i:i + 8]
        for label, size in (("one_at_a_time", 1), ("batched_8", 8)):
            t0 = time.perf_counter()
            for j in range(0, len(group), size):
                for text in model.generate(group[j:j + size], params):
                    acc[label][0] += model.count_tokens(text)
            acc[label][1] += time.perf_counter() - t0
    for label, (tokens, wall) in acc.items():
        out[label] = {"tokens": tokens, "wall_s": round(wall, 2), "tokens_per_s": round(tokens / wall, 1),
                      "prompts_per_s": round(len(prompts) / wall, 2)}
        print(f"smollm2 {label:>13}: {tokens / wall:6.1f} tokens/s ({tokens} tokens in {wall:.1f} s)", flush=True)
    out["speedup"] = round(out["batched_8"]["tokens_per_s"] / out["one_at_a_time"]["tokens_per_s"], 2)
    print(f"batched / one at a time: {out['speedup']}x")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer attempts and prompts")
    ap.add_argument("--skip-model", action="store_true", help="only the scan overhead part")
    args = ap.parse_args()
    result: dict[str, Any] = {
        "command": "python benchmarks/scan_overhead.py" + (" --quick" if args.quick else ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "goal": ">= 500 attempts/s at concurrency 64",
        "scan": part_scan(args),
    }
    if not args.skip_model:
        result["smollm2"] = part_model(args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
