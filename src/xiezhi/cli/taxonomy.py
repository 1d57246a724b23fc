"""`xiezhi taxonomy`: show the risk taxonomies (TC260-003 and the schemes it maps onto)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from xiezhi.types import XiezhiError

FormatOpt = Annotated[str, typer.Option("--format", "-f", help="tree (default) or json")]
SchemeOpt = Annotated[str | None, typer.Option("--scheme", "-s",
                                               help="one scheme: tc260, ailuminate, llamaguard3, owasp-llm")]


def taxonomy_json(scheme: str | None) -> dict[str, Any]:
    """One JSON object: a scheme (with its TC260 mapping for tc260), or every scheme."""
    from xiezhi.taxonomy import load_mapping, load_scheme, schemes

    mapping = {k: v.model_dump() for k, v in load_mapping().items()}
    if scheme is not None:
        out = load_scheme(scheme).model_dump()
        if scheme == "tc260":
            out["mapping"] = mapping
        return out
    return {"schemes": {n: load_scheme(n).model_dump() for n in schemes()}, "mapping": mapping}


def taxonomy_tree(scheme: str) -> Tree:
    """A rich tree: categories, risk types with zh/en names (and TC260's mapped ids)."""
    from xiezhi.taxonomy import load_scheme, map_risk_type, schemes

    s = load_scheme(scheme)
    tree = Tree(f"[bold]{escape(s.title.zh)}[/bold]\n{escape(s.title.en)}")
    others = [n for n in schemes() if n != "tc260"]
    for cat in s.categories:
        branch = tree.add(f"[bold cyan]{escape(cat.id)}[/] {escape(cat.name.zh)} / {escape(cat.name.en)}")
        for rt in cat.risk_types:
            label = f"[cyan]{escape(rt.id)}[/] {escape(rt.name.zh)} / {escape(rt.name.en)}"
            if rt.tags.get("content_risk") == "true":
                label += " [yellow](content risk)[/]"
            if scheme == "tc260":
                maps = [f"{o}: {', '.join(ids)}" for o in others if (ids := map_risk_type(rt.id, o))]
                if maps:
                    label += f"\n[dim]→ {escape(' · '.join(maps))}[/]"
            branch.add(label)
    return tree


def taxonomy(fmt: FormatOpt = "tree", scheme: SchemeOpt = None) -> None:
    """Show the risk taxonomies: TC260-003 (with its mapping to the others) or one --scheme."""
    from xiezhi.taxonomy import load_scheme, schemes

    if fmt not in ("tree", "json"):
        raise XiezhiError(f"--format must be 'tree' or 'json', not {fmt!r}")
    if scheme is not None:
        load_scheme(scheme)  # clear error for an unknown name
    if fmt == "json":
        typer.echo(json.dumps(taxonomy_json(scheme), ensure_ascii=False, indent=2))
        return
    console = Console()
    console.print(taxonomy_tree(scheme or "tc260"))
    if scheme is None:
        console.print(f"[dim]other schemes: {', '.join(n for n in schemes() if n != 'tc260')} "
                      "(xiezhi taxonomy --scheme NAME)[/]")


def register(app: typer.Typer) -> None:
    app.command("taxonomy", help="Show risk taxonomies (TC260-003, AILuminate, Llama Guard 3, OWASP).")(taxonomy)
