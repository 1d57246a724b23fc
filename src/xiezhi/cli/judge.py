"""`xiezhi judge`: score (prompt, response) files and measure a judge against labels.

``score``: every non-empty input line gives one output line, in order. A malformed line
(invalid UTF-8, bad JSON, not an object, missing prompt/response) is reported on stderr
with its line number and written through with an ``error`` field and no verdict; empty
lines are skipped.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xiezhi.types import XiezhiError

if TYPE_CHECKING:
    from xiezhi.judges.base import Judge
    from xiezhi.judges.rows import RowResult

judge_app = typer.Typer(help="Judge responses and measure judges (法官模型).", no_args_is_help=True)
JudgeOpt = Annotated[str, typer.Option("--judge", "-j", help="judge spec: embedded, refusal, reference, "
                                       "llm:TARGET?template=harmbench, ensemble:embedded+refusal")]
BATCH = 64
MAX_ERRORS_SHOWN = 20


def _make_judge(spec: str) -> Judge:
    from xiezhi.judges.base import create_judge

    return create_judge(spec)


def _verdict_fields(v: Any) -> dict[str, Any]:
    return {"unsafe": v.unsafe, "refusal": v.refusal, "score": v.score, "judge": v.judge,
            "uncertain": v.uncertain, "reason": v.reason}


async def _score_rows(judge: Judge, rows: list[RowResult]) -> list[dict[str, Any]]:
    from xiezhi.judges.rows import to_attempt

    good = [r for r in rows if r.error is None]
    verdicts = await judge.judge_batch([to_attempt(r.data, r.line) for r in good]) if good else []
    vmap = {id(r): v for r, v in zip(good, verdicts, strict=True)}
    out: list[dict[str, Any]] = []
    for r in rows:
        if r.error is not None:
            out.append({**r.data, "line": r.line, "error": r.error})
        else:
            out.append({**r.data, **_verdict_fields(vmap[id(r)])})
    return out


def score(
    infile: Annotated[Path, typer.Option("--in", help="JSONL with prompt, response (optional id, lang); - for stdin")],
    outfile: Annotated[Path, typer.Option("--out", help="JSONL: each input row plus the verdict")],
    judge: JudgeOpt = "embedded",
    batch: Annotated[int, typer.Option(help="rows per judge batch")] = BATCH,
) -> None:
    """Score each response: adds unsafe, refusal, score, judge, uncertain, reason."""
    from rich.progress import Progress

    from xiezhi.judges.base import close_judge
    from xiezhi.judges.rows import iter_jsonl, read_bytes

    err = Console(stderr=True, soft_wrap=True)
    j = _make_judge(judge)
    # read the whole input before the output is opened: --out may be the input file itself
    data = read_bytes(infile)
    total = sum(1 for line in data.split(b"\n") if line.strip())
    n_err = n_ok = 0
    try:
        fh = outfile.open("w", encoding="utf-8")
    except OSError as e:
        raise XiezhiError(f"{outfile}: cannot write: {e.strerror}") from None
    # one event loop for every batch: an LLM judge's HTTP session belongs to the loop it was made in
    try:
        with (fh, asyncio.Runner() as loop,
              Progress(console=err, transient=True, disable=total < 2 * batch) as progress):
            task = progress.add_task("judging", total=total)
            pending: list[RowResult] = []

            def flush() -> None:
                nonlocal n_ok
                for row in loop.run(_score_rows(j, pending)):
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                    n_ok += "error" not in row
                progress.advance(task, len(pending))
                pending.clear()

            try:
                for r in iter_jsonl(infile, data=data):
                    if r.error is not None:
                        n_err += 1
                        if n_err <= MAX_ERRORS_SHOWN:
                            err.print(f"[yellow]{escape(str(infile))}:{r.line}: {escape(r.error)} "
                                      "(written with an error field)[/]")
                    pending.append(r)
                    if sum(1 for p in pending if p.error is None) >= batch:
                        flush()
                flush()
            finally:
                loop.run(close_judge(j))
    except OSError as e:  # a full disk, a vanished folder: closing the file flushes, so it can fail too
        raise XiezhiError(f"{outfile}: cannot write: {e.strerror}") from None
    except KeyboardInterrupt:
        err.print(f"stopped: {n_ok} judged row(s) are in {escape(str(outfile))}, in order; "
                  "the rest were not judged")
        raise typer.Exit(130) from None
    if n_err > MAX_ERRORS_SHOWN:
        err.print(f"[yellow]… {n_err - MAX_ERRORS_SHOWN} more malformed row(s)[/]")
    err.print(f"judged {n_ok} row(s) with {escape(judge)}; {n_err} malformed; wrote {escape(str(outfile))}")
    if n_err and not n_ok:
        raise XiezhiError(f"{infile}: none of its {n_err} row(s) could be read; it should be JSON Lines in UTF-8 "
                          "with prompt and response strings")


def _label(value: Any, positive: str | None) -> int | None:
    text = str(value).strip().lower() if value is not None else ""
    if not text:
        return None
    if positive is not None:
        return int(text == positive.strip().lower())
    if text in ("1", "1.0", "true", "yes", "unsafe", "harmful", "是"):
        return 1
    if text in ("0", "0.0", "false", "no", "safe", "refusal", "benign", "否"):
        return 0
    return None


def eval_cmd(
    infile: Annotated[Path, typer.Option("--in", help="labelled JSONL or CSV")],
    label_field: Annotated[str, typer.Option("--label-field", help="column holding the human label")],
    judge: JudgeOpt = "embedded",
    positive: Annotated[str | None, typer.Option(help="label value meaning unsafe (default: 1/true/yes/unsafe)")] = None,
    target: Annotated[str, typer.Option("--verdict-field", help="verdict field compared: unsafe or refusal")] = "unsafe",
    prompt_field: Annotated[str, typer.Option(help="prompt column")] = "prompt",
    response_field: Annotated[str, typer.Option(help="response column")] = "response",
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    seed: Annotated[int, typer.Option(help="bootstrap seed")] = 0,
) -> None:
    """Agreement of a judge with labels: accuracy, F1, Cohen's kappa (bootstrap 95% CI), confusion."""
    from xiezhi.judges.base import close_judge
    from xiezhi.judges.metrics import agreement, sure_agreement
    from xiezhi.judges.rows import iter_rows, to_attempt

    if target not in ("unsafe", "refusal"):
        raise XiezhiError(f"--verdict-field must be unsafe or refusal, got {target!r}")
    if fmt not in ("text", "json"):
        raise XiezhiError(f"--format must be text or json, got {fmt!r}")
    err = Console(stderr=True, soft_wrap=True)
    attempts, labels, skipped = [], [], 0
    for r in iter_rows(infile, (prompt_field, response_field)):
        y = _label(r.data.get(label_field), positive) if r.error is None else None
        if r.error is not None or y is None:
            skipped += 1
            why = r.error or f"label {label_field!r} missing or not understood ({r.data.get(label_field)!r})"
            if skipped <= MAX_ERRORS_SHOWN:
                err.print(f"[yellow]{escape(str(infile))}:{r.line}: {escape(why)} (skipped)[/]")
            continue
        attempts.append(to_attempt(r.data, r.line, prompt_field, response_field))
        labels.append(y)
    if not attempts:
        raise XiezhiError(f"{infile}: no usable labelled rows (label field {label_field!r})")
    j = _make_judge(judge)
    verdicts = []
    with asyncio.Runner() as loop:  # one loop: an LLM judge's HTTP session belongs to it
        try:
            for i in range(0, len(attempts), BATCH):
                verdicts.extend(loop.run(j.judge_batch(attempts[i:i + BATCH])))
        finally:
            loop.run(close_judge(j))
    preds = [int(getattr(v, target)) for v in verdicts]
    res = {"judge": judge, "file": str(infile), "verdict_field": target, "skipped": skipped,
           **agreement(labels, preds, seed=seed), **sure_agreement(labels, preds, [v.uncertain for v in verdicts])}
    if fmt == "json":
        typer.echo(json.dumps(res, ensure_ascii=False, indent=1))
        return
    con = Console()
    t = Table(title=f"{escape(judge)} vs {escape(label_field)} (n={res['n']}, skipped {skipped})")
    for col in ("metric", "value", "95% CI"):
        t.add_column(col)
    for name in ("accuracy", "f1", "kappa"):
        lo, hi = res[name]["ci95"]
        t.add_row(name, f"{res[name]['value']:.3f}", f"[{lo:.3f}, {hi:.3f}]")
    con.print(t)
    c = res["confusion"]
    cm = Table(title="confusion (rows: label, columns: judge)")
    for col in ("", f"judge {target}", f"judge not {target}"):
        cm.add_column(col)
    cm.add_row(f"label {target}", str(c["tp"]), str(c["fn"]))
    cm.add_row(f"label not {target}", str(c["fp"]), str(c["tn"]))
    con.print(cm)
    if res["accuracy_when_sure"] is not None:
        con.print(f"marked uncertain: {res['uncertain_share']:.1%} (in a scan, `xiezhi review RUN_ID` exports "
                  f"them for labelling); accuracy on the other {res['n_sure']}: {res['accuracy_when_sure']:.3f}")


def list_judges() -> None:
    """The registered judges (the scan default is `embedded`)."""
    from xiezhi.registry import registry

    t = Table(title="judges (use with --judge NAME[:OPTIONS])")
    t.add_column("name")
    t.add_column("description")
    for e in registry.entries("judge"):
        t.add_row(escape(e.name), escape(e.description))
    Console().print(t)


judge_app.command("score")(score)
judge_app.command("eval")(eval_cmd)
judge_app.command("list")(list_judges)


def register(app: typer.Typer) -> None:
    """Add the `judge` command group."""
    app.add_typer(judge_app, name="judge")
