"""Forms of the schedule set-up pages. They parse and check single fields; rules that need the
database or the clock (clashes, the past, daylight-saving gaps) are the services' (setup.py)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import QuerySet

from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.lib.ids import IdChoiceField, IdMultipleChoiceField
from frontdesk.lib.rrule import simple_weekly, weekly_rule
from frontdesk.patients.forms import ClinicDateField
from frontdesk.scheduling.models import BlockKind, Schedule, ScheduleTemplate
from frontdesk.scheduling.setup.templates import TemplateInput

WEEKDAYS = [
    (str(i), name)
    for i, name in enumerate(
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    )
]
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
TIME_FORMATS = ["%H:%M", "%H.%M", "%I:%M %p", "%I:%M%p", "%I %p", "%I%p", "%H%M", "%H"]


def _whole(
    label: str,
    *,
    low: int,
    high: int,
    unit: str,
    required: bool = True,
    help_text: str = "",
    initial: int | None = None,
) -> forms.IntegerField:
    words = f"Type a whole number of {unit} from {low} to {high}."
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        required=required,
        help_text=help_text,
        initial=initial,
        error_messages={
            "required": f"Type the {label.lower()}.",
            "invalid": words,
            "min_value": words,
            "max_value": words,
        },
    )


class ClinicTimeField(forms.TimeField):
    """A wall-clock time in the clinic, typed as 09:00, 9:00 AM or 0900."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", TIME_FORMATS)
        kwargs.setdefault("widget", forms.TimeInput(format="%H:%M", attrs={"placeholder": "HH:MM"}))
        super().__init__(**kwargs)
        self.error_messages["invalid"] = "Type the time as HH:MM, for example 09:00 or 14:30."
        self.error_messages["required"] = f"Type the {str(kwargs.get('label', 'time')).lower()}."


def _narrow(field: forms.Field, queryset: QuerySet[Any]) -> None:
    if isinstance(field, forms.ModelChoiceField):
        field.queryset = queryset


def _providers(clinic_id: int) -> QuerySet[Provider]:
    return Provider.objects.filter(clinic_id=clinic_id, is_active=True).order_by(
        "family_name", "given_name"
    )


class AppointmentTypeForm(forms.ModelForm):  # type: ignore[type-arg]
    patient_kind = forms.ChoiceField(
        label="Who it is for",
        choices=[("follow_up", "Patients already seen here"), ("new", "New patients")],
        widget=forms.RadioSelect,
        initial="follow_up",
    )
    duration_minutes = _whole("Duration", low=5, high=480, unit="minutes")
    buffer_before_minutes = _whole(
        "Buffer before",
        low=0,
        high=120,
        unit="minutes",
        initial=0,
        help_text="Time the provider needs before the visit (preparing the room).",
    )
    buffer_after_minutes = _whole(
        "Buffer after",
        low=0,
        high=120,
        unit="minutes",
        initial=0,
        help_text="Time the provider needs after the visit (notes, cleaning).",
    )
    grace_minutes = _whole(
        "Grace minutes",
        low=0,
        high=60,
        unit="minutes",
        initial=10,
        help_text="How late a patient may arrive and still be seen.",
    )
    daily_limit = _whole(
        "Most per provider per day",
        low=1,
        high=100,
        unit="appointments",
        required=False,
        help_text="Leave empty for no limit.",
    )
    follow_up_interval_days = _whole(
        "Follow-up after",
        low=1,
        high=730,
        unit="days",
        required=False,
        help_text="Days until the usual follow-up visit; empty when there is none.",
    )
    colour = forms.CharField(
        label="Colour",
        initial="#4f6d8f",
        widget=forms.TextInput(attrs={"type": "color"}),
        error_messages={"required": "Choose a colour."},
    )

    class Meta:
        model = AppointmentType
        fields = [
            "name",
            "duration_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "colour",
            "preparation",
            "daily_limit",
            "telehealth",
            "grace_minutes",
            "follow_up_interval_days",
            "allowed_providers",
        ]
        labels = {
            "preparation": "Preparation instructions",
            "telehealth": "Held by video (telehealth)",
            "allowed_providers": "Providers who see it",
        }
        help_texts = {
            "preparation": "Sent to the patient with the booking, e.g. fast for 8 hours.",
            "allowed_providers": "Tick none for every provider.",
        }
        widgets = {
            "allowed_providers": forms.CheckboxSelectMultiple,
            "preparation": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {"name": {"required": "Type the name of the appointment type."}}

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _narrow(self.fields["allowed_providers"], _providers(clinic_id))
        self.fields["allowed_providers"].error_messages["invalid_choice"] = (
            "Choose providers from the list."
        )
        if self.instance.pk is not None:
            self.initial["patient_kind"] = "new" if self.instance.is_new_patient else "follow_up"

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data.get("name", "")).split())
        if not name:
            raise forms.ValidationError("Type the name of the appointment type.")
        return name

    def clean_colour(self) -> str:
        colour = str(self.cleaned_data.get("colour", "")).strip()
        if not _COLOUR.fullmatch(colour):
            raise forms.ValidationError("Choose a colour, or type it as # and six hex digits.")
        return colour.lower()


