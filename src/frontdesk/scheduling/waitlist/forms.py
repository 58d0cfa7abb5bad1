"""The form that puts a patient on the waitlist, and changes what they wait for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.lib.ids import IdChoiceField, IdMultipleChoiceField
from frontdesk.patients.forms import ClinicDateField
from frontdesk.scheduling.forms import WEEKDAYS
from frontdesk.scheduling.models import (
    Appointment,
    WaitlistEntry,
    WaitlistPriority,
    WaitlistTimeOfDay,
)
from frontdesk.scheduling.waitlist.terms import EntryRequest

DEFAULT_WEEKS = 6


class WaitlistEntryForm(forms.Form):
    appointment_type = IdChoiceField(
        label="Type of visit",
        queryset=AppointmentType.objects.none(),
        what="the type of visit",
    )
    providers = IdMultipleChoiceField(
        label="Providers (none ticked: any)",
        queryset=Provider.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose providers from the list."},
    )
    location = IdChoiceField(
        label="Location",
        queryset=Location.objects.none(),
        required=False,
        empty_label="Any",
        error_messages={"invalid_choice": "Choose the location from the list."},
    )
    earliest_date = ClinicDateField(label="From")
    latest_date = ClinicDateField(label="Until")
    weekdays = forms.MultipleChoiceField(
        label="Days (none ticked: any)",
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    time_of_day = forms.ChoiceField(
        label="Time of day", choices=[("", "Any time"), *WaitlistTimeOfDay.choices], required=False
    )
    priority = forms.TypedChoiceField(
        label="Priority",
        choices=WaitlistPriority.choices,
        coerce=int,
        initial=WaitlistPriority.ROUTINE,
    )
    note = forms.CharField(label="Note", max_length=200, required=False)

    def __init__(
        self, *args: Any, clinic_id: int, current: Appointment | None = None, **kwargs: Any
    ) -> None:
        if not args or args[0] is None:
            today = timezone.localdate()
            latest = today + dt.timedelta(weeks=DEFAULT_WEEKS)
            if current is not None:
                latest = timezone.localtime(current.start).date()
            kwargs.setdefault(
                "initial",
                {
                    "earliest_date": today,
                    "latest_date": max(today, latest),
                    "appointment_type": current.appointment_type_id if current else None,
                    # None ticked means any provider, as the label says: a patient moving
                    # their booking earlier is offered any provider unless the desk ticks one.
                    "providers": [],
                },
            )
        super().__init__(*args, **kwargs)
        self.current = current
        fields = self.fields
        for name, queryset in (
            ("appointment_type", AppointmentType.objects.filter(clinic_id=clinic_id)),
            ("providers", Provider.objects.filter(clinic_id=clinic_id, is_active=True)),
            ("location", Location.objects.filter(clinic_id=clinic_id).order_by("name")),
        ):
            field = fields[name]
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = queryset

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        earliest, latest = data.get("earliest_date"), data.get("latest_date")
        if earliest and latest:
            if latest < earliest:
                self.add_error("latest_date", "The last day must be on or after the first day.")
            elif latest < timezone.localdate():
                self.add_error("latest_date", "The last day has already passed.")
        kind = data.get("appointment_type")
        if self.current is not None and kind is not None and kind != self.current.appointment_type:
            self.add_error(
                "appointment_type",
                "To move the booked appointment earlier, wait for the same type of visit "
                f"({self.current.appointment_type.name}).",
            )
        return data

    def entry_request(self) -> EntryRequest:
        data = self.cleaned_data
        return EntryRequest(
            appointment_type=data["appointment_type"],
            providers=list(data.get("providers") or []),
            location=data.get("location"),
            earliest_date=data["earliest_date"],
            latest_date=data["latest_date"],
            weekdays=list(data.get("weekdays") or []),
            time_of_day=data.get("time_of_day") or "",
            priority=int(data["priority"]),
            note=data.get("note") or "",
            current_appointment=self.current,
        )


def entry_initial(entry: WaitlistEntry) -> dict[str, Any]:
    """The change form filled in with what an entry waits for now."""
    return {
        "appointment_type": entry.appointment_type_id,
        "providers": [p.pk for p in entry.providers.all()],
        "location": entry.location_id,
        "earliest_date": entry.earliest_date,
        "latest_date": entry.latest_date,
        "weekdays": list(entry.weekdays),
        "time_of_day": entry.time_of_day,
        "priority": entry.priority,
        "note": entry.note,
    }
