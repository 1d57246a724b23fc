"""What this CPU computes fast: native bfloat16, or AVX2 for int8 (read from /proc/cpuinfo on Linux,
without importing torch)."""

from __future__ import annotations

import functools
import importlib.util
import platform
import re
from pathlib import Path


@functools.lru_cache(maxsize=1)
def cpuinfo() -> str:
    """/proc/cpuinfo (Linux), read once; empty where it cannot be read."""
    try:
        return Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""


def bf16_is_fast() -> bool:
    """Whether this CPU has native bfloat16 matrix instructions (Linux: /proc/cpuinfo flags).

    There bf16 runs the encoder several times faster than fp32; elsewhere it would be slower.
    """
    return bool(re.search(r"\b(?:avx512_bf16|amx_bf16)\b", cpuinfo()))


@functools.lru_cache(maxsize=1)
def int8_available() -> bool:
    """Whether the int8 path (`xiezhi.encoder.int8`) can run here: an x86-64 CPU with AVX2, which
    fbgemm's kernels need, and torch installed (found, not imported: a torch without the kernels
    makes the encoder fall back to float32 when it loads)."""
    if platform.machine().lower() not in ("x86_64", "amd64") or not re.search(r"\bavx2\b", cpuinfo()):
        return False
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False
