from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.lib.choices import choose_first
from frontdesk.lib.ids import IdChoiceField
from frontdesk.patients.forms import ClinicDateField
from frontdesk.scheduling.availability import provider_label
from frontdesk.scheduling.forms import WEEKDAYS
from frontdesk.scheduling.models import CancelledBy, Schedule
from frontdesk.scheduling.series.plan import (
    MAX_INTERVAL_WEEKS,
    MAX_VISITS,
    SeriesPlan,
    SeriesPlanError,
    series_plan,
)


def _number(label: str, *, required: bool, **kwargs: Any) -> forms.IntegerField:
    field = forms.IntegerField(label=label, required=required, **kwargs)
    field.error_messages["invalid"] = "Type a whole number, for example 8."
    return field


class SeriesForm(forms.Form):
    """What a series is: the visit, where, the first date and time, how it repeats, how long."""

    appointment_type = IdChoiceField(
        label="Type of visit",
        queryset=AppointmentType.objects.none(),
        what="the type of visit",
    )
    provider = IdChoiceField(
        label="Provider",
        queryset=Provider.objects.none(),
        what="the provider",
    )
    location = IdChoiceField(
        label="Location",
        queryset=Location.objects.none(),
        what="the location",
    )
    first_date = ClinicDateField(
        label="First visit on", error_messages={"required": "Give the date of the first visit."}
    )
    first_time = forms.TimeField(
        label="At",
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": "Give the time of the visits.",
            "invalid": "Type the time as HH:MM, for example 09:30.",
        },
    )
    interval = _number(
        "Every how many weeks",
        required=True,
        initial=1,
        help_text=f"1 for weekly, 2 for every other week; at most {MAX_INTERVAL_WEEKS}.",
    )
    weekdays = forms.MultipleChoiceField(
        label="On",
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: the weekday of the first visit. Visits begin on the first "
        "ticked day on or after the first date.",
        error_messages={"invalid_choice": "Choose the days from the list."},
    )
    count = _number(
        "Number of visits", required=False, help_text=f"Or a last date; at most {MAX_VISITS}."
    )
    until = ClinicDateField(label="Last date", required=False)

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic_id = clinic_id
        self.plan: SeriesPlan | None = None
        for name, queryset in (
            ("appointment_type", AppointmentType.objects.filter(clinic_id=clinic_id)),
            ("provider", Provider.objects.filter(clinic_id=clinic_id, is_active=True)),
            ("location", Location.objects.filter(clinic_id=clinic_id)),
        ):
            found = self.fields[name]
            if isinstance(found, forms.ModelChoiceField):
                found.queryset = queryset.order_by(
                    *(("family_name", "given_name") if name == "provider" else ("name",))
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        provider, location = data["provider"], data["location"]
        schedule = (
            Schedule.objects.filter(
                clinic_id=self.clinic_id, provider=provider, location=location, is_active=True
            )
            .select_related("provider", "location")
            .first()
        )
        if schedule is None:
            self.add_error(
                "location",
                f"{provider_label(provider)} does not take bookings at {location.name}. "
                "Choose another location or provider.",
            )
            return data
        try:
            self.plan = series_plan(
                schedule=schedule,
                appointment_type=data["appointment_type"],
                first_date=data["first_date"],
                first_time=data["first_time"],
                interval=data["interval"],
                weekdays=frozenset(int(day) for day in data.get("weekdays") or []),
                count=data.get("count"),
                until=data.get("until"),
                now=timezone.now(),
            )
        except SeriesPlanError as exc:
            self.add_error(exc.field, exc.message)
        return data


class SeriesCancelForm(forms.Form):
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
        error_messages={"required": "Say why the rest of the series is cancelled."},
    )
