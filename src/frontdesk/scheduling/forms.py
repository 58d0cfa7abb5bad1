from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.lib.choices import choose_first
from frontdesk.lib.ids import IdChoiceField
from frontdesk.patients.forms import ClinicDateField
from frontdesk.scheduling.models import CancelledBy

WEEKDAYS = [
    (str(i), name) for i, name in enumerate(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
]


class FindForm(forms.Form):
    appointment_type = IdChoiceField(
        label="Type of visit",
        queryset=AppointmentType.objects.none(),
        what="the type of visit",
    )
    provider = IdChoiceField(
        label="Provider", queryset=Provider.objects.none(), required=False, empty_label="Any"
    )
    location = IdChoiceField(
        label="Location", queryset=Location.objects.none(), required=False, empty_label="Any"
    )
    date_from = ClinicDateField(label="From", required=False)
    weekdays = forms.MultipleChoiceField(
        label="Days", choices=WEEKDAYS, required=False, widget=forms.CheckboxSelectMultiple
    )
    time_of_day = forms.ChoiceField(
        label="Time of day",
        choices=[("", "Any time"), ("morning", "Morning"), ("afternoon", "Afternoon")],
        required=False,
    )

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.fields
        self._narrow(
            fields["appointment_type"],
            AppointmentType.objects.filter(clinic_id=clinic_id).order_by("name"),
        )
        self._narrow(
            fields["provider"], Provider.objects.filter(clinic_id=clinic_id, is_active=True)
        )
        self._narrow(
            fields["location"], Location.objects.filter(clinic_id=clinic_id).order_by("name")
        )

    def clean_date_from(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("date_from")
        if day is not None and day > timezone.localdate() + FIND_HORIZON:
            raise forms.ValidationError("Search from a date within the next two years.")
        return day

    @staticmethod
    def _narrow(field: forms.Field, queryset: QuerySet[Any]) -> None:
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = queryset


class BookDetailsForm(forms.Form):
    """What the officer adds to a booking at its confirmation. Staff pages only: the reason can
    reveal a diagnosis, so no reminder or calendar feed carries either."""

    reason = forms.CharField(
        label="Reason for the visit (optional)",
        max_length=100,
        required=False,
        error_messages={
            "max_length": "Keep the reason to 100 characters; put the rest in the note."
        },
    )
    note = forms.CharField(
        label="Note for staff (optional)",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "Keep the note to 300 characters."},
    )


class CancelForm(forms.Form):
    cancelled_by = forms.ChoiceField(
        label="Who cancelled",
        choices=choose_first(CancelledBy.choices),
        error_messages={
            "required": "Choose who cancelled: the patient, the provider or the clinic."
        },
    )
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        error_messages={"required": "Say why the appointment is cancelled."},
    )


# How far ahead "find a time" may start looking.
FIND_HORIZON = dt.timedelta(days=2 * 366)

# Dates a calendar page or a booking link may name. Python's own limits (years 1 and 9999)
# overflow as soon as a page adds a day or a week to them.
CALENDAR_YEARS = range(1900, 2201)


def calendar_date(value: str | None) -> dt.date | None:
    """A linked or typed ISO date within CALENDAR_YEARS; None otherwise."""
    try:
        parsed = dt.date.fromisoformat(value or "")
    except ValueError:
        return None
    return parsed if parsed.year in CALENDAR_YEARS else None


def parse_start(value: str) -> dt.datetime | None:
    """An ISO datetime with offset from a slot button; None when it is not one."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None or parsed.year not in CALENDAR_YEARS:
        return None
    return parsed