class TemplateForm(forms.Form):
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
    weekdays = forms.MultipleChoiceField(
        label="Days",
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Tick days from the list."},
    )
    every_weeks = forms.TypedChoiceField(
        label="Repeats",
        coerce=int,
        choices=[
            (1, "Every week"),
            (2, "Every 2 weeks"),
            (3, "Every 3 weeks"),
            (4, "Every 4 weeks"),
        ],
        initial=1,
        error_messages={"invalid_choice": "Choose how often from the list."},
    )
    rrule = forms.CharField(
        label="Or a recurrence rule (advanced)",
        required=False,
        max_length=200,
        help_text="RFC 5545, e.g. FREQ=MONTHLY;BYDAY=1TU for the first Tuesday of each month. "
        "Used instead of the days ticked above.",
        error_messages={"max_length": "The rule is too long; keep it under 200 characters."},
    )
    start_time = ClinicTimeField(label="Start time")
    end_time = ClinicTimeField(label="End time")
    valid_from = ClinicDateField(
        label="First day", error_messages={"required": "Type the first day."}
    )
    valid_until = ClinicDateField(
        label="Last day", required=False, help_text="Leave empty to keep it running."
    )
    slot_minutes = _whole(
        "Slot length",
        low=5,
        high=120,
        unit="minutes",
        initial=15,
        help_text="The grid appointments start on.",
    )
    overbook_cap = _whole(
        "Overbooking allowed",
        low=0,
        high=20,
        unit="appointments",
        initial=0,
        help_text="Extra patients a supervisor may squeeze into one session.",
    )

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _narrow(self.fields["provider"], _providers(clinic_id))
        _narrow(
            self.fields["location"], Location.objects.filter(clinic_id=clinic_id).order_by("name")
        )

    @classmethod
    def initial_for(cls, template: ScheduleTemplate) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "provider": template.schedule.provider_id,
            "location": template.schedule.location_id,
            "start_time": template.start_time,
            "end_time": template.end_time,
            "valid_from": template.valid_from,
            "valid_until": template.valid_until,
            "slot_minutes": template.slot_minutes,
            "overbook_cap": template.overbook_cap,
        }
        simple = simple_weekly(template.rrule)
        if simple is None:
            initial["rrule"] = template.rrule
        else:
            initial["weekdays"] = [str(d) for d in simple[0]]
            initial["every_weeks"] = simple[1]
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed = str(data.get("rrule") or "").strip()
        days = data.get("weekdays") or []
        if typed and days:
            self.add_error("rrule", "Tick days or type a rule, not both.")
        elif not typed and not days and "weekdays" not in self.errors:
            self.add_error("weekdays", "Tick the days of the week, or type a recurrence rule.")
        elif days:
            data["rrule"] = weekly_rule(
                (int(d) for d in days), interval=data.get("every_weeks") or 1
            )
        start, end = data.get("start_time"), data.get("end_time")
        if start is not None and end is not None and end <= start:
            self.add_error("end_time", "The end time must be after the start time.")
        first, last = data.get("valid_from"), data.get("valid_until")
        if first is not None and last is not None and last < first:
            self.add_error("valid_until", "The last day must be on or after the first day.")
        return data

    def template_input(self) -> TemplateInput:
        data = self.cleaned_data
        return TemplateInput(
            provider=data["provider"],
            location=data["location"],
            rrule=data["rrule"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            valid_from=data["valid_from"],
            valid_until=data.get("valid_until"),
            slot_minutes=data["slot_minutes"],
            overbook_cap=data["overbook_cap"],
        )


def schedule_label(schedule: Schedule) -> str:
    return f"{schedule.provider} at {schedule.location.name}"


class ScheduleChoiceField(IdChoiceField):
    def label_from_instance(self, obj: Schedule) -> str:
        return schedule_label(obj)


class BlockForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the time is for",
        choices=[
            (BlockKind.RESERVED.value, "Reserved for certain appointment types"),
            (BlockKind.ADHOC.value, "Blocked (no bookings)"),
        ],
        widget=forms.RadioSelect,
        initial=BlockKind.RESERVED.value,
        error_messages={
            "required": "Choose reserved or blocked time.",
            "invalid_choice": "Choose reserved or blocked time.",
        },
    )
    schedule = ScheduleChoiceField(
        label="Provider and location",
        queryset=Schedule.objects.none(),
        what="the provider and location",
    )
    day = ClinicDateField(label="Date", error_messages={"required": "Type the date."})
    start_time = ClinicTimeField(label="From")
    end_time = ClinicTimeField(label="Until")
    repeat_until = ClinicDateField(
        label="Repeat weekly until",
        required=False,
        help_text="Same weekday and hours every week up to this date; empty for once.",
    )
    appointment_types = IdMultipleChoiceField(
        label="Reserved for",
        queryset=AppointmentType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose appointment types from the list."},
    )
    release_days_before = _whole(
        "Open to any type",
        low=0,
        high=365,
        unit="days",
        required=False,
        help_text="Days before the date when unused reserved time opens to every type; "
        "empty keeps it reserved.",
    )
    reason = forms.CharField(label="Reason", required=False, max_length=200)

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _narrow(
            self.fields["schedule"],
            Schedule.objects.filter(clinic_id=clinic_id, is_active=True)
            .select_related("provider", "location")
            .order_by("provider__family_name", "provider__given_name", "location__name"),
        )
        _narrow(
            self.fields["appointment_types"],
            AppointmentType.objects.filter(clinic_id=clinic_id).order_by("name"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_time"), data.get("end_time")
        if start is not None and end is not None and end <= start:
            self.add_error("end_time", "The block must end after it starts.")
        if (
            data.get("kind") == BlockKind.RESERVED
            and not data.get("appointment_types")
            and "appointment_types" not in self.errors
        ):
            self.add_error(
                "appointment_types", "Choose the appointment types this time is reserved for."
            )
        day, until = data.get("day"), data.get("repeat_until")
        if day is not None and until is not None and until < day:
            self.add_error("repeat_until", "Repeat until must be on or after the date.")
        return data


class LeaveForm(forms.Form):
    provider = IdChoiceField(
        label="Provider",
        queryset=Provider.objects.none(),
        what="the provider",
    )
    first_day = ClinicDateField(
        label="First day away", error_messages={"required": "Type the first day."}
    )
    last_day = ClinicDateField(
        label="Last day away", error_messages={"required": "Type the last day."}
    )
    reason = forms.CharField(label="Reason", required=False, max_length=200)

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _narrow(self.fields["provider"], _providers(clinic_id))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first_day"), data.get("last_day")
        if first is not None and last is not None and last < first:
            self.add_error("last_day", "The last day must be on or after the first day.")
        return data


class HolidayForm(forms.Form):
    date = ClinicDateField(label="Date", error_messages={"required": "Type the date."})
    name = forms.CharField(
        label="Name",
        max_length=100,
        error_messages={
            "required": "Type the holiday's name, e.g. Thanksgiving.",
            "max_length": "Keep the name under 100 characters.",
        },
    )

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data.get("name", "")).split())
        if not name:
            raise forms.ValidationError("Type the holiday's name, e.g. Thanksgiving.")
        return name


class CalendarTitleForm(forms.Form):
    title = forms.CharField(
        label="Title of each visit in calendar feeds",
        max_length=100,
        help_text=(
            "Providers' calendar apps show every visit under this title. Keep it neutral, "
            "such as Appointment: a type of visit can reveal a diagnosis."
        ),
        error_messages={
            "required": "Type a title, such as Appointment.",
            "max_length": "Keep the title under 100 characters.",
        },
    )
