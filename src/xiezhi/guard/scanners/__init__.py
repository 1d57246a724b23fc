"""Built-in guard scanners; importing this package registers them (each module is light)."""

from xiezhi.guard.scanners import (  # noqa: F401
    canary,
    harmful_output,
    harmful_request,
    injection,
    jailbreak,
    pii,
    refusal,
    secrets,
    size,
)
