"""The clinic's settings for calls and questions: stored, or the defaults until first saved."""

from __future__ import annotations

from django.utils import timezone

from frontdesk.inquiries.models import InquirySettings
from frontdesk.inquiries.red_flags import DEFAULT_RED_FLAGS, phrases_parse


def inquiry_settings(clinic_id: int) -> InquirySettings:
    """The clinic's row, or an unsaved one holding the defaults (one query)."""
    stored = InquirySettings.objects.filter(clinic_id=clinic_id).first()
    if stored is not None:
        return stored
    return InquirySettings(
        clinic_id=clinic_id, red_flag_phrases=DEFAULT_RED_FLAGS, updated_at=timezone.now()
    )


def red_flag_list(settings_row: InquirySettings) -> list[str]:
    return phrases_parse(settings_row.red_flag_phrases)
