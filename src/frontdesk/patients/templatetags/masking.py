from __future__ import annotations

from django import template

from frontdesk.lib.masking import mask_phone

register = template.Library()


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value) if value else "—"
