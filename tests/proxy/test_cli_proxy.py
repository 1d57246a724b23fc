"""`xiezhi guard serve` as a real process: upstream down -> 502, one log line, no key in the logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from tests.serve.servers import free_port

KEY = "sk-proxy-upstream-NEVER-LOG-4242424242"


def _wait_health(url: str, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"proxy exited early: {proc.communicate()[1]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("proxy did not become healthy")


def test_cli_proxy_upstream_down_and_key_never_logged() -> None:
    port, dead = free_port(), free_port()
    env = {**os.environ, "XZ_UPSTREAM_KEY": KEY, "XZ_CLIENTS": "c1,c2"}
    cmd = [sys.executable, "-m", "xiezhi.cli.app", "guard", "serve", "--upstream", f"http://127.0.0.1:{dead}/v1",
           "--port", str(port), "--upstream-key-env", "XZ_UPSTREAM_KEY", "--api-key-env", "XZ_CLIENTS",
           "--access-log"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_health(url, proc)
        r = httpx.post(f"{url}/v1/chat/completions", headers={"authorization": "Bearer c2"},
                       json={"messages": [{"role": "user", "content": "What is the capital of France?"}]})
        assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_unreachable"
        assert httpx.post(f"{url}/v1/chat/completions", json={"messages": []}).status_code == 401
        body = r.text + httpx.get(f"{url}/metrics").text
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    logs = out + err
    assert KEY not in logs and KEY not in body
    failed = [line for line in logs.splitlines() if "upstream" in line and "failed" in line]
    assert len(failed) == 1, logs
    assert f"127.0.0.1:{dead}/v1" in failed[0]
    assert "Traceback" not in logs
