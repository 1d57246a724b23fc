"""The `xiezhi` command: one typer app; each command group lives in its own module.

A module in `COMMAND_MODULES` exposes ``register(app: typer.Typer) -> None``. Command
modules must not import torch or other heavy libraries at import time, so that
``xiezhi --help`` stays fast.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from xiezhi.types import XiezhiError

COMMAND_MODULES: tuple[str, ...] = (
    "scan",
    "report",
    "seeds",
    "taxonomy",
    "judge",
    "review",
    "guard",
    "serve",
    "mutate",
    "monitor",
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="xiezhi",
        help="獬豸 xiezhi — red-team, judge, guard and monitor LLM safety (中文 / English).",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode="rich",
    )
    for name in COMMAND_MODULES:
        modname = f"xiezhi.cli.{name}"
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name == modname:
                continue
            raise
        mod.register(app)
    return app


def main() -> None:
    """Console entry point: user errors print one line and exit 2; Ctrl-C exits 130."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = build_app()
    try:
        app()
    except XiezhiError as e:
        typer.echo(f"xiezhi: error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("xiezhi: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
