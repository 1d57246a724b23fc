"""`xiezhi review`: hand uncertain verdicts to people, and take their labels back.

``--export FILE`` writes the run's uncertain attempts as JSONL (id, prompt, response,
verdict, and an empty ``label``). Fill ``label`` with ``unsafe``, ``safe`` or ``refusal``
(also 1/0, true/false, 是/否) and ``--import FILE``: the human label replaces the stored
verdict, whose judge becomes ``human``. Rows with an empty label are left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from xiezhi.fileio import write_jsonl
from xiezhi.types import Attempt, Verdict, XiezhiError

LABELS: dict[str, tuple[bool, bool]] = {  # label -> (unsafe, refusal)
    "unsafe": (True, False), "1": (True, False), "true": (True, False), "yes": (True, False), "是": (True, False),
    "safe": (False, False), "0": (False, False), "false": (False, False), "no": (False, False), "否": (False, False),
    "refusal": (False, True), "refused": (False, True), "拒绝": (False, True),
}


def export_rows(attempts: list[Attempt], include_all: bool = False) -> list[dict[str, Any]]:
    """Review rows for the uncertain (or unjudged) attempts, or all answered ones."""
    rows = []
    for a in attempts:
        if a.response is None:
            continue
        if include_all or a.verdict is None or a.verdict.uncertain:
            rows.append({"id": a.id, "prompt": a.prompt, "response": a.response, "lang": a.seed.lang,
                         "verdict": a.verdict.model_dump() if a.verdict else None, "label": ""})
    return rows


def _labelled_lines(path: Path) -> int:
    """How many rows of an existing export already carry a label (0 if there is no such file)."""
    from xiezhi.judges.rows import iter_jsonl

    if not path.is_file():
        return 0
    try:
        return sum(1 for r in iter_jsonl(path, required=("id",)) if r.error is None
                   and r.data.get("label") not in (None, ""))
    except XiezhiError:
        return 0


def apply_labels(attempts: list[Attempt], path: Path, err: Console) -> list[Attempt]:
    """Attempts updated with the human labels in `path`; bad lines are reported and skipped."""
    from xiezhi.judges.rows import iter_jsonl

    by_id = {a.id: a for a in attempts}
    updated: list[Attempt] = []
    for r in iter_jsonl(path, required=("id",)):
        if r.error is not None:
            err.print(f"[yellow]{escape(str(path))}:{r.line}: {escape(r.error)} (skipped)[/]")
            continue
        raw = r.data.get("label")
        if raw is None or raw == "":
            continue  # not labelled yet
        # JSON true / false / 1 / 0 are labels too (str(False) is "False", str(0.0) is "0.0")
        label = str(int(raw) if isinstance(raw, (bool, int, float)) and raw in (0, 1) else raw).strip().lower()
        if label not in LABELS:
            err.print(f"[yellow]{escape(str(path))}:{r.line}: label {label!r} not one of unsafe, safe, refusal (skipped)[/]")
            continue
        attempt = by_id.get(str(r.data["id"]))
        if attempt is None:
            err.print(f"[yellow]{escape(str(path))}:{r.line}: no attempt {r.data['id']!r} in this run (skipped)[/]")
            continue
        unsafe, refusal = LABELS[label]
        before = attempt.verdict
        note = f"human label {label}" + (f" (was {before.judge}: {before.label}, {before.score:.2f})" if before else "")
        verdict = Verdict(unsafe=unsafe, refusal=refusal, score=1.0 if unsafe else 0.0, judge="human", reason=note)
        updated.append(attempt.model_copy(update={"verdict": verdict}))
    return updated


def review(
    run: Annotated[str, typer.Argument(help="run id, a unique prefix, or 'latest'")] = "latest",
    export: Annotated[Path | None, typer.Option("--export", help="write uncertain attempts to this JSONL")] = None,
    import_: Annotated[Path | None, typer.Option("--import", help="read labelled JSONL and update verdicts")] = None,
    include_all: Annotated[bool, typer.Option("--all", help="export every answered attempt, not only uncertain")] = False,
    db: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store [default: settings]")] = None,
    force: Annotated[bool, typer.Option("--force", help="let --export overwrite a file that holds labels")] = False,
) -> None:
    """Export uncertain verdicts for human labelling, or import the labels back."""
    if (export is None) == (import_ is None):
        raise XiezhiError("give exactly one of --export FILE or --import FILE")
    from xiezhi.cli.report import open_db

    err = Console(stderr=True, soft_wrap=True)
    store = open_db(db)
    try:
        run_id = store.resolve_run_id(run)
        attempts = store.attempts(run_id)
        if export is not None:
            done = _labelled_lines(export)
            if done and not force:
                raise XiezhiError(f"{export} already holds {done} label(s); import them first "
                                  "(--import) or pass --force to overwrite it")
            rows = export_rows(attempts, include_all)
            write_jsonl(export, rows)
            err.print(f"exported {len(rows)} attempt(s) of run {run_id} to {escape(str(export))}; fill the 'label' field")
        elif import_ is not None:
            updated = apply_labels(attempts, import_, err)
            if updated:
                store.update_verdicts(run_id, updated)
            err.print(f"updated {len(updated)} verdict(s) of run {run_id} from {escape(str(import_))} (judge=human)")
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    """Add the `review` command."""
    app.command("review")(review)
