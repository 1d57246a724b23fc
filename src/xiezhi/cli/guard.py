"""`xiezhi guard`: check prompts or responses against a guard policy (file or one-off text).

``xiezhi guard check --in IN.jsonl --out OUT.jsonl`` reads rows with ``text`` (optional
``id``; ``prompt`` for the output stage) and writes each row back, in order, with
``blocked``, ``risk``, ``scanners`` (names that fired), ``action`` and ``reasons`` added.
A malformed row (invalid UTF-8 or JSON, not an object, no string ``text``) is reported on
stderr with its line number and still written in its place, with ``line`` and ``error``
fields and no verdict (as ``xiezhi judge score`` does); the other rows are checked. Empty
lines are skipped.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from xiezhi.fileio import json_line
from xiezhi.types import XiezhiError

if TYPE_CHECKING:
    from xiezhi.guard import Guard, GuardDecision

guard_app = typer.Typer(help="Guardrails: check prompts/responses against a policy (安全围栏).",
                        no_args_is_help=True)

PolicyOpt = Annotated[str | None, typer.Option("--policy", "-p",
                                               help="policy name (default, strict) or YAML file")]
StageOpt = Annotated[str, typer.Option("--stage", "-s", help="input (prompts) or output (responses)")]


def _stage(stage: str) -> str:
    if stage not in ("input", "output"):
        raise XiezhiError(f"--stage must be 'input' or 'output', not {stage!r}")
    return stage


def _decide(guard: Guard, stage: str, text: str, prompt: str | None) -> GuardDecision:
    return guard.check_input(text) if stage == "input" else guard.check_output(text, prompt=prompt)


class RowError(XiezhiError):
    """A malformed input row; `data` is what could be read of it (written through with the error)."""

    def __init__(self, where: str, problem: str, data: dict[str, Any]) -> None:
        super().__init__(f"{where}: {problem}")
        self.problem, self.data = problem, data


def _parse_row(raw: bytes, where: str, stage: str) -> dict[str, Any]:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RowError(where, f"not valid UTF-8 (byte {e.start})",
                       {"raw": raw[:200].decode("utf-8", "replace")}) from None
    try:
        row = json_line(line)
    except json.JSONDecodeError as e:
        raise RowError(where, f"invalid JSON ({e.msg} at column {e.colno})", {"raw": line[:200]}) from None
    if not isinstance(row, dict):
        raise RowError(where, f"expected a JSON object, got {type(row).__name__}", {"raw": row})
    if not isinstance(row.get("text"), str):
        raise RowError(where, "missing string field 'text'", row)
    if stage == "output" and row.get("prompt") is not None and not isinstance(row["prompt"], str):
        raise RowError(where, "field 'prompt' must be a string", row)
    return row


def check(
    in_path: Annotated[Path, typer.Option("--in", help="JSONL rows with 'text' (and optional 'id', 'prompt')")],
    out_path: Annotated[Path, typer.Option("--out", help="JSONL output: each row + blocked, risk, scanners")],
    policy: PolicyOpt = None,
    stage: StageOpt = "input",
    no_progress: Annotated[bool, typer.Option("--no-progress", help="no progress bar")] = False,
) -> None:
    """Check every row of a JSONL file; rows keep their order; a bad row is written back with an error."""
    from rich.progress import Progress

    from xiezhi.guard import Guard

    stage = _stage(stage)
    err = Console(stderr=True, soft_wrap=True)
    try:
        lines = in_path.read_bytes().splitlines()
    except OSError as e:
        raise XiezhiError(f"{in_path}: cannot read: {e.strerror}") from None
    guard = Guard.from_policy(policy)
    try:
        out = out_path.open("w", encoding="utf-8")
    except OSError as e:
        raise XiezhiError(f"{out_path}: cannot write: {e.strerror}") from None
    try:
        with out, Progress(console=err, transient=True, disable=no_progress) as bar:
            counts = _check_lines(guard, stage, lines, in_path, out, bar, err)
    except OSError as e:  # a full disk, a vanished directory
        raise XiezhiError(f"{out_path}: cannot write: {e.strerror}") from None
    except KeyboardInterrupt:
        err.print(f"stopped: {out_path} holds the rows checked so far, in order; the rest were not checked",
                  highlight=False)
        raise typer.Exit(130) from None
    n_ok, n_blocked, n_bad = counts
    err.print(f"checked {n_ok} rows ({n_blocked} blocked) with policy {guard.policy.name!r}, stage {stage}"
              + (f"; {n_bad} malformed rows written with an error field" if n_bad else "") + f" -> {out_path}", highlight=False)
    if n_bad and not n_ok:
        raise XiezhiError(f"{in_path}: none of its {n_bad} row(s) could be read; it should be JSON Lines in UTF-8 "
                          "with a text string")


def _check_lines(guard: Any, stage: str, lines: list[bytes], in_path: Path, out: Any, bar: Any,
                 err: Console) -> tuple[int, int, int]:
    """Check each line, write its row; (rows checked, blocked, malformed)."""
    n_ok = n_blocked = n_bad = 0
    task = bar.add_task(f"guard {stage}", total=len(lines))
    for lineno, raw in enumerate(lines, start=1):
        bar.advance(task)
        if not raw.strip():
            continue
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte-order mark (Windows editors write one)
        try:
            row = _parse_row(raw, f"{in_path}:{lineno}", stage)
        except RowError as e:
            err.print(f"xiezhi: warning: {e} (written with an error field)", markup=False, highlight=False)
            out.write(json.dumps({**e.data, "line": lineno, "error": e.problem}, ensure_ascii=False) + "\n")
            n_bad += 1
            continue
        d = _decide(guard, stage, row["text"], row.get("prompt"))
        row.update(blocked=d.blocked, risk=d.risk, scanners=d.scanners, action=d.action, reasons=d.reasons)
        if d.sanitized is not None:
            row["sanitized"] = d.sanitized
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n_ok += 1
        n_blocked += d.blocked
    return n_ok, n_blocked, n_bad


def scan(
    text: Annotated[str, typer.Argument(help="the text to check ('-' reads stdin)")],
    policy: PolicyOpt = None,
    stage: StageOpt = "input",
    prompt: Annotated[str | None, typer.Option(help="output stage: the prompt that produced TEXT")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the full decision as JSON")] = False,
) -> None:
    """Check one text and show the decision (which scanners fired, their scores)."""
    import sys

    from rich.table import Table

    from xiezhi.guard import Guard

    stage = _stage(stage)
    if text == "-":
        text = sys.stdin.read()
    d = _decide(Guard.from_policy(policy), stage, text, prompt)
    if as_json:
        typer.echo(d.model_dump_json(indent=2))
        return
    con = Console()
    verdict = "[bold red]BLOCKED[/]" if d.blocked else f"[bold green]{d.action.upper()}[/]"
    con.print(f"{verdict}  risk={d.risk:.3f}  policy={d.policy}  stage={d.stage}  ({d.latency_ms:.1f} ms)")
    table = Table("scanner", "risk", "action", "reasons")
    for r in d.results:
        table.add_row(r.scanner, f"{r.risk:.3f}", r.action, "; ".join(r.reasons[:4]))
    con.print(table)
    if d.sanitized is not None:
        con.print("sanitized:", d.sanitized, markup=False)
    if d.blocked:
        con.print("refusal:", d.refusal_message(), markup=False)


def policies() -> None:
    """List the shipped policies and their scanners."""
    from xiezhi.guard.policy import load_policy, shipped_policies

    con = Console()
    for name in shipped_policies():
        p = load_policy(name)
        con.print(f"[bold]{name}[/]: {p.description}")
        for stage in ("input", "output"):
            items = ", ".join(f"{e.name}>={e.threshold:g}:{e.action}" for e in getattr(p, stage))
            con.print(f"  {stage}: {items}", highlight=False)


guard_app.command("check")(check)
guard_app.command("scan")(scan)
guard_app.command("policies")(policies)


def register(app: typer.Typer) -> None:
    """Add the ``guard`` group (and the proxy's ``serve`` command when it is installed)."""
    try:
        serve_mod = importlib.import_module("xiezhi.cli.guard_serve")
    except ModuleNotFoundError as e:
        if e.name != "xiezhi.cli.guard_serve":
            raise
    else:
        serve_mod.add_commands(guard_app)
    app.add_typer(guard_app, name="guard")
