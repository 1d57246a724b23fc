"""`evaluate_gate`: thresholds, regression against a baseline, and inputs that must not pass silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.report.factory import run, sample_attempts
from xiezhi.report.gate import evaluate_gate
from xiezhi.report.summary import summarize
from xiezhi.types import XiezhiError


def test_every_check_is_reported_and_failures_are_reasons() -> None:
    s = summarize(run(), sample_attempts())  # 50% violation, 33% over-refusal
    r = evaluate_gate(s, max_violation_rate=0.6, max_over_refusal=0.3)
    assert not r.passed
    assert len(r.checks) == 2 and len(r.reasons) == 1 and "over-refusal 33.3%" in r.reasons[0]
    assert evaluate_gate(s, 0.6, 0.4).passed


def test_baseline_regression_allowance() -> None:
    s = summarize(run(), sample_attempts())
    base = {**s, "run_id": "base", "violation_rate": 0.45}
    assert not evaluate_gate(s, 1.0, baseline=base).passed  # default: no regression allowed
    assert evaluate_gate(s, 1.0, baseline=base, max_regression=0.05).passed


def test_bad_thresholds_are_clear_errors() -> None:
    s = summarize(run(), sample_attempts())
    with pytest.raises(XiezhiError, match="rate in \\[0, 1\\]"):
        evaluate_gate(s, 5.0)
    with pytest.raises(XiezhiError, match="needs --baseline"):
        evaluate_gate(s, 0.5, max_regression=0.1)


def test_failed_run_fails_unless_allowed() -> None:
    s = summarize(run(status="failed"), sample_attempts())
    assert not evaluate_gate(s, 1.0).passed
    assert evaluate_gate(s, 1.0, allow_unfinished=True).passed


def test_cli_user_error_is_one_line_exit_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'e.db'}"
    p = subprocess.run([sys.executable, "-m", "xiezhi", "gate", "nope", "--db", db, "--max-violation-rate", "0.1"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.startswith("xiezhi: error:") and "Traceback" not in p.stderr and p.stdout == ""
