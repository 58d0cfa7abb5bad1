from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet

from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.patients.forms import ClinicDateField
from frontdesk.scheduling.models import CancelledBy

WEEKDAYS = [
    (str(i), name) for i, name in enumerate(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
]


class FindForm(forms.Form):
    appointment_type = forms.ModelChoiceField(
        label="Type of visit",
        queryset=AppointmentType.objects.none(),
        error_messages={
            "required": "Choose the type of visit.",
            "invalid_choice": "Choose the type of visit from the list.",
        },
    )
    provider = forms.ModelChoiceField(
        label="Provider", queryset=Provider.objects.none(), required=False, empty_label="Any"
    )
    location = forms.ModelChoiceField(
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

    @staticmethod
    def _narrow(field: forms.Field, queryset: QuerySet[Any]) -> None:
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = queryset


class CancelForm(forms.Form):
    cancelled_by = forms.ChoiceField(label="Who cancelled", choices=CancelledBy.choices)
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        error_messages={"required": "Say why the appointment is cancelled."},
    )


def parse_start(value: str) -> dt.datetime | None:
    """An ISO datetime with offset from a slot button; None when it is not one."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None
