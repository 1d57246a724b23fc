"""Guard proxy under load: what the proxy adds to each request on loopback.

    python benchmarks/proxy_load.py                      # the goal case + the saturation run
    python benchmarks/proxy_load.py --quick              # 2,000 requests per case
    python benchmarks/proxy_load.py --upstream-delay-ms 1000 --no-saturation --profile /tmp/prof

Processes: a local OpenAI-compatible upstream (a raw ASGI app under uvicorn that answers
every chat completion with a fixed text: it stands for a model without costing CPU), the
real ``xiezhi guard serve`` CLI with the default policy in front of it, and this load
generator (asyncio, keep-alive HTTP/1.1 over raw sockets, so its own overhead stays small).

Two cases, each with `--concurrency` closed-loop clients (no think time):

1. the goal case: the upstream waits `--upstream-delay-ms` (default 500) before each answer,
   as a model would. 50 clients then offer 50 / 0.5 s = 100 req/s, and the "added latency"
   (proxy minus direct, at p50/p95/p99) is what the proxy adds to each request at that load.
   The issue's goal: added p50 <= 15 ms, no request lost, RSS flat over 10,000 requests.
2. the saturation run (``--no-saturation`` skips it): the upstream answers at once, so the
   clients keep the proxy saturated; latency is then queueing (Little's law: latency =
   clients / throughput) and the figure that matters is the throughput (req/s).

Each case sends `--requests` requests through the proxy (the direct phase of the goal case
sends fewer, `--direct-requests`: it only needs the upstream's own latency). Reported:
latency percentiles, added latency, errors and lost requests, throughput, the proxy's CPU
time per request (less sensitive to other load on a shared box than latency), its RSS
every 1,000 requests, its own /metrics (guard time per stage, event-loop lag, outcomes), a
short sequential run (1 client: the per-request cost without queueing), and the machine's
load average before and after. ``--profile DIR`` runs the proxy under cProfile and writes
DIR/proxy_<case>_x<workers>.prof (and the top functions as .txt).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "proxy_load.json"
REPLY = "Paris is the capital of France. It is known for the Eiffel Tower, the Louvre and its cafes."
UNIQUE = False
PROMPTS = [
    "What is the capital of France?", "Give me three tips for growing tomatoes on a balcony.",
    "How do I convert Celsius to Fahrenheit?", "Summarise the plot of Romeo and Juliet in two sentences.",
    "What are good stretches after running?", "Explain what a hash table is.",
    "Recommend a vegetarian dinner recipe.", "How many planets are in the solar system?",
    "Translate 'good morning' into Spanish.", "What is the boiling point of water at sea level?",
    "北京有哪些值得参观的博物馆？", "怎样才能提高睡眠质量？",
    "请推荐几本适合初学者的编程书。", "如何煮一碗好吃的面条？",
]


# ---------------------------------------------------------------- upstream (its own process)
def _upstream_app(delay_s: float = 0.0) -> Any:
    body = json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}],
    }).encode()
    models = json.dumps({"object": "list", "data": [{"id": "bench", "object": "model"}]}).encode()
    headers = [(b"content-type", b"application/json")]
    count = {"n": 0}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:  # drain the request body
            msg = await receive()
            more = msg.get("more_body", False)
        if scope["path"].endswith("/chat/completions"):
            count["n"] += 1
            if delay_s > 0:
                await asyncio.sleep(delay_s)
            out = body
        elif scope["path"] == "/count":
            out = json.dumps(count).encode()
        else:
            out = models
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*headers, (b"content-length", str(len(out)).encode())]})
        await send({"type": "http.response.body", "body": out})

    return app


def run_upstream(port: int, delay_ms: float = 0.0) -> None:
    import uvicorn

    uvicorn.run(_upstream_app(delay_ms / 1000), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---------------------------------------------------------------- load generator
class Conn:
    """One keep-alive HTTP/1.1 connection (asyncio streams, minimal response parsing)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(payload)}\r\n\r\n").encode()
        self.writer.write(head + payload)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _rss_mb(proc: Any) -> float:
    """RSS of the proxy process and its worker processes, in MiB."""
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except Exception:
            pass
    return round(total / 2**20, 1)


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))] if s else float("nan")


