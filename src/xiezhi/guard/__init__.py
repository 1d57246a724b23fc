"""xiezhi.guard — guardrails: input/output scanners under a YAML policy.

`Guard` is the library entry point; the `guarded:` target and ``xiezhi guard`` commands
build on it. Importing this package is light (no torch, no models).
"""

from xiezhi.guard.decision import GuardDecision
from xiezhi.guard.guard import Guard
from xiezhi.guard.policy.loader import Policy, PolicyError, load_policy

__all__ = ["Guard", "GuardDecision", "Policy", "PolicyError", "load_policy"]
