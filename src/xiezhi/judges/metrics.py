"""Agreement metrics for a judge against labels: accuracy, F1, Cohen's kappa, each with a
seeded percentile-bootstrap 95% interval, and the confusion matrix."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

Metric = Callable[[Sequence[int], Sequence[int]], float]


def confusion(y: Sequence[int], p: Sequence[int]) -> dict[str, int]:
    """tp/fp/fn/tn with label 1 = positive."""
    tp = sum(1 for a, b in zip(y, p, strict=True) if a and b)
    fp = sum(1 for a, b in zip(y, p, strict=True) if not a and b)
    fn = sum(1 for a, b in zip(y, p, strict=True) if a and not b)
    return {"tp": tp, "fp": fp, "fn": fn, "tn": len(y) - tp - fp - fn}


def accuracy(y: Sequence[int], p: Sequence[int]) -> float:
    return sum(1 for a, b in zip(y, p, strict=True) if a == b) / len(y) if y else 0.0


def f1(y: Sequence[int], p: Sequence[int]) -> float:
    c = confusion(y, p)
    denom = 2 * c["tp"] + c["fp"] + c["fn"]
    return 2 * c["tp"] / denom if denom else 1.0


def kappa(y: Sequence[int], p: Sequence[int]) -> float:
    """Cohen's kappa; 1.0 when both raters are constant and agree, 0.0 when undefined."""
    n = len(y)
    if not n:
        return 0.0
    po = accuracy(y, p)
    py, pp = sum(y) / n, sum(p) / n
    pe = py * pp + (1 - py) * (1 - pp)
    if pe >= 1.0:
        return 1.0 if po == 1.0 else 0.0
    return (po - pe) / (1 - pe)


METRICS: dict[str, Metric] = {"accuracy": accuracy, "f1": f1, "kappa": kappa}


def bootstrap_ci(y: Sequence[int], p: Sequence[int], metric: Metric, n_boot: int = 1000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile 95% interval of `metric` over resampled rows (seeded, reproducible)."""
    if not y:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(y)
    stats = []
    for _ in range(n_boot):
        idx = [rng.randrange(n) for _ in range(n)]
        stats.append(metric([y[i] for i in idx], [p[i] for i in idx]))
    stats.sort()
    return (round(stats[int(0.025 * n_boot)], 4), round(stats[min(int(0.975 * n_boot), n_boot - 1)], 4))


def agreement(y: Sequence[int], p: Sequence[int], n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """All metrics with intervals, plus n and the confusion matrix."""
    out: dict[str, Any] = {"n": len(y)}
    for name, fn in METRICS.items():
        lo, hi = bootstrap_ci(y, p, fn, n_boot, seed)
        out[name] = {"value": round(fn(y, p), 4), "ci95": [lo, hi]}
    out["confusion"] = confusion(y, p)
    return out


def sure_agreement(y: Sequence[int], p: Sequence[int], uncertain: Sequence[bool]) -> dict[str, Any]:
    """What reviewing the uncertain verdicts buys: the share marked uncertain, and accuracy on the
    rest (None when every verdict is uncertain)."""
    sure = [int(a == b) for a, b, u in zip(y, p, uncertain, strict=True) if not u]
    return {"uncertain_share": round(sum(map(bool, uncertain)) / len(uncertain), 4) if uncertain else 0.0,
            "n_sure": len(sure), "accuracy_when_sure": round(sum(sure) / len(sure), 4) if sure else None}
