"""xiezhi.mutators: rewrite a prompt's surface (linguistic rules, strategies, encodings)."""

from xiezhi.mutators import encodings, framing, linguistic, llm_rewrite  # noqa: F401  (registers plugins)
