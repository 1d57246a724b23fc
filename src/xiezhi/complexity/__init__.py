"""Syntactic complexity of a prompt: one deterministic, offline score per prompt.

See `xiezhi.complexity.measure` for the method (a documented shallow clause parser).
"""

from xiezhi.complexity.measure import ComplexityReport, analyse, complexity

__all__ = ["ComplexityReport", "analyse", "complexity"]
