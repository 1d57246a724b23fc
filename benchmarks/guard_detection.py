"""Guard detection: TPR on jailbreak + injection prompts, FPR on benign prompts (look-alikes
included), per language, on the held-out split of scripts/train_guard.py — xiezhi's
default input policy next to metatronnanoguard (a 16.8M-parameter injection classifier).

    python benchmarks/guard_detection.py [--quick] [--policy default] [--no-nanoguard]

What is measured: `Guard.check_input(text).blocked` for every held-out prompt (a prompt is
detected when the policy blocks it); NanoGuard's `scan(text).is_injection` (threshold 0.5).
Held-out means: templates, in-the-wild openings and texts whose hash fell in the test share;
the thresholds were set on out-of-fold training scores, never on these rows. Latency is
wall time per prompt on this machine's CPU (single process; xiezhi runs on every split before
NanoGuard is loaded; xiezhi's guard encoder runs in torch too; torch threads left at default
unless --threads is given).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "guard_detection.json"


def _load_train_module() -> Any:
    spec = importlib.util.spec_from_file_location("train_guard", ROOT / "scripts" / "train_guard.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["train_guard"] = mod
    spec.loader.exec_module(mod)
    return mod


def _rates(rows: list[Any], flags: list[bool]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang in ("zh", "en", "de", "all"):
        sel = [(r, f) for r, f in zip(rows, flags, strict=True) if lang == "all" or r.lang == lang]
        att = [f for r, f in sel if r.label in ("injection", "jailbreak")]
        ben = [f for r, f in sel if r.label == "benign"]
        look = [f for r, f in sel if r.label == "benign" and r.lookalike]
        harm = [f for r, f in sel if r.label == "harmful"]
        if not sel:
            continue
        out[lang] = {
            "tpr_attacks": round(sum(att) / len(att), 4) if att else None, "n_attacks": len(att),
            "fpr_benign": round(sum(ben) / len(ben), 4) if ben else None, "n_benign": len(ben),
            "fpr_lookalike": round(sum(look) / len(look), 4) if look else None, "n_lookalike": len(look),
            "block_rate_harmful_requests": round(sum(harm) / len(harm), 4) if harm else None,
            "n_harmful": len(harm),
        }
    return out


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 3)


def run_xiezhi(rows: list[Any], policy: str) -> tuple[list[bool], list[float], dict[str, list[bool]]]:
    from xiezhi.guard import Guard

    guard = Guard.from_policy(policy)
    guard.check_input("warm up 预热")
    flags, lat = [], []
    per: dict[str, list[bool]] = {}
    for r in rows:
        t0 = time.perf_counter()
        d = guard.check_input(r.text)
        lat.append((time.perf_counter() - t0) * 1000)
        flags.append(d.blocked)
        for name in guard.scanner_names("input"):
            per.setdefault(name, []).append(name in d.scanners)
    return flags, lat, per


def run_nanoguard(rows: list[Any]) -> tuple[list[bool], list[float]]:
    from nanoguard import NanoGuard

    ng = NanoGuard(device="cpu")
    ng.scan("warm up")
    flags, lat = [], []
    for r in rows:
        t0 = time.perf_counter()
        res = ng.scan(r.text)
        lat.append((time.perf_counter() - t0) * 1000)
        flags.append(bool(res.is_injection))
    return flags, lat


def evaluate(rows: list[Any], policy: str) -> dict[str, Any]:
    """xiezhi on one set of rows (NanoGuard is added by `add_nanoguard`)."""
    flags, lat, per = run_xiezhi(rows, policy)
    out: dict[str, Any] = {
        "n_rows": len(rows),
        "xiezhi": {"policy": policy, "metric": "Guard.check_input(text).blocked",
                   "rates": _rates(rows, flags),
                   "per_scanner_fired": {k: _rates(rows, v)["all"] for k, v in per.items()},
                   "latency_ms": {"p50": _pct(lat, 0.5), "p99": _pct(lat, 0.99),
                                  "mean": round(statistics.fmean(lat), 3)}},
    }
    misses = [r.text[:100] for r, f in zip(rows, flags, strict=True)
              if r.label in ("injection", "jailbreak") and not f]
    fps = [r.text[:100] for r, f in zip(rows, flags, strict=True) if r.label == "benign" and f]
    out["xiezhi"]["examples"] = {"missed_attacks": misses[:20], "false_positives": fps[:20]}
    return out


def add_nanoguard(rows: list[Any], out: dict[str, Any]) -> None:
    """NanoGuard on the same rows as `evaluate`."""
    nflags, nlat = run_nanoguard(rows)
    out["metatronnanoguard"] = {
        "version": "0.1.0", "metric": "NanoGuard(device='cpu').scan(text).is_injection (threshold 0.5)",
        "rates": _rates(rows, nflags),
        "latency_ms": {"p50": _pct(nlat, 0.5), "p99": _pct(nlat, 0.99),
                       "mean": round(statistics.fmean(nlat), 3)},
    }


def _print(split: str, res: dict[str, Any]) -> None:
    for who in ("xiezhi", "metatronnanoguard"):
        if who not in res:
            continue
        lat = res[who]["latency_ms"]
        print(f"== [{split}] {who}  latency p50={lat['p50']} ms p99={lat['p99']} ms")
        for lang, m in res[who]["rates"].items():
            print(f"  {lang:>3}: TPR={m['tpr_attacks']} (n={m['n_attacks']})  FPR={m['fpr_benign']} (n={m['n_benign']})"
                  f"  FPR look-alike={m['fpr_lookalike']} (n={m['n_lookalike']})"
                  f"  harmful blocked={m['block_rate_harmful_requests']} (n={m['n_harmful']})")


def main() -> None:
    ap = argparse.ArgumentParser(description="guard TPR/FPR on held-out prompts, vs metatronnanoguard")
    ap.add_argument("--quick", action="store_true", help="every 4th row only")
    ap.add_argument("--policy", default="default")
    ap.add_argument("--split", default="test,fresh,fresh8,fresh9,fresh10,fresh11,fresh12",
                    help="comma-separated: test, fresh, fresh8, ..., fresh12, train "
                         "(fresh2-fresh7 are training data now)")
    ap.add_argument("--no-nanoguard", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="torch threads for NanoGuard (0 = default)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    all_rows = _load_train_module().load_rows()
    from xiezhi.encoder.tuned import cpu_summary

    result: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/guard_detection.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()} {platform.processor()}, {os.cpu_count()} CPUs, "
                   f"Python {platform.python_version()}",
        "cpu": cpu_summary(),
        "notes": "test = hash-held-out rows/templates/openings of every source; fresh = prompts written after "
                 "the heads, rules and lexicon were frozen. TPR counts injection+jailbreak prompts blocked; "
                 "FPR counts benign prompts (look-alikes included) blocked; 'harmful blocked' is the block "
                 "rate on plain harmful requests (NanoGuard is an injection detector: not its task).",
        "splits": {},
    }
    splits = {}
    for split in [s.strip() for s in args.split.split(",") if s.strip()]:
        rows = [r for r in all_rows if r.split == split]
        splits[split] = rows[::4] if args.quick else rows
    # xiezhi first on every split, NanoGuard (torch) after: torch's thread pool is not in the
    # process while xiezhi's latency is measured
    for split, rows in splits.items():
        result["splits"][split] = evaluate(rows, args.policy)
    if not args.no_nanoguard:
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        for split, rows in splits.items():
            add_nanoguard(rows, result["splits"][split])
    for split in splits:
        _print(split, result["splits"][split])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
