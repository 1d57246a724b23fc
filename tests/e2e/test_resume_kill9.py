"""Kill a real `xiezhi scan` process with SIGKILL half-way; `--resume` finishes it exactly."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.openai_stub_server import StubServer

N = 120


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as c:
            return int(c.execute("select count(*) from attempts").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _write_seeds(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds.jsonl"
    with seeds.open("w", encoding="utf-8") as f:
        for i in range(N):
            f.write(json.dumps({"id": f"s{i}", "text": f"harmful request number {i}" + "!" * (i % 2),
                                "lang": "en", "risk_type": "A.4.a"}) + "\n")
    return seeds


ENV = {**os.environ, "OPENAI_API_KEY": "sk-test-secret-key-should-not-leak"}


def _scan_until(server: StubServer, tmp_path: Path, db: Path, stored: int) -> subprocess.Popen[str]:
    """Start a real `xiezhi scan` of 120 seeds and wait until `stored` attempts are in the store."""
    seeds = _write_seeds(tmp_path)
    cmd = [sys.executable, "-m", "xiezhi", "scan", "--target", f"openai:m@{server.url}",
           "--seeds", str(seeds), "--format", "jsonl", "--judge", "refusal", "--concurrency", "2",
           "--db", f"sqlite:///{db}", "--no-progress"]
    # the scan gets Ctrl-C's default disposition whatever this process has: a child inherits an ignored
    # SIGINT, and Python then leaves it ignored (fresh-clone runs of the suite saw the scan run on)
    proc = subprocess.Popen(cmd, env=ENV, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while _count(db) < stored and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    return proc


def test_kill9_then_resume_stores_exactly_the_plan(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    with StubServer(delay=0.05) as server:
        proc = _scan_until(server, tmp_path, db, N // 3)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stored_before = _count(db)
        assert 0 < stored_before < N
        with sqlite3.connect(db) as c:
            run_id = c.execute("select id from runs").fetchone()[0]
        before = server.count
        out = subprocess.run(
            [sys.executable, "-m", "xiezhi", "scan", "--resume", run_id, "--db", f"sqlite:///{db}", "--no-progress"],
            env=ENV, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )
        assert out.returncode == 0, out.stderr
        sent_on_resume = server.count - before
    assert _count(db) == N
    assert sent_on_resume == N - stored_before
    with sqlite3.connect(db) as c:
        status, planned = c.execute("select status, n_planned from runs").fetchone()
        dump = "\n".join(str(r) for r in c.execute("select * from runs"))
        dump += "\n".join(str(r) for r in c.execute("select payload from attempts"))
    assert (status, planned) == ("finished", N)
    assert "sk-test-secret" not in dump and "sk-test-secret" not in out.stdout + out.stderr


def test_ctrl_c_keeps_what_is_stored_and_prints_the_resume_command(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with StubServer(delay=0.05) as server:
        proc = _scan_until(server, tmp_path, db, N // 4)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    stored = _count(db)
    assert N // 4 <= stored < N
    with sqlite3.connect(db) as c:
        run_id, status = c.execute("select id, status from runs").fetchone()
    assert status == "failed"
    assert f"stopped: {stored}/{N} attempts stored; resume with: xiezhi scan --resume {run_id}" in err
    assert "sk-test-secret" not in err
