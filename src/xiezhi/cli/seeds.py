"""`xiezhi seeds`: count and browse seeds (the shipped bank, or a user file via a loader)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xiezhi.types import XiezhiError

if TYPE_CHECKING:
    from xiezhi.types import Seed

seeds_app = typer.Typer(help="Seed bank: statistics and browsing (种子库).", no_args_is_help=True)

SeedsOpt = Annotated[str | None, typer.Option("--seeds", help="a seed file instead of the shipped bank")]
FormatNameOpt = Annotated[str | None, typer.Option(
    "--format-name", help="loader for --seeds: advbench, harmbench, jailbreakbench, strongreject, "
                          "jade, csv, jsonl (default: detect from the header)")]
ColumnOpt = Annotated[list[str] | None, typer.Option(
    "--column", help="FIELD=COLUMN mapping for --seeds, e.g. --column text=prompt (repeatable)")]
MIN_PER_LANG = 8


def _columns(specs: list[str] | None) -> dict[str, str] | None:
    if not specs:
        return None
    out: dict[str, str] = {}
    for spec in specs:
        field, sep, col = spec.partition("=")
        if not sep or not field.strip() or not col.strip():
            raise XiezhiError(f"--column expects FIELD=COLUMN, got {spec!r}")
        out[field.strip()] = col.strip()
    return out


def _load(path: str | None, fmt: str | None, columns: list[str] | None) -> list[Seed]:
    if path is None:
        if fmt or columns:
            raise XiezhiError("--format-name and --column need --seeds FILE")
        from xiezhi.data.bank import load_bank

        return load_bank()
    from xiezhi.data.loaders import load_seeds

    loaded = load_seeds(path, fmt, _columns(columns))
    loaded.print_skipped(Console(stderr=True), path)
    return list(loaded)


def _stats_table(st: dict[str, Any]) -> Table:
    from xiezhi.taxonomy import describe

    table = Table(title=f"seeds: {st['total']} (harmful zh {st['harmful']['zh']} / en {st['harmful']['en']}, "
                        f"benign zh {st['benign']['zh']} / en {st['benign']['en']}, factual {st['factual']})")
    table.add_column("risk type", no_wrap=True)
    table.add_column("name", no_wrap=True, overflow="ellipsis", max_width=60)
    table.add_column("zh", justify="right")
    table.add_column("en", justify="right")
    table.add_column("benign", justify="right")
    for rt, counts in st["by_risk_type"].items():
        try:
            name = f"{describe(rt, 'zh')} / {describe(rt, 'en')}"
        except XiezhiError:
            name = "?"
        cells = [f"[red]{counts.get(lang, 0)}[/]" if counts.get(lang, 0) < MIN_PER_LANG
                 else str(counts.get(lang, 0)) for lang in ("zh", "en")]
        bc = st["benign_by_risk_type"].get(rt, {})
        table.add_row(rt, escape(name), *cells, str(sum(bc.values())))
    return table


def stats(fmt: Annotated[str, typer.Option("--format", "-f", help="table (default) or json")] = "table",
          seeds: SeedsOpt = None, format_name: FormatNameOpt = None, column: ColumnOpt = None) -> None:
    """Count seeds by risk type x language (all 31 TC260 types), category, form, benign, factual."""
    from xiezhi.data.stats import seed_stats

    if fmt not in ("table", "json"):
        raise XiezhiError(f"--format must be 'table' or 'json', not {fmt!r}")
    st = seed_stats(_load(seeds, format_name, column))
    if fmt == "json":
        typer.echo(json.dumps(st, ensure_ascii=False, indent=2))
        return
    console = Console()
    console.print(_stats_table(st))
    console.print(f"forms: {st['by_form']}  sources: {st['by_source']}  langs: {st['by_lang']}")


def list_seeds(risk_type: Annotated[str | None, typer.Option("--risk-type", "-r", help="e.g. A.4.e")] = None,
               lang: Annotated[str | None, typer.Option("--lang", "-l", help="zh or en")] = None,
               limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="0 = all")] = 20,
               benign: Annotated[bool | None, typer.Option(
                   "--benign/--harmful", help="only benign look-alikes / only harmful seeds")] = None,
               fmt: Annotated[str, typer.Option("--format", "-f", help="table (default) or jsonl")] = "table",
               seeds: SeedsOpt = None, format_name: FormatNameOpt = None, column: ColumnOpt = None) -> None:
    """Browse seeds, filtered by risk type (or category, e.g. A.4), language and benign flag."""
    if fmt not in ("table", "jsonl"):
        raise XiezhiError(f"--format must be 'table' or 'jsonl', not {fmt!r}")
    rows = [s for s in _load(seeds, format_name, column)
            if (risk_type is None or s.risk_type == risk_type or s.category == risk_type)
            and (lang is None or s.lang == lang) and (benign is None or s.benign == benign)]
    total = len(rows)
    if limit:
        rows = rows[:limit]
    if fmt == "jsonl":
        for s in rows:
            typer.echo(s.model_dump_json())
        return
    table = Table(title=f"{len(rows)} of {total} seeds")
    for col in ("id", "risk type", "lang", "form", "benign"):
        table.add_column(col, no_wrap=True)
    table.add_column("text", overflow="fold", ratio=1, min_width=30)
    for s in rows:
        table.add_row(s.id, s.risk_type, s.lang, s.form, "yes" if s.benign else "",
                      escape(s.text if len(s.text) <= 200 else s.text[:199] + "…"))
    Console().print(table)


def check(near: Annotated[bool, typer.Option("--near/--no-near",
                                            help="also check near duplicates (embeds every text)")] = False,
          threshold: Annotated[float | None, typer.Option("--threshold", min=0.0, max=1.0,
                                                          help="near-duplicate cosine bar")] = None,
          seeds: SeedsOpt = None, format_name: FormatNameOpt = None, column: ColumnOpt = None) -> None:
    """Check seed quality (duplicates, language tags, coverage, benign count, A.5 references); exit 1 on failure."""
    from xiezhi.data.quality import NEAR_DUP_THRESHOLD, check_seeds

    items = _load(seeds, format_name, column)
    report = check_seeds(items, near=near, threshold=threshold or NEAR_DUP_THRESHOLD)
    texts = {s.id: s.text for s in items}
    console = Console()
    failed = False
    for name, problems in report.items():
        if not problems:
            console.print(f"[green]ok[/]   {name}")
            continue
        failed = True
        console.print(f"[red]FAIL[/] {name}: {problems if isinstance(problems, int) else len(problems)}")
        if isinstance(problems, dict):
            console.print("     " + escape(", ".join(f"{k}={v}" for k, v in problems.items())))
        elif isinstance(problems, list):
            for p in problems[:20]:
                if isinstance(p, tuple) and len(p) >= 2:
                    extra = f" ({p[2]:.3f})" if len(p) == 3 and isinstance(p[2], float) else ""
                    a, b = texts.get(str(p[0]), ""), texts.get(str(p[1]), "")
                    console.print(f"     {p[0]} / {p[1]}{extra}: {escape(a[:60])} | {escape(b[:60] or str(p[2]))}")
                else:
                    console.print(f"     {escape(str(p))}")
    if failed:
        raise typer.Exit(1)


seeds_app.command("stats")(stats)
seeds_app.command("check")(check)
seeds_app.command("list")(list_seeds)


def register(app: typer.Typer) -> None:
    app.add_typer(seeds_app, name="seeds")
