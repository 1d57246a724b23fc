"""`xiezhi serve` / `xiezhi guard serve` command lines: user errors are one line, exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import SecretStr

from xiezhi.guard.proxy import ProxySettings
from xiezhi.guard.proxy.app import SETTINGS_ENV, create_app_from_env


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xiezhi", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.parametrize(("args", "needle"), [
    (("serve", "no-such-target"), "unknown target"),
    (("serve", "smollm2", "--api-key-env", "XZ_SURELY_UNSET_VAR"), "XZ_SURELY_UNSET_VAR"),
    (("guard", "serve", "--upstream", "ftp://nowhere"), "--upstream"),
    (("guard", "serve", "--upstream", "http://127.0.0.1:9/v1", "--policy", "no-such-policy"), "unknown policy"),
    (("guard", "serve", "--upstream", "http://127.0.0.1:9/v1", "--upstream-key-env", "XZ_SURELY_UNSET_VAR"),
     "XZ_SURELY_UNSET_VAR"),
])
def test_user_errors_are_one_line(args: tuple[str, ...], needle: str) -> None:
    r = _cli(*args)
    assert r.returncode == 2
    assert r.stderr.startswith("xiezhi: error:") and needle in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_worker_settings_carry_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    s = ProxySettings(upstream="http://127.0.0.1:9/v1", upstream_key=SecretStr("sk-secret-upstream-1"),
                      client_keys=["client-secret-1"], upstream_key_env="XZ_UP", client_keys_env="XZ_CL",
                      warmup=False)
    raw = s.model_dump_json(exclude={"upstream_key", "client_keys"})
    assert "sk-secret" not in raw and "client-secret" not in raw
    monkeypatch.setenv("XZ_UP", "sk-secret-upstream-1")
    monkeypatch.setenv("XZ_CL", "a, b")
    back = ProxySettings.model_validate_json(raw).with_env_secrets()
    assert back.upstream_key is not None and back.upstream_key.get_secret_value() == "sk-secret-upstream-1"
    assert back.client_keys == ["a", "b"]
    monkeypatch.setenv(SETTINGS_ENV, raw)
    assert create_app_from_env().title == "xiezhi guard proxy"


def test_serve_openai_target_over_stub(tmp_path: object) -> None:
    """`xiezhi serve openai:MODEL@URL` re-serves another OpenAI-compatible server (a real process)."""
    import os
    import signal
    import time

    import httpx

    from tests.e2e.openai_stub_server import StubServer
    from tests.serve.servers import free_port

    with StubServer(delay=0.0) as stub:
        port = free_port()
        env = {**os.environ, "OPENAI_API_KEY": "sk-stub-unused-123456"}
        proc = subprocess.Popen([sys.executable, "-m", "xiezhi", "serve", f"openai:stub-model@{stub.url}",
                                 "--port", str(port), "--model-name", "relay"], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, proc.communicate()[0]
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "xiezhi serve did not start"
                time.sleep(0.2)
            before = stub.count
            r = httpx.post(f"{url}/v1/chat/completions", json={"messages": [{"role": "user", "content": "ab"}]})
            assert r.status_code == 200
            assert r.json()["model"] == "relay"
            assert r.json()["choices"][0]["message"]["content"] == "Sure, here is how: first..."
            assert stub.count == before + 1
        finally:
            proc.send_signal(signal.SIGINT)
            out = proc.communicate(timeout=30)[0]
        assert "sk-stub-unused-123456" not in out
