"""獬豸 xiezhi: red-team evaluation, judge, guardrails and monitoring for LLM safety.

Importing xiezhi is light: models (torch, transformers) load only when used.
"""

from xiezhi.registry import register, registry
from xiezhi.types import (
    Attempt,
    GenerationParams,
    Message,
    Run,
    Seed,
    Verdict,
    XiezhiError,
)

__version__ = "0.1.0"

__all__ = [
    "Attempt",
    "GenerationParams",
    "Message",
    "Run",
    "Seed",
    "Verdict",
    "XiezhiError",
    "__version__",
    "register",
    "registry",
]
