"""Targets: the models xiezhi attacks, named by spec strings (see `xiezhi.targets.base`).

Importing this package registers the built-in targets; the local ones import torch only
when a model is actually built.
"""

from xiezhi.targets import guarded, hf, openai, smollm2  # noqa: F401
