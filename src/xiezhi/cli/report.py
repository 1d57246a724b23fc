"""`xiezhi report RUN_ID|latest`: render a stored run as terminal tables, JSON, Markdown or HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from xiezhi.config import load_settings
from xiezhi.store.base import Store
from xiezhi.types import XiezhiError


def open_db(db: str | None) -> Store:
    """The store named by --db, or by the settings (xiezhi.yaml, XIEZHI_DB, default).

    Commands that only read runs never create a database: a SQLite file that does not exist
    is an error naming it (a mistyped --db would otherwise show an empty store).
    """
    from sqlalchemy.engine import make_url

    from xiezhi.store import open_store

    url = load_settings({"db": db}).db
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path and path != ":memory:" and not Path(path).exists():
        raise XiezhiError(f"no store at {path}: nothing has been scanned into it (run `xiezhi scan --db {url}` "
                          "first, or pass the --db you scanned into)")
    return open_store(url)


def write_out(text: str, out: Path) -> None:
    """Write a report file; a missing folder or unwritable path is one clear error."""
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise XiezhiError(f"cannot write {out}: {e.strerror}") from None
    Console(stderr=True).print(f"wrote {out}")


def report(
    run: Annotated[str, typer.Argument(help="run id, a unique prefix, or 'latest'")] = "latest",
    db: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store [default: settings]")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f",
                                            help="terminal | json | md | html [default: from --out, else terminal]")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write to this file instead of stdout")] = None,
    scheme: Annotated[str, typer.Option(help="group risk types by this taxonomy (tc260, llamaguard3, ...)")] = "tc260",
) -> None:
    """Summarise a stored run: violation rate, over-refusal, breakdowns and examples."""
    from xiezhi.registry import registry
    from xiezhi.report.history import summary_of
    from xiezhi.report.render import SUFFIX_FORMATS, render_terminal

    name = fmt or (SUFFIX_FORMATS.get(out.suffix.lower(), "terminal") if out else "terminal")
    renderer = registry.get("report", name).factory
    store = open_db(db)
    try:
        summary = summary_of(store, run, scheme)
    finally:
        store.close()
    if name == "terminal" and out is None:
        render_terminal(summary, Console())
        return
    text: str = renderer(summary)
    if out is None:
        typer.echo(text.rstrip("\n"))
    else:
        write_out(text, out)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
