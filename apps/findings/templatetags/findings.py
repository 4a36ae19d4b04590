from typing import Any

from django import template

register = template.Library()


@register.filter
def lookup(mapping: dict[str, Any], key: str) -> Any:
    """mapping[key] in a template (0 when missing)."""
    return mapping.get(key, 0)
