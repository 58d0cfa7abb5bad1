from __future__ import annotations

from typing import Any

from django import forms

from frontdesk.flow.models import Priority


class CheckInForm(forms.Form):
    """Check-in: the identity read-back is confirmed; stale facts can be fixed right here."""

    identity_confirmed = forms.BooleanField(
        label="The patient confirmed their name and birth date as read back",
        error_messages={"required": "Read the name and birth date back to the patient first."},
    )
    confirm_address = forms.BooleanField(
        label="The patient confirmed this address is current", required=False
    )
    consent_signed = forms.BooleanField(
        label="The patient signed the consent to treatment today", required=False
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    priority_reason = forms.CharField(
        label="Why urgent or emergency", max_length=200, required=False, strip=True
    )

    def __init__(self, *args: Any, outstanding: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "address" not in outstanding:
            del self.fields["confirm_address"]
        if "consent" not in outstanding:
            del self.fields["consent_signed"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("priority", Priority.NORMAL) != Priority.NORMAL and not data.get(
            "priority_reason"
        ):
            self.add_error("priority_reason", "Say why this patient cannot wait their turn.")
        return data
