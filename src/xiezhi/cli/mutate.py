"""`xiezhi mutate`: raise JSONL prompts to a difficulty tier (or apply a named chain)."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import mean
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from xiezhi.fileio import json_line, write_jsonl
from xiezhi.types import TIERS, XiezhiError

MAX_LINE = 1_000_000


def read_rows(path: Path, warn: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """Valid rows (line number, object) of a JSONL file; problems go to `warn`, one line each."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise XiezhiError(f"cannot read {path}: {e.strerror or e}") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        if len(line) > MAX_LINE:
            warn.append(f"{where}: line longer than {MAX_LINE} bytes, skipped")
            continue
        try:
            obj = json_line(line.decode("utf-8"))
        except UnicodeDecodeError:
            warn.append(f"{where}: not valid UTF-8, skipped")
            continue
        except json.JSONDecodeError as e:
            warn.append(f"{where}: not valid JSON ({e.msg}), skipped")
            continue
        if not isinstance(obj, dict):
            warn.append(f"{where}: expected a JSON object, skipped")
            continue
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            warn.append(f"{where}: missing or empty \"text\", skipped")
            continue
        lang = obj.get("lang")
        if lang is None:
            from xiezhi.data.lang import detect_lang

            obj["lang"] = detect_lang(text)
        elif lang not in ("zh", "en"):
            warn.append(f"{where}: \"lang\" must be \"zh\" or \"en\", got {lang!r}, skipped")
            continue
        rows.append((n, obj))
    return rows


def mutate_cmd(
    in_path: Annotated[Path, typer.Option("--in", help="JSONL input: rows with \"text\" and \"lang\" (zh/en)")],
    out_path: Annotated[Path, typer.Option("--out", help="JSONL output (input fields + mutated, chain, ...)")],
    tier: Annotated[str, typer.Option(help="entry | advanced | expert")] = "advanced",
    seed: Annotated[int, typer.Option(help="random seed: same seed, same output")] = 0,
    mutators: Annotated[str | None, typer.Option(help="apply exactly this chain, e.g. passivize,role-play")] = None,
    n: Annotated[int, typer.Option(help="variants per row")] = 1,
    similarity: Annotated[bool, typer.Option(help="measure intent similarity (e5) and drop low ones")] = True,
    llm: Annotated[str | None, typer.Option(
        help="LLM-assisted mode: a target (e.g. openai:MODEL@URL) rewrites each row first by a rule-based "
             "mutator's description; --mutators then applies after it")] = None,
    llm_rule: Annotated[str, typer.Option(help="LLM-assisted mode: the rule to ask for (a linguistic mutator "
                                                "name) or 'any' (drawn per row from --seed)")] = "any",
) -> None:
    """Rewrite prompts into harder surface forms (JADE-style tiers) — 语言学变异与越狱策略."""
    from xiezhi.strategies.chains import mutator
    from xiezhi.strategies.tiers import TierEngine
    from xiezhi.types import Seed, stable_id

    if tier not in TIERS:
        raise XiezhiError(f"unknown tier {tier!r}; tiers are {', '.join(TIERS)}")
    if n < 1:
        raise XiezhiError("--n must be at least 1")
    chain = [c.strip() for c in mutators.split(",") if c.strip()] if mutators else None
    for name in chain or []:
        mutator(name)  # unknown names fail here with the list of known mutators
    err = Console(stderr=True)
    warn: list[str] = []
    rows = read_rows(in_path, warn)
    for w in warn:
        err.print(f"[yellow]warning:[/] {escape(w)}")
    engine = TierEngine(measure_similarity=similarity)
    if llm is not None:
        llm_out = llm_rows(rows, llm, llm_rule, chain or [], seed, engine)
        write_jsonl(out_path, llm_out)
        report(llm_out, rows, out_path, engine, warn)
        return
    out_rows: list[dict[str, Any]] = []
    from rich.progress import Progress

    with Progress(console=err, transient=True, disable=not rows) as bar:
        task = bar.add_task(f"mutate ({tier})", total=len(rows))
        for _line_no, row in rows:
            sd = Seed(id=str(row.get("id") or stable_id(row["text"], row["lang"])), text=row["text"],
                      lang=row["lang"])
            for m in engine.variants(sd, tier, seed, n, chain):
                out_rows.append({**row, "mutated": m.text, "chain": m.chain, "tier": m.tier,
                                 "complexity": m.complexity, "similarity": m.similarity})
            bar.advance(task)
    write_jsonl(out_path, out_rows)
    report(out_rows, rows, out_path, engine, warn)


def report(out_rows: list[dict[str, Any]], rows: list[tuple[int, dict[str, Any]]], out_path: Path,
           engine: Any, warn: list[str]) -> None:
    comps = [r["complexity"] for r in out_rows if r["complexity"] is not None]
    sims = [r["similarity"] for r in out_rows if r["similarity"] is not None]
    summary = (f"{len(out_rows)} variant(s) from {len(rows)} row(s) -> {out_path}; "
               f"mean complexity {mean(comps):.2f}" if comps else f"0 variants -> {out_path}")
    if sims:
        summary += f", mean similarity {mean(sims):.3f}"
    dropped = engine.stats.get("dropped", 0)
    summary += f"; dropped {dropped} low-similarity candidate(s); skipped {len(warn)} bad row(s)"
    Console().print(escape(summary))


def llm_rows(rows: list[tuple[int, dict[str, Any]]], target: str, rule: str, chain: list[str], seed: int,
             engine: Any) -> list[dict[str, Any]]:
    """LLM-assisted mode: the target rewrites each row (one event loop, greedy decoding), then
    `chain` applies; intent similarity is measured against the row as written and a variant
    below the threshold is dropped and counted like any other."""
    import asyncio

    from xiezhi.complexity import complexity
    from xiezhi.mutators.llm_rewrite import LlmRewrite
    from xiezhi.strategies.chains import apply_chain
    from xiezhi.strategies.tiers import rng_for
    from xiezhi.types import stable_id

    rewriter = LlmRewrite(target=target, rule=rule)

    async def rewrite_all() -> list[str]:
        try:
            return [await rewriter.amutate(row["text"], row["lang"],
                                           rng_for(seed, row.get("id") or stable_id(row["text"], row["lang"]), "llm"))
                    for _, row in rows]
        finally:
            await rewriter.aclose()

    rewritten = asyncio.run(rewrite_all())
    out: list[dict[str, Any]] = []
    for (_, row), text in zip(rows, rewritten, strict=True):
        rid = row.get("id") or stable_id(row["text"], row["lang"])
        applied = apply_chain(text, row["lang"], chain, rng_for(seed, rid, "+".join(chain)))
        sim = engine.similarity(row["text"], applied.payload)  # the LLM's rewrite counts as linguistic
        engine.stats["candidates"] += 1
        if sim is not None and sim < engine.threshold_for(row["lang"]):
            engine.stats["dropped"] += 1
            continue
        out.append({**row, "mutated": applied.text, "chain": ["llm-rewrite", *applied.chain], "tier": "advanced"
                    if not applied.chain else "expert", "complexity": complexity(applied.text, row["lang"]),
                    "similarity": sim})
    return out


def register(app: typer.Typer) -> None:
    app.command("mutate")(mutate_cmd)
