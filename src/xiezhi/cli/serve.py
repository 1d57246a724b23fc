"""`xiezhi serve TARGET`: serve any xiezhi target (the embedded model included) as an
OpenAI-compatible endpoint on ``http://HOST:PORT/v1``.
"""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    target: Annotated[str, typer.Argument(help="target spec: smollm2, openai:MODEL@URL, hf:PATH, guarded:TARGET")],
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    api_key_env: Annotated[str | None, typer.Option(
        "--api-key-env", help="environment variable holding the client API key(s), comma-separated; "
                              "unset option = no auth")] = None,
    model_name: Annotated[str | None, typer.Option("--model-name", help="model id to report (default: TARGET)")] = None,
    batch_wait_ms: Annotated[float, typer.Option(help="how long to collect concurrent requests into one batch")] = 5.0,
    max_batch: Annotated[int | None, typer.Option(help="largest batch (default: the target's max_batch)")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="default max_tokens when a request has none")] = 128,
    timeout: Annotated[float, typer.Option(help="seconds a request may take")] = 120.0,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="log every request")] = False,
) -> None:
    """Serve TARGET as an OpenAI-compatible chat-completions endpoint (/v1/chat/completions, /v1/models)."""
    from rich.console import Console

    from xiezhi.serve import ServeSettings, create_app
    from xiezhi.serve.http import keys_from_env, run_uvicorn
    from xiezhi.targets.base import TargetOptions, create_target

    settings = ServeSettings(target=target, model_name=model_name, api_keys=keys_from_env(api_key_env),
                             batch_wait_ms=batch_wait_ms, max_batch=max_batch, default_max_tokens=max_tokens,
                             timeout_s=timeout)
    tgt = create_target(target, TargetOptions(timeout_s=timeout, retries=0))  # bad spec: one-line error
    Console(stderr=True).print(
        f"xiezhi serve: [bold]{settings.served_name}[/] on http://{host}:{port}/v1"
        + (" (API key required)" if settings.api_keys else ""), highlight=False)
    run_uvicorn(create_app(settings, tgt, close_target=True), host, port, access_log)


def register(app: typer.Typer) -> None:
    """Add the top-level ``serve`` command."""
    app.command("serve")(serve)
