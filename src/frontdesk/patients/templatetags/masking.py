from __future__ import annotations

import datetime as dt

import phonenumbers
from django import template
from django.conf import settings
from django.utils import timezone

from frontdesk.lib.masking import age_on, mask_birth_date, mask_document_number, mask_phone

register = template.Library()


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value) if value else "—"


@register.filter
def masked_birth_date(value: dt.date) -> str:
    return mask_birth_date(value)


@register.filter
def age_today(value: dt.date) -> int:
    """Age in whole years today, in the clinic's zone."""
    return age_on(value, timezone.localdate())


@register.filter
def masked_document_number(value: str) -> str:
    return mask_document_number(value) if value else "—"


@register.filter
def phone_display(value: str) -> str:
    """E.164 as people write it: (202) 555-0143 in the home numbering plan, +44 20 7183 8750
    from abroad."""
    if not value:
        return "—"
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    # By calling code, not region: a number in an unassigned area code of the home plan has no
    # region, and is still dialled as a home number.
    home = number.country_code == phonenumbers.country_code_for_region(settings.PHONE_REGION)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(number, style))
