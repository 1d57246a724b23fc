"""Issue #2's user errors, through the real `xiezhi` process: one line, exit non-zero, no traceback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path


def _xiezhi(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xiezhi", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_dead_endpoint_is_one_line_and_stores_no_run(tmp_path: Path) -> None:
    out = _xiezhi("scan", "--target", "openai:m@http://127.0.0.1:9/v1", "--limit", "2", "--judge", "refusal",
                  "--db", f"sqlite:///{tmp_path / 'd.db'}", "--no-progress", cwd=tmp_path)
    assert out.returncode != 0
    errors = [line for line in out.stderr.splitlines() if line.startswith("xiezhi: error:")]
    assert len(errors) == 1 and "cannot reach http://127.0.0.1:9/v1" in errors[0]
    assert "Traceback" not in out.stderr + out.stdout
    with sqlite3.connect(tmp_path / "d.db") as c:
        assert c.execute("select count(*) from runs").fetchone()[0] == 0


def test_malformed_config_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "xiezhi.yaml").write_text("target: [smollm2\nlimit: 3\n", encoding="utf-8")
    out = _xiezhi("scan", "--limit", "2", cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "xiezhi.yaml" in out.stderr


def test_unknown_config_key_names_it(tmp_path: Path) -> None:
    (tmp_path / "xiezhi.yaml").write_text("targte: smollm2\n", encoding="utf-8")
    out = _xiezhi("scan", "--limit", "2", cwd=tmp_path)
    assert out.returncode == 2 and "targte" in out.stderr and "Traceback" not in out.stderr
