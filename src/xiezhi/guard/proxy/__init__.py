"""xiezhi.guard.proxy — the guard as an OpenAI-compatible firewall proxy (``xiezhi guard serve``).

    from xiezhi.guard.proxy import ProxySettings, create_app
    app = create_app(ProxySettings(upstream="http://127.0.0.1:8000/v1", policy="default"))
"""

from xiezhi.guard.proxy.app import create_app
from xiezhi.guard.proxy.settings import ProxySettings

__all__ = ["ProxySettings", "create_app"]
