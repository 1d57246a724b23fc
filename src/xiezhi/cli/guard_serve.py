"""`xiezhi guard serve`: the firewall proxy — xiezhi's guard in front of any OpenAI-compatible model.

    export UPSTREAM_KEY=sk-...; export CLIENT_KEYS=key1,key2
    xiezhi guard serve --upstream https://api.example.com/v1 --policy strict --port 8080 \
        --upstream-key-env UPSTREAM_KEY --api-key-env CLIENT_KEYS
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from xiezhi.types import XiezhiError


def serve_proxy(
    upstream: Annotated[str, typer.Option("--upstream", help="upstream OpenAI base URL, e.g. http://127.0.0.1:8000/v1")],
    policy: Annotated[str | None, typer.Option("--policy", "-p", help="policy name (default, strict) or YAML file")] = None,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    api_key_env: Annotated[str | None, typer.Option(
        "--api-key-env", help="environment variable with the client API keys (comma-separated); unset = no auth")] = None,
    upstream_key_env: Annotated[str | None, typer.Option(
        "--upstream-key-env", help="environment variable with the upstream's API key (never logged)")] = None,
    timeout: Annotated[float, typer.Option(help="seconds an upstream request may take")] = 120.0,
    guard_threads: Annotated[int, typer.Option(help="threads that run guard checks")] = 4,
    torch_threads: Annotated[int, typer.Option(
        help="compute threads per torch call (guard encoder, judge); checks already run side by side (0: torch's default)")] = 1,
    inline_guard_chars: Annotated[int, typer.Option(
        help="input texts up to this many characters are checked on the event loop (0: always in a thread); output checks always run in a thread")] = 2000,
    holdback: Annotated[int, typer.Option(help="streaming: characters held back until the guard has seen more")] = 64,
    no_output_check: Annotated[bool, typer.Option("--no-output-check", help="check prompts only")] = False,
    workers: Annotated[int, typer.Option(help="worker processes (each loads the guard; /metrics is per worker)")] = 1,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="log every request")] = False,
) -> None:
    """Run the guard as an OpenAI-compatible firewall proxy in front of --upstream."""
    from pydantic import SecretStr, ValidationError
    from rich.console import Console

    from xiezhi.guard import Guard
    from xiezhi.guard.proxy import ProxySettings, create_app
    from xiezhi.guard.proxy.app import SETTINGS_ENV, limit_torch_threads
    from xiezhi.serve.http import keys_from_env, run_uvicorn

    upstream_key = None
    if upstream_key_env:
        value = os.environ.get(upstream_key_env)
        if not value:
            raise XiezhiError(f"--upstream-key-env {upstream_key_env}: environment variable is not set")
        upstream_key = SecretStr(value.strip())
    try:
        settings = ProxySettings(upstream=upstream, policy=policy, client_keys=keys_from_env(api_key_env),
                                 upstream_key=upstream_key, timeout_s=timeout, guard_threads=guard_threads,
                                 torch_threads=torch_threads,
                                 inline_guard_chars=inline_guard_chars,
                                 holdback_chars=holdback, check_output=not no_output_check,
                                 upstream_key_env=upstream_key_env, client_keys_env=api_key_env)
    except ValidationError as e:
        err = e.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise XiezhiError(f"--{'.'.join(str(p) for p in err['loc']).replace('_', '-')}: {msg}") from None
    limit_torch_threads(settings.torch_threads)
    guard = Guard.from_policy(policy)  # a bad policy is a one-line error before the server starts
    Console(stderr=True).print(
        f"xiezhi guard proxy: http://{host}:{port}/v1 -> {settings.upstream_display} "
        f"(policy {guard.policy.name!r}{', client API key required' if settings.client_keys else ''}"
        f"{f', {workers} workers' if workers > 1 else ''})",
        highlight=False)
    if workers > 1:  # each worker builds its app from the settings (secrets stay in their env variables)
        os.environ[SETTINGS_ENV] = settings.model_dump_json(exclude={"upstream_key", "client_keys"})
        run_uvicorn("xiezhi.guard.proxy.app:create_app_from_env", host, port, access_log, workers=workers)
    else:
        run_uvicorn(create_app(settings, guard), host, port, access_log)


def add_commands(guard_app: typer.Typer) -> None:
    """Add ``serve`` to the ``xiezhi guard`` group."""
    guard_app.command("serve")(serve_proxy)
