"""Judges: decide per response whether the model complied with a harmful request."""

from xiezhi.judges import embedded, ensemble, llm, reference, refusal  # noqa: F401
