"""Judge agreement with human labels on the held-out split, per language.

English (``en``): held-out objectives of the PyRIT objective/refusal sets (../shared/data/judge);
``en_harm``: held-out objectives of the PyRIT harm-severity set, clear cases only (mean
severity <= 0.25 safe, >= 0.75 unsafe); ``en_jbb``: held-out behaviours and phrasings of
xiezhi's synthetic JBB-style responses (tests/judges/data/en_jbb_synth.jsonl); Chinese
(``zh``): held-out topics and phrasings of xiezhi's own pairs (tests/judges/data/zh_pairs.jsonl).
The split is by objective/topic (xiezhi.judges.devdata) and never trained on; settings are
chosen on training-split CV (scripts/train_judge.py), though the trainer also prints held-out
figures, so they have been seen while developing.

Usage: python benchmarks/judge_agreement.py [--quick] [--judges embedded,refusal]
Writes benchmarks/results/judge_agreement.json.
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

from xiezhi.judges.base import create_judge  # noqa: E402
from xiezhi.judges.cross import load_cross_head  # noqa: E402
from xiezhi.judges.devdata import Row, load_dev_rows  # noqa: E402
from xiezhi.judges.embedded import load_weights  # noqa: E402
from xiezhi.judges.metrics import agreement, sure_agreement  # noqa: E402
from xiezhi.types import Attempt, Seed  # noqa: E402

DEFAULT_JUDGES = "embedded,embedded:mode=lex,embedded:mode=full,refusal"


def subset(row: Row) -> str:
    """en, en_harm, en_jbb, zh or {en,zh}_blind{11,12}."""
    if row.source.startswith("pyrit_harm/"):
        return "en_harm"
    if row.source.startswith("xiezhi_en/"):
        return "en_jbb"
    if row.split.startswith("blind"):
        return f"{row.lang}_{row.split}"
    return row.lang


def to_attempts(rows: list[Row]) -> list[Attempt]:
    return [Attempt(id=f"h{i}", run_id="bench", index=i, seed=Seed(id=f"h{i}", text=r.prompt, lang=r.lang),
                    prompt=r.prompt, response=r.response) for i, r in enumerate(rows)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="embedded (cascade) and refusal only")
    ap.add_argument("--judges", default=None, help=f"comma-separated judge specs [default: {DEFAULT_JUDGES}]")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "judge_agreement.json")
    args = ap.parse_args()
    specs = (args.judges or ("embedded,refusal" if args.quick else DEFAULT_JUDGES)).split(",")
    held = [r for r in load_dev_rows(ROOT) if r.split == "test" or r.split.startswith("blind")]
    from xiezhi.encoder.tuned import cpu_summary

    results: dict[str, object] = {
        "what": "agreement with human labels on held-out rows (split by objective / topic)",
        "command": "python " + shlex.join(sys.argv),
        "data": {"en": "PyRIT scorer_evals objective + refusal (held-out objectives)",
                 "en_harm": "PyRIT scorer_evals harm, clear cases (held-out objectives)",
                 "en_jbb": "xiezhi en_jbb_synth.jsonl: synthetic responses over JBB/AdvBench behaviours "
                           "(held-out behaviours and phrasings; xiezhi-authored, one author: an upper bound)",
                 "zh": "xiezhi zh_pairs.jsonl (held-out topics and phrasings; xiezhi-authored)",
                 "en_blind11": "tests/judges/data/en_blind11.jsonl: 150 responses to 50 requests (6 benign "
                               "look-alikes), written blind to the judge in session 6 by a fourth author; first "
                               "measured with the v7 cross-encoder; in session 8 it decided whether v8 shipped",
                 "zh_blind11": "tests/judges/data/zh_blind11.jsonl: the same in Chinese (written in Chinese)",
                 "en_blind12": "tests/judges/data/en_blind12.jsonl: 150 responses to 67 requests, written blind to "
                               "the judge in session 8 by a new author while v8 trained; measured once with v8",
                 "zh_blind12": "tests/judges/data/zh_blind12.jsonl: 150 responses to 65 requests, written in Chinese "
                               "the same way by another new author",
                 "en_blind13": "tests/judges/data/en_blind13.jsonl: 150 responses to 61 requests, written blind to "
                               "the judge in session 9 by a new author (asked for weak and small models' styles "
                               "too); measured once with v8 in int8",
                 "zh_blind13": "tests/judges/data/zh_blind13.jsonl: 150 responses to 70 requests, written in Chinese "
                               "the same way by another new author",
                 "retired": "blind7 to blind10 are training rows since session 8 (v8); their figures as blind sets "
                            "are in judge_agreement_blind*_v*.json and in this file at commit 9538c52"},
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                    "cpus_visible": len(os.sched_getaffinity(0)), "loadavg_before": os.getloadavg(),
                    **cpu_summary()},
        "embedded_weights": {k: v for k, v in load_weights()["meta"].items() if k != "heldout"},
        "cross_encoder": {k: v for k, v in load_cross_head().meta.items() if k != "heldout"},
        "judges": {},
    }
    blind = sorted({r.split for r in held if r.split.startswith("blind")})
    for spec in specs:
        judge = create_judge(spec)
        per: dict[str, object] = {}
        for lang in ("en", "en_harm", "en_jbb", "zh", *(f"{lg}_{b}" for b in blind for lg in ("en", "zh"))):
            for field in ("unsafe", "refusal"):
                rows = [r for r in held if subset(r) == lang and getattr(r, field) is not None]
                if not rows:
                    continue
                t0 = time.perf_counter()
                verdicts = asyncio.run(judge.judge_batch(to_attempts(rows)))
                dt = time.perf_counter() - t0
                y = [int(bool(getattr(r, field))) for r in rows]
                p = [int(getattr(v, field)) for v in verdicts]
                res = agreement(y, p)
                # what the review queue buys: agreement on the verdicts the judge is sure of
                res.update(sure_agreement(y, p, [v.uncertain for v in verdicts]))
                res["seconds"] = round(dt, 2)
                per[f"{lang}/{field}"] = res
                print(f"{spec:22s} {lang + '/' + field:15s} n={res['n']:4d} acc={res['accuracy']['value']:.3f} "
                      f"{res['accuracy']['ci95']} f1={res['f1']['value']:.3f} kappa={res['kappa']['value']:.3f} "
                      f"sure={res['accuracy_when_sure']} on {1 - res['uncertain_share']:.0%} ({dt:.1f}s)", flush=True)
        results["judges"][spec] = per  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
