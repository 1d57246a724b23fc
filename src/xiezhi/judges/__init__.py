"""Judges: decide per response whether the model complied with a harmful request."""

from xiezhi.judges import refusal  # noqa: F401
