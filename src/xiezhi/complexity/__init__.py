"""Syntactic complexity of a prompt: one deterministic, offline score per prompt.

See `xiezhi.complexity.measure` for the method: English from spaCy's dependency parse
(en_core_web_sm, a rule-based clause parser when spaCy is not installed), Chinese from a
documented clause parser over jieba's words and POS tags.
"""

from xiezhi.complexity.measure import ComplexityReport, analyse, analyse_many, complexity, method, methods_used

__all__ = ["ComplexityReport", "analyse", "analyse_many", "complexity", "method", "methods_used"]
