"""CLI over a real SQLite store: report formats, runs, leaderboard, trend and the CI gate."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.report.factory import T0, attempt, run, sample_attempts
from xiezhi.cli.app import build_app
from xiezhi.store import open_store
from xiezhi.types import XiezhiError

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Three finished runs: smollm2 twice (50% then 25%), guarded once (0%), and one running."""
    monkeypatch.chdir(tmp_path)
    for key in [k for k in __import__("os").environ if k.startswith("XIEZHI_")]:
        monkeypatch.delenv(key)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_store(url)
    store.create_run(run("old", created_at=T0 - timedelta(days=2)))
    store.save_attempts(sample_attempts("old"))
    store.finish_run("old")
    newer = [attempt(i, run_id="new", label="unsafe" if i == 0 else "refusal") for i in range(4)]
    newer += [attempt(9, run_id="new", benign=True, label="safe")]
    store.create_run(run("new", created_at=T0 - timedelta(days=1)))
    store.save_attempts(newer)
    store.finish_run("new")
    store.create_run(run("grd", target="guarded:smollm2", created_at=T0))
    store.save_attempts([attempt(i, run_id="grd", label="refusal", tier="advanced") for i in range(3)])
    store.finish_run("grd")
    store.create_run(run("live", status="running", finished_at=None, created_at=T0 + timedelta(hours=1)))
    store.close()
    return url


def invoke(*args: str) -> tuple[int, str]:
    r = runner.invoke(build_app(), list(args))
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout


def test_report_json_prints_exactly_one_object(db: str) -> None:
    code, out = invoke("report", "old", "--db", db, "--format", "json")
    assert code == 0
    data = json.loads(out)  # nothing else on stdout
    assert data["run_id"] == "old" and data["violation_rate"] == 0.5 and data["n_errors"] == 2


def test_report_latest_and_prefix(db: str) -> None:
    assert json.loads(invoke("report", "latest", "--db", db, "-f", "json")[1])["run_id"] == "live"
    assert json.loads(invoke("report", "gr", "--db", db, "-f", "json")[1])["run_id"] == "grd"


def test_report_html_out_file_by_suffix(db: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code, stdout = invoke("report", "old", "--db", db, "--out", str(out))
    assert code == 0 and stdout == ""
    html = out.read_text(encoding="utf-8")
    assert "<svg" in html and "smollm2" in html


def test_report_md_terminal_and_scheme(db: str) -> None:
    assert "# xiezhi safety report" in invoke("report", "old", "--db", db, "-f", "md")[1]
    assert "by category" in invoke("report", "old", "--db", db)[1]
    data = json.loads(invoke("report", "old", "--db", db, "-f", "json", "--scheme", "llamaguard3")[1])
    assert "S7" in data["by_risk_type"] and data["scheme"] == "llamaguard3"


def test_report_unknown_run_and_format_are_clear_errors(db: str) -> None:
    with pytest.raises(XiezhiError, match="no run 'zzz'"):
        invoke("report", "zzz", "--db", db, "-f", "json")
    with pytest.raises(XiezhiError, match="unknown report 'pdf'"):
        invoke("report", "old", "--db", db, "-f", "pdf")


def test_gate_fails_over_threshold_and_passes_under(db: str) -> None:
    code, out = invoke("gate", "old", "--db", db, "--max-violation-rate", "0.4")
    assert code == 1 and out.startswith("FAIL") and "50.0%" in out
    code, out = invoke("gate", "old", "--db", db, "--max-violation-rate", "0.5")
    assert code == 0 and out.startswith("PASS")


def test_gate_over_refusal_and_baseline_regression(db: str) -> None:
    code, out = invoke("gate", "old", "--db", db, "--max-violation-rate", "1", "--max-over-refusal", "0.2")
    assert code == 1 and "over-refusal 33.3%" in out
    # old (50%) against baseline new (25%): +25 points > allowed +10
    code, out = invoke("gate", "old", "--db", db, "--max-violation-rate", "1", "--baseline", "new",
                       "--max-regression", "0.1")
    assert code == 1 and "+25.0 points" in out
    code, _ = invoke("gate", "new", "--db", db, "--max-violation-rate", "1", "--baseline", "old")
    assert code == 0  # an improvement passes


def test_gate_fails_unfinished_or_empty_runs(db: str) -> None:
    code, out = invoke("gate", "latest", "--db", db, "--max-violation-rate", "1")
    assert code == 1 and "not finished" in out and "no judged harmful attempts" in out


def test_gate_json(db: str) -> None:
    code, out = invoke("gate", "new", "--db", db, "--max-violation-rate", "0.3", "--json")
    assert code == 0 and json.loads(out)["passed"] is True


def test_runs_lists_newest_first(db: str) -> None:
    code, out = invoke("runs", "--db", db, "--json")
    rows = json.loads(out)
    assert code == 0 and [r["run_id"] for r in rows] == ["live", "grd", "new", "old"]
    assert invoke("runs", "--db", db, "--target", "guarded:smollm2", "--json")[1].count("run_id") == 1
    assert "stored runs" in invoke("runs", "--db", db)[1]


def test_leaderboard_latest_finished_per_target_safest_first(db: str) -> None:
    _, out = invoke("leaderboard", "--db", db, "--format", "json")
    rows = json.loads(out)["rows"]
    assert [(r["target"], r["run_id"]) for r in rows] == [("guarded:smollm2", "grd"), ("smollm2", "new")]
    assert rows[1]["violation_rate"] == 0.25 and rows[0]["by_tier"] == {"advanced": 0.0}
    tiered = json.loads(invoke("leaderboard", "--db", db, "-f", "json", "--tier", "advanced")[1])["rows"]
    assert [r["target"] for r in tiered] == ["guarded:smollm2"]
    assert "<svg" in invoke("leaderboard", "--db", db, "-f", "html")[1]
    assert "| 1 | guarded:smollm2 |" in invoke("leaderboard", "--db", db, "-f", "md")[1]


def test_trend_oldest_first_with_deltas(db: str, tmp_path: Path) -> None:
    data = json.loads(invoke("trend", "smollm2", "--db", db, "-f", "json")[1])
    assert [p["run_id"] for p in data["points"]] == ["old", "new"]
    assert data["points"][1]["delta"] == -0.25
    out = tmp_path / "t.html"
    assert invoke("trend", "smollm2", "--db", db, "-f", "html", "--out", str(out))[0] == 0
    assert "<polyline" in out.read_text(encoding="utf-8")
    with pytest.raises(XiezhiError, match="no finished runs for target 'nope'"):
        invoke("trend", "nope", "--db", db)


@pytest.mark.parametrize("argv", [["report", "latest"], ["runs"], ["leaderboard"], ["trend", "smollm2"],
                                  ["review", "latest", "--export", "u.jsonl"]])
def test_read_commands_never_create_a_store(tmp_path: Path, argv: list[str]) -> None:
    missing = tmp_path / "typo.db"
    res = runner.invoke(build_app(), [*argv, "--db", f"sqlite:///{missing}"])
    assert isinstance(res.exception, XiezhiError)
    assert f"no store at {missing}" in str(res.exception)
    assert not missing.exists()
