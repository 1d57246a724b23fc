"""xiezhi.strategies: tier recipes (entry / advanced / expert) and the adaptive planner."""

from xiezhi.strategies import tiers  # noqa: F401  (registers the plugins)