async def load(port: int, n: int, concurrency: int, rss_pid: int | None = None) -> dict[str, Any]:
    """Send `n` requests from `concurrency` clients; latencies in ms; RSS every 1,000 answers."""
    import psutil

    proc = psutil.Process(rss_pid) if rss_pid else None
    # with UNIQUE every request's prompt differs (a request number appended), as real traffic does:
    # otherwise the guard's per-text caches answer repeated prompts without running their models
    texts = ([f"{PROMPTS[i % len(PROMPTS)]} #{i}" for i in range(n)] if UNIQUE else PROMPTS)
    payloads = [json.dumps({"model": "bench", "max_tokens": 64, "messages": [
        {"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": p}]},
        ensure_ascii=False).encode() for p in texts]
    lat: list[float] = []
    errors: dict[str, int] = {}
    rss: list[dict[str, float]] = []
    state = {"next": 0, "done": 0, "blocked": 0}
    if proc:
        rss.append({"after_requests": 0, "rss_mb": _rss_mb(proc)})

    async def client() -> None:
        conn = Conn(port)
        while state["next"] < n:
            i = state["next"]
            state["next"] += 1
            t0 = time.perf_counter()
            try:
                status, body = await conn.post("/v1/chat/completions", payloads[i % len(payloads)])
            except (OSError, asyncio.IncompleteReadError, ValueError) as e:
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                conn.close()
                continue
            lat.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
            elif b'"content_filter"' in body:
                state["blocked"] += 1
            state["done"] += 1
            if proc and state["done"] % 1000 == 0:
                rss.append({"after_requests": state["done"], "rss_mb": _rss_mb(proc)})
        conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    ok = len(lat) - sum(v for k, v in errors.items() if k.startswith("HTTP"))
    return {
        "requests": n, "concurrency": concurrency, "ok": ok, "errors": errors, "lost": n - len(lat),
        "blocked_benign": state["blocked"], "wall_s": round(wall, 2), "rps": round(n / wall, 1),
        "latency_ms": {k: round(_pct(lat, p), 2) for k, p in (("p50", 50), ("p95", 95), ("p99", 99))}
        | {"mean": round(sum(lat) / max(1, len(lat)), 2), "max": round(max(lat, default=0), 2)},
        "proxy_rss": rss,
    }


# ---------------------------------------------------------------- orchestration
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not come up")


def _metrics(port: int) -> dict[str, float]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    out: dict[str, float] = {}
    for line in raw.decode().split("\r\n\r\n", 1)[1].splitlines():
        if line.startswith("xiezhi_proxy") and " " in line:
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out


def _hist_quantile(m: dict[str, float], name: str, labels: str, q: float) -> float | None:
    """Upper bucket bound below which a fraction `q` of the observations fall."""
    buckets = sorted(((float(k.split('le="')[1].split('"')[0]), v) for k, v in m.items()
                      if k.startswith(f"{name}_bucket{{") and labels in k and '+Inf' not in k))
    total = m.get(f"{name}_count{{{labels}}}" if labels else f"{name}_count")
    if not total:
        return None
    for le, c in buckets:
        if c >= q * total:
            return le
    return float("inf")


