from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from apps.reports.charts import grade_chart
from apps.reports.content import Block, Table, blocks

register = template.Library()


@register.filter(name="blocks")
def blocks_filter(text: str) -> list[Block]:
    return blocks(text or "")


@register.filter
def chart(table: Table) -> SafeString:
    return grade_chart(table)


@register.filter
def lookup(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "")
