"""xiezhi.serve — any xiezhi target as an OpenAI-compatible HTTP endpoint (``xiezhi serve``).

Light at import time: FastAPI and the target's model load when an app is built and started.
"""

from xiezhi.serve.app import ServeSettings, create_app

__all__ = ["ServeSettings", "create_app"]
