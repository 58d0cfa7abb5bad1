from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from frontdesk.flow.models import LateChoice, Priority
from frontdesk.patients.forms import ClinicDateField
from frontdesk.patients.validation import clean_birth_date, clean_person_name, clean_phone


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

    late_choice = forms.ChoiceField(
        label="The patient is past the grace period",
        choices=LateChoice.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose: see with delay, or reschedule."},
    )

    def __init__(
        self, *args: Any, outstanding: set[str], late: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if not late:
            del self.fields["late_choice"]
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


class WalkInForm(forms.Form):
    """The fewest fields that identify a walk-in; the rest of the record is completed later."""

    given_name = forms.CharField(label="Given (first) name", max_length=100)
    family_name = forms.CharField(label="Family (last) name", max_length=100)
    birth_date = ClinicDateField(label="Birth date")
    phone = forms.CharField(label="Phone", max_length=30, required=False)
    queue = forms.TypedChoiceField(label="Queue", coerce=int)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    priority_reason = forms.CharField(
        label="Why urgent or emergency", max_length=200, required=False, strip=True
    )
    not_a_duplicate_reason = forms.CharField(
        label="Not one of these patients, because",
        max_length=200,
        required=False,
        strip=True,
    )

    def __init__(self, *args: Any, queues: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["queue"].choices = queues  # type: ignore[attr-defined]

    def clean_given_name(self) -> str:
        return clean_person_name(self.cleaned_data["given_name"], label="Given name")

    def clean_family_name(self) -> str:
        return clean_person_name(self.cleaned_data["family_name"], label="Family name")

    def clean_birth_date(self) -> dt.date:
        return clean_birth_date(self.cleaned_data["birth_date"], today=timezone.localdate())

    def clean_phone(self) -> str:
        value = self.cleaned_data.get("phone", "")
        return clean_phone(value, region=settings.PHONE_REGION) if value else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("priority", Priority.NORMAL) != Priority.NORMAL and not data.get(
            "priority_reason"
        ):
            self.add_error("priority_reason", "Say why this patient cannot wait their turn.")
        return data