def _summary(m: dict[str, float]) -> dict[str, Any]:
    def mean_ms(name: str, labels: str = "") -> float | None:
        key = f"{{{labels}}}" if labels else ""
        c = m.get(f"{name}_count{key}")
        return round(1000 * m[f"{name}_sum{key}"] / c, 3) if c else None

    return {
        "outcomes": {k.split('"')[1]: v for k, v in m.items() if k.startswith("xiezhi_proxy_requests_total{")},
        "guard_input_mean_ms": mean_ms("xiezhi_proxy_guard_seconds", 'stage="input"'),
        "guard_output_mean_ms": mean_ms("xiezhi_proxy_guard_seconds", 'stage="output"'),
        "upstream_mean_ms": mean_ms("xiezhi_proxy_upstream_seconds"),
        "event_loop_lag_p99_bucket_s": _hist_quantile(m, "xiezhi_proxy_event_loop_lag_seconds", "", 0.99),
        "event_loop_lag_max_mean_ms": mean_ms("xiezhi_proxy_event_loop_lag_seconds"),
    }


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for p in procs:
        p.send_signal(signal.SIGINT)
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _cpu_s(proc: Any) -> float:
    """User + system CPU seconds of the proxy process and its workers."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except Exception:
            pass
    return total


def _start_upstream(delay_ms: float) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--role", "upstream", "--port", str(port),
                             "--upstream-delay-ms", str(delay_ms)], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    _wait(port, "/v1/models", proc)
    return proc, port


def _top(prof: Path) -> str:
    import io
    import pstats

    out = io.StringIO()
    st = pstats.Stats(str(prof), stream=out)
    st.sort_stats("tottime").print_stats(30)
    st.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


def bench_proxy(args: argparse.Namespace, case: str, up_port: int, workers: int, direct: dict[str, Any],
                seq_direct: dict[str, Any], n_seq: int) -> dict[str, Any]:
    """Start ``xiezhi guard serve`` with `workers` processes, load it, stop it; one result row."""
    import psutil

    px_port = _free_port()
    extra = [*args.proxy_args.split(), *(["--workers", str(workers)] if workers > 1 else [])]
    prof = args.profile / f"proxy_{case}_x{workers}.prof" if args.profile else None
    runner = ["-m", "cProfile", "-o", str(prof)] if prof else []
    if prof:
        prof.parent.mkdir(parents=True, exist_ok=True)
    proxy = subprocess.Popen([sys.executable, *runner, "-m", "xiezhi", "guard", "serve", "--upstream",
                              f"http://127.0.0.1:{up_port}/v1", "--policy", args.policy, "--port", str(px_port),
                              *extra], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _wait(px_port, "/healthz", proxy)
        asyncio.run(load(px_port, max(200, args.concurrency * 4), args.concurrency))  # warm-up
        seq = asyncio.run(load(px_port, n_seq, 1))
        m0 = _metrics(px_port)
        ps = psutil.Process(proxy.pid)
        cpu0, load0 = _cpu_s(ps), _loadavg()
        res = asyncio.run(load(px_port, args.requests, args.concurrency, rss_pid=proxy.pid))
        cpu1, load1 = _cpu_s(ps), _loadavg()
        m1 = _metrics(px_port)
    finally:
        _stop(proxy)
    rss = [r["rss_mb"] for r in res["proxy_rss"]]
    added = {k: round(res["latency_ms"][k] - direct["latency_ms"][k], 2) for k in ("p50", "p95", "p99")}
    summary = _summary({k: v - m0.get(k, 0.0) for k, v in m1.items()})
    if workers > 1:
        summary["note"] = "one worker's /metrics (each worker keeps its own)"
    growth = round(rss[-1] - rss[1], 1) if len(rss) > 2 else None
    row: dict[str, Any] = {
        "workers": workers, "proxy_flags": " ".join(extra), "proxy": res, "added_latency_ms": added,
        "proxy_cpu_ms_per_request": round(1000 * (cpu1 - cpu0) / args.requests, 3),
        "loadavg_before_after": [load0, load1],
        "sequential": {"direct_p50_ms": seq_direct["latency_ms"]["p50"], "proxy_p50_ms": seq["latency_ms"]["p50"],
                       "added_p50_ms": round(seq["latency_ms"]["p50"] - seq_direct["latency_ms"]["p50"], 2),
                       "requests": n_seq},
        "proxy_metrics": summary, "proxy_rss_growth_mb": growth,
        "goals": {"added_p50_ms<=15": added["p50"] <= 15, "errors==0": not res["errors"] and not res["lost"],
                  "rss_flat(<=10MB growth after the first 1000)": growth is not None and growth <= 10},
    }
    if prof and prof.exists():
        (prof.with_suffix(".txt")).write_text(_top(prof), encoding="utf-8")
        row["profile"] = str(prof)
    return row


def run_case(args: argparse.Namespace, case: str, delay_ms: float, workers: list[int]) -> dict[str, Any]:
    """One upstream (answering after `delay_ms`), its direct figures, then the proxy with each worker count."""
    n_seq = args.sequential if args.sequential is not None else (20 if delay_ms else 500)
    n_direct = args.direct_requests if args.direct_requests else (min(args.requests, 2500) if delay_ms
                                                                  else args.requests)
    upstream, up_port = _start_upstream(delay_ms)
    try:
        asyncio.run(load(up_port, max(200, args.concurrency * 4), args.concurrency))  # warm-up
        seq_direct = asyncio.run(load(up_port, n_seq, 1))
        direct = asyncio.run(load(up_port, n_direct, args.concurrency))
        runs = [bench_proxy(args, case, up_port, w, direct, seq_direct, n_seq) for w in workers]
    finally:
        _stop(upstream)
    return {"upstream_delay_ms": delay_ms, "direct": direct,
            "direct_sequential_p50_ms": seq_direct["latency_ms"]["p50"], "runs": runs}


def _print_case(title: str, c: dict[str, Any]) -> None:
    print(title)
    rows = [("direct", c["direct"], None)] + [(f"proxy x{r['workers']}", r["proxy"], r) for r in c["runs"]]
    for name, r, run in rows:
        lm = r["latency_ms"]
        print(f"  {name:9s} p50 {lm['p50']:8.2f} ms  p95 {lm['p95']:8.2f} ms  p99 {lm['p99']:8.2f} ms  "
              f"{r['rps']:7.1f} req/s  n {r['requests']}  errors {sum(r['errors'].values())}  lost {r['lost']}")
        if run is not None:
            a = run["added_latency_ms"]
            print(f"            added p50 {a['p50']} ms (goal <= 15), p95 {a['p95']} ms, p99 {a['p99']} ms; "
                  f"sequential added p50 {run['sequential']['added_p50_ms']} ms; "
                  f"proxy CPU {run['proxy_cpu_ms_per_request']} ms/request")
            print(f"            RSS MB every 1000 requests: {[x['rss_mb'] for x in r['proxy_rss']]}")
            print(f"            load average before/after: {run['loadavg_before_after']}")
            print(f"            metrics: {json.dumps(run['proxy_metrics'], ensure_ascii=False)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=10_000, help="requests through the proxy per case")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--upstream-delay-ms", type=float, default=500.0,
                    help="goal case: the upstream waits this long before each chat answer (0: at once)")
    ap.add_argument("--saturation", action=argparse.BooleanOptionalAction, default=True,
                    help="also run the instant-upstream case (a throughput figure)")
    ap.add_argument("--direct-requests", type=int, default=None,
                    help="requests of the direct phase (default: min(requests, 2500) with a delay, else requests)")
    ap.add_argument("--sequential", type=int, default=None,
                    help="requests of the concurrency-1 runs (default: 20 with a delay, 500 without)")
    ap.add_argument("--policy", default="default")
    ap.add_argument("--workers", default=None,
                    help="comma-separated proxy worker counts to measure (default: 1, plus min(8, CPUs/2) "
                         "when there are 4+ CPUs)")
    ap.add_argument("--proxy-args", default="",
                    help="extra flags for xiezhi guard serve, e.g. '--inline-guard-chars 0'")
    ap.add_argument("--profile", type=Path, default=None, help="run the proxy under cProfile; .prof files go here")
    ap.add_argument("--quick", action="store_true", help="2,000 requests per case")
    ap.add_argument("--unique", action=argparse.BooleanOptionalAction, default=False,
                    help="append the request number to every prompt, so no two requests are the same text")
    ap.add_argument("--prompts", type=Path, default=None,
                    help="benign prompts to send, one per line (default: 14 built-in everyday prompts, none "
                         "of which reaches the guard's e5 stage)")
    ap.add_argument("--role", choices=["upstream"], help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if args.role == "upstream":
        run_upstream(args.port, args.upstream_delay_ms)
        return
    if args.quick:
        args.requests = min(args.requests, 2000)
    global UNIQUE
    UNIQUE = args.unique
    if args.prompts is not None:
        PROMPTS[:] = [line.strip() for line in args.prompts.read_text(encoding="utf-8").splitlines() if line.strip()]
    cpus = os.cpu_count() or 1
    workers = ([int(w) for w in args.workers.split(",")] if args.workers
               else [1] + ([min(8, cpus // 2)] if cpus >= 4 else []))
    t0, load0 = time.time(), _loadavg()
    cases: dict[str, Any] = {}
    if args.upstream_delay_ms > 0:
        cases["goal"] = run_case(args, "goal", args.upstream_delay_ms, workers)
    if args.saturation or args.upstream_delay_ms <= 0:
        cases["saturation"] = run_case(args, "saturation", 0.0, workers)
    from xiezhi.encoder.tuned import cpu_summary

    cpu = cpu_summary()
    argv = " ".join(a if " " not in a else f"'{a}'" for a in sys.argv[1:])
    result = {
        "command": f"python benchmarks/proxy_load.py {argv}".strip(),
        "what": "what the guard proxy adds per request: a local OpenAI-compatible upstream (fixed reply, no model), "
                "xiezhi guard serve with the policy below, a raw-socket asyncio load generator, all on loopback. "
                "goal: the upstream waits upstream_delay_ms per answer (like a model), closed-loop clients; "
                "saturation: the upstream answers at once, so latency is queueing and req/s is the figure",
        "policy": args.policy,
        "prompts": (str(args.prompts) if args.prompts else "built-in (14)") + (", unique" if args.unique else ""),
        "requests": args.requests, "concurrency": args.concurrency,
        "machine": f"{platform.machine()} {cpu['model']}, {cpus} CPUs, Python {platform.python_version()}",
        "cpu": cpu,
        "installed": {"uvloop": importlib.util.find_spec("uvloop") is not None,
                      "httptools": importlib.util.find_spec("httptools") is not None},
        "loadavg_start_end": [load0, _loadavg()], "wall_s": round(time.time() - t0, 1),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
        "cases": cases,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.requests} requests per case, {args.concurrency} concurrent clients, policy {args.policy!r}, "
          f"{result['machine']}, installed: {result['installed']}, "
          f"load average at start/end {result['loadavg_start_end']}")
    if "goal" in cases:
        _print_case(f"goal case: the upstream answers after {args.upstream_delay_ms:g} ms", cases["goal"])
    if "saturation" in cases:
        _print_case("saturation: the upstream answers at once (latency = queueing; req/s is the figure)",
                    cases["saturation"])
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
