"""Guard policies: ordered scanners per stage, with thresholds and actions, from YAML.

A policy file names its scanners in order for the ``input`` and ``output`` stages::

    name: default
    fail_closed: true          # a scanner that raises blocks the text
    refusal: {zh: "...", en: "..."}
    input:
      - scanner: injection     # a registered scanner name
        threshold: 0.5         # fires when risk >= threshold
        action: block          # block | redact | flag
        options: {}            # keyword arguments for the scanner factory
        informational: false   # true: fires but does not count towards the decision risk

Shipped policies (``default``, ``strict``) are found by name; anything else is a path.
"""

from xiezhi.guard.policy.loader import (
    POLICY_DIR,
    Policy,
    PolicyEntry,
    load_policy,
    shipped_policies,
)

__all__ = ["POLICY_DIR", "Policy", "PolicyEntry", "load_policy", "shipped_policies"]
