"""Forms of calls, callbacks, contacts, answers and the clinic's settings. They parse; the
services decide (and refuse in words), so a page and a test meet the same rules."""

from __future__ import annotations

from typing import Any

from django import forms

from frontdesk.inquiries.models import (
    ANSWER_MAX,
    MESSAGE_MAX,
    AnswerRoute,
    AttemptOutcome,
    CallerKind,
    Category,
    ContactRelationship,
    Disclosure,
    PatientContact,
)
from frontdesk.lib.choices import choose_first
from frontdesk.lib.ids import parse_id

PATIENT = "patient"
OTHER = "other"
CONTACT_PREFIX = "contact:"
# Longer than any message the services keep, so an enormous one is refused in words by the
# service rather than cut by the browser.
_TYPED_MAX = MESSAGE_MAX * 4


def caller_choices(contacts: list[PatientContact], *, with_patient: bool) -> list[tuple[str, str]]:
    choices: list[tuple[str, str]] = []
    if with_patient:
        choices.append((PATIENT, "The patient"))
    choices += [
        (
            f"{CONTACT_PREFIX}{c.pk}",
            f"{c.name} ({c.get_relationship_display().lower()})",
        )
        for c in contacts
    ]
    choices.append((OTHER, "Someone else (not on the patient's list)"))
    return choose_first(choices)


def caller_line_split(line: str) -> tuple[str, str, str]:
    """Someone else's name, relationship and number typed on one line ("Maria Alvarez,
    neighbour, (202) 555-0143") as (name, relationship, number): the parts are split at commas;
    a part with seven digits or more is the number, the first other part the name, the rest the
    relationship. A line without a comma is a name alone."""
    if "," not in line:
        return line.strip(), "", ""
    name, number, rest = "", "", []
    for part in (p.strip() for p in line.split(",")):
        if not part:
            continue
        if not number and sum(ch.isdigit() for ch in part) >= 7:
            number = part
        elif not name:
            name = part
        else:
            rest.append(part)
    return name, ", ".join(rest), number


class CallForm(forms.Form):
    # Not required: typing someone else's name is enough to say it is someone else.
    caller = forms.ChoiceField(label="Who is calling", required=False)
    caller_name = forms.CharField(
        label="Caller's name",
        required=False,
        max_length=400,
        help_text="Someone else? All on one line: “Maria Alvarez, neighbour, 202 555 0143”.",
    )
    caller_relationship = forms.CharField(
        label="Relationship to the patient", required=False, max_length=200
    )
    category = forms.ChoiceField(
        label="About",
        choices=choose_first(Category.choices),
        error_messages={"required": "Choose what the call is about."},
    )
    message = forms.CharField(
        label="Message (in the caller's words)",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=_TYPED_MAX,
    )
    callback_phone = forms.CharField(label="Call back on", required=False, max_length=60)
    preferred_time = forms.CharField(
        label="Best time to call", required=False, max_length=200, help_text="Such as “after 3 pm”."
    )
    callback_wanted = forms.BooleanField(label="Call back", required=False, initial=True)
    urgent = forms.BooleanField(label="Urgent", required=False)
    at_desk = forms.BooleanField(label="At the desk in person (not a phone call)", required=False)

    def __init__(
        self,
        *args: Any,
        contacts: list[PatientContact] | None = None,
        with_patient: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["caller"].choices = caller_choices(  # type: ignore[attr-defined]
            contacts or [], with_patient=with_patient
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name, relationship, number = caller_line_split(str(data.get("caller_name", "")))
        if relationship or number:
            # The one line wins over the fields it was not yet split into (no script).
            data["caller_name"] = name
            data["caller_relationship"] = relationship or data.get("caller_relationship", "")
            data["callback_phone"] = number or data.get("callback_phone", "")
        if not data.get("caller"):
            if name:
                data["caller"] = OTHER
            elif "caller" not in self.errors:
                self.add_error("caller", "Choose who is calling, or type the caller's name.")
        return data

    def caller_parts(self) -> tuple[str, int | None]:
        """The caller's kind and, for a recorded contact, its id."""
        return caller_choice_parts(str(self.cleaned_data.get("caller", "")))


def caller_choice_parts(value: str) -> tuple[str, int | None]:
    """The caller's kind and, for a recorded contact, its id, from the "Who is calling" choice:
    the patient, `contact:<id>`, or anything else (someone else, or not yet chosen)."""
    if value == PATIENT:
        return CallerKind.PATIENT, None
    if value.startswith(CONTACT_PREFIX):
        return CallerKind.CONTACT, parse_id(value.removeprefix(CONTACT_PREFIX))
    return CallerKind.OTHER, None


class AttemptForm(forms.Form):
    outcome = forms.ChoiceField(label="How it went", choices=choose_first(AttemptOutcome.choices))
    note = forms.CharField(label="Note (no clinical details)", required=False, max_length=2000)
    next_due = forms.DateTimeField(
        label="Try again at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Leave empty for the clinic's usual pause.",
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Answer", widget=forms.Textarea(attrs={"rows": 5}), max_length=ANSWER_MAX * 4
    )
    route = forms.ChoiceField(
        label="How it reaches the patient", choices=choose_first(AnswerRoute.choices)
    )


class RelayForm(forms.Form):
    note = forms.CharField(label="Note (optional)", required=False, max_length=2000)


class ContactForm(forms.Form):
    name = forms.CharField(label="Name", max_length=400)
    relationship = forms.ChoiceField(
        label="Relationship", choices=choose_first(ContactRelationship.choices)
    )
    phone = forms.CharField(label="Phone", required=False, max_length=60)
    may_hear = forms.ChoiceField(label="May be told", choices=choose_first(Disclosure.choices))
    valid_until = forms.DateField(
        label="Valid until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Empty: until the patient withdraws it.",
    )
    note = forms.CharField(label="Note", required=False, max_length=600)


class UsualProviderForm(forms.Form):
    provider = forms.ChoiceField(label="Usual provider", required=False)

    def __init__(self, *args: Any, providers: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = choose_first(  # type: ignore[attr-defined]
            (str(pk), name) for pk, name in providers or []
        )


def _minutes(label: str, low: int, high: int) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=low, max_value=high)


class SettingsForm(forms.Form):
    callback_max_attempts = _minutes("Callback attempts before the supervisor takes it", 1, 10)
    callback_retry_minutes = _minutes("Minutes between callback attempts", 5, 1440)
    callback_routine_hours = _minutes("Routine callback within (hours)", 1, 72)
    callback_urgent_minutes = _minutes("Urgent callback within (minutes)", 5, 240)
    question_urgent_minutes = _minutes("Urgent medical question answered within (minutes)", 5, 240)
    question_routine_business_days = _minutes(
        "Routine medical question answered within (business days)", 1, 5
    )
    red_flag_phrases = forms.CharField(
        label="Red-flag phrases",
        widget=forms.Textarea(attrs={"rows": 14}),
        max_length=40_000,
        help_text=(
            "One a line. Matched whatever the capitals, with plurals and small typos. A line "
            "starting “re:” is a pattern (RE2 syntax)."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
