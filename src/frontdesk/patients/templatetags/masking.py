from __future__ import annotations

import datetime as dt

from django import template

from frontdesk.lib.masking import mask_birth_date, mask_phone

register = template.Library()


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value) if value else "—"


@register.filter
def masked_birth_date(value: dt.date) -> str:
    return mask_birth_date(value)
