"""Prometheus metrics of one proxy app, in a registry of their own (no global state)."""

from __future__ import annotations

import asyncio
import contextlib

_FAST = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_SLOW = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ProxyMetrics:
    """Requests by outcome, blocks by scanner, guard / upstream / event-loop latencies."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("xiezhi_proxy_requests", "chat completion requests by outcome "
                                "(allowed, redacted, blocked_input, blocked_output, upstream_error, "
                                "unauthorized, bad_request, error)", ["outcome"], registry=r)
        self.blocked = Counter("xiezhi_proxy_blocked", "blocked texts by stage and scanner that fired",
                               ["stage", "scanner"], registry=r)
        self.guard_seconds = Histogram("xiezhi_proxy_guard_seconds", "guard check time, thread pool wait included",
                                       ["stage"], buckets=_FAST, registry=r)
        self.upstream_seconds = Histogram("xiezhi_proxy_upstream_seconds",
                                          "upstream time (to the full body, or to the end of the stream)",
                                          buckets=_SLOW, registry=r)
        self.request_seconds = Histogram("xiezhi_proxy_request_seconds", "whole request time in the proxy",
                                         buckets=_SLOW, registry=r)
        self.loop_lag = Histogram("xiezhi_proxy_event_loop_lag_seconds",
                                  "how late a 50 ms timer fires (event loop stalls)", buckets=_FAST, registry=r)
        self.in_flight = Gauge("xiezhi_proxy_in_flight", "requests being handled", registry=r)

    def count_blocked(self, stage: str, scanners: list[str]) -> None:
        for name in scanners or ["unknown"]:
            self.blocked.labels(stage, name).inc()

    async def watch_event_loop(self, interval_s: float = 0.05) -> None:
        """Sample event-loop lag forever (cancel to stop)."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                t0 = loop.time()
                await asyncio.sleep(interval_s)
                self.loop_lag.observe(max(0.0, loop.time() - t0 - interval_s))
