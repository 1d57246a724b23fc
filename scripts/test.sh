#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, slow tests included.
# Exits non-zero when a test fails, and also when no test ran (pytest's exit 5).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
.venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "no tests ran: treating as failure" >&2
  exit 1
fi
exit "$rc"
