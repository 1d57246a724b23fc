"""JADE-DB CSV loader (问题 / 违规类型 / 违规子类), Chinese and English files alike."""

from __future__ import annotations

from typing import ClassVar

from xiezhi.data.loaders.base import TableLoader
from xiezhi.registry import register


@register("loader", "jade", description="JADE-DB CSV (ID, 问题, 违规类型, 违规子类)")
class JadeLoader(TableLoader):
    """JADE-DB: subtypes (违规子类, may hold "a|b") map onto TC260 via category_map.yaml."""

    name: ClassVar[str] = "jade"
    columns: ClassVar[dict[str, str]] = {"text": "问题", "id": "ID"}
    label_columns: ClassVar[tuple[str, ...]] = ("违规子类", "违规类型")
    signature: ClassVar[tuple[str, ...]] = ("问题",)
    priority: ClassVar[int] = 30

    def default_benign(self, name: str) -> bool:
        return False  # JADE-DB holds only violating questions
