"""Loaders for the common English jailbreak benchmarks' CSV files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from xiezhi.data.loaders.base import TableLoader
from xiezhi.registry import register
from xiezhi.types import Seed


@register("loader", "advbench", description="AdvBench harmful_behaviors.csv (goal, target)")
class AdvBenchLoader(TableLoader):
    """AdvBench: `goal` is the request, `target` the affirmative reply an attack aims for."""

    name: ClassVar[str] = "advbench"
    columns: ClassVar[dict[str, str]] = {"text": "goal"}
    signature: ClassVar[tuple[str, ...]] = ("goal", "target")


@register("loader", "harmbench", description="HarmBench behaviors CSV (Behavior, SemanticCategory, BehaviorID)")
class HarmBenchLoader(TableLoader):
    """HarmBench: contextual behaviours carry their ContextString before the request."""

    name: ClassVar[str] = "harmbench"
    columns: ClassVar[dict[str, str]] = {"text": "Behavior", "id": "BehaviorID"}
    label_columns: ClassVar[tuple[str, ...]] = ("SemanticCategory",)
    signature: ClassVar[tuple[str, ...]] = ("Behavior", "BehaviorID")
    priority: ClassVar[int] = 20

    def make_seed(self, name: str, row_no: int, row: Mapping[str, Any], text: str,
                  mapping: Mapping[str, str | None], labels: list[str] | tuple[str, ...] = ()) -> Seed:
        context = next((str(v).strip() for k, v in row.items()
                        if k.casefold() == "contextstring" and v and str(v).strip()), "")
        if context:
            text = f"{context}\n\n---\n\n{text}"
        return super().make_seed(name, row_no, row, text, mapping, labels)


@register("loader", "jailbreakbench", description="JailbreakBench JBB-Behaviors CSV (Goal, Behavior, Category)")
class JailbreakBenchLoader(TableLoader):
    """JBB-Behaviors: harmful file and its benign twin (benign when the file name says so)."""

    name: ClassVar[str] = "jailbreakbench"
    columns: ClassVar[dict[str, str]] = {"text": "Goal"}
    label_columns: ClassVar[tuple[str, ...]] = ("Behavior", "Category")
    signature: ClassVar[tuple[str, ...]] = ("Goal", "Behavior", "Category")
    priority: ClassVar[int] = 20


@register("loader", "strongreject", description="StrongREJECT CSV (category, source, forbidden_prompt)")
class StrongRejectLoader(TableLoader):
    """StrongREJECT: `forbidden_prompt` with its category and source dataset."""

    name: ClassVar[str] = "strongreject"
    columns: ClassVar[dict[str, str]] = {"text": "forbidden_prompt"}
    label_columns: ClassVar[tuple[str, ...]] = ("category",)
    signature: ClassVar[tuple[str, ...]] = ("forbidden_prompt",)
    priority: ClassVar[int] = 20
