from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from frontdesk.complaints.models import TEXT_MAX, Category, Severity
from frontdesk.complaints.selectors import staff_of_clinic_active, supervisors_of_clinic
from frontdesk.lib.choices import choose_first
from frontdesk.lib.ids import IdChoiceField, IdMultipleChoiceField
from frontdesk.patients.forms import ClinicDateField
from frontdesk.patients.models import Patient


class StaffChoiceField(IdChoiceField):
    """One member of the clinic's staff, by name."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.username)


class StaffMultipleChoiceField(IdMultipleChoiceField):
    """Members of the clinic's staff, by name and role."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_full_name() or obj.username} ({obj.role_label})"


def _narrow(field: forms.Field, queryset: QuerySet[Any]) -> None:
    if isinstance(field, forms.ModelChoiceField):
        field.queryset = queryset


_NOT_STAFF = "A member of staff you chose is not on this clinic's staff; choose from the list."


def _long_text(label: str, *, required: bool, what: str, rows: int = 4) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={
            "required": f"Write {what}.",
            "max_length": f"Keep {what} under {TEXT_MAX:,} characters.",
        },
    )


class ComplaintForm(forms.Form):
    """A complaint as the officer hears it, with the patient still at the desk."""

    patient = IdChoiceField(
        queryset=Patient.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That patient is not on file; find them again."},
    )
    complainant = forms.CharField(
        label="Who complained, if not the patient on file",
        required=False,
        max_length=200,
        help_text="Leave empty for an anonymous visitor.",
        error_messages={"max_length": "Keep the name under 200 characters."},
    )
    occurred_on = ClinicDateField(
        label="When it happened", error_messages={"required": "Type the day it happened."}
    )
    category = forms.ChoiceField(
        label="What it is about",
        choices=choose_first(Category.choices),
        error_messages={
            "required": "Choose what the complaint is about.",
            "invalid_choice": "Choose what the complaint is about from the list.",
        },
    )
    severity = forms.ChoiceField(
        label="Severity",
        choices=choose_first(Severity.choices),
        error_messages={
            "required": "Choose how serious it is.",
            "invalid_choice": "Choose how serious it is from the list.",
        },
    )
    what_happened = _long_text("What happened", required=True, what="what happened", rows=6)
    staff_involved = StaffMultipleChoiceField(
        label="Staff involved",
        queryset=staff_of_clinic_active(None),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _NOT_STAFF, "invalid_pk_value": _NOT_STAFF},
    )
    patient_wants = _long_text(
        "What the patient wants", required=False, what="what the patient wants", rows=3
    )
    resolved_at_desk = forms.ChoiceField(
        label="Resolved at the desk?",
        choices=[("yes", "Yes: the patient is satisfied"), ("no", "No: escalate it")],
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether it was resolved at the desk."},
    )
    apologised = forms.BooleanField(label="We apologised", required=False)
    explained = forms.BooleanField(label="We explained what happened", required=False)
    desk_action = _long_text(
        "What was done at the desk", required=False, what="what was done", rows=2
    )
    owner = StaffChoiceField(
        label="Owner (if not resolved)",
        queryset=supervisors_of_clinic(None),
        required=False,
        empty_label="Supervisors' pool",
        error_messages={"invalid_choice": "Choose the owner from the clinic's supervisors."},
    )

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _narrow(
            self.fields["patient"],
            Patient.objects.filter(clinic_id=clinic_id, merged_into__isnull=True),
        )
        _narrow(self.fields["staff_involved"], staff_of_clinic_active(clinic_id))
        _narrow(self.fields["owner"], supervisors_of_clinic(clinic_id))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("resolved_at_desk") == "yes" and not (
            data.get("apologised") or data.get("explained") or data.get("desk_action")
        ):
            self.add_error(
                "desk_action",
                "Say what resolved it: tick the apology or the explanation, or write what was "
                "done.",
            )
        return data


class AssignForm(forms.Form):
    owner = StaffChoiceField(
        label="Owner",
        queryset=supervisors_of_clinic(None),
        required=False,
        empty_label="Supervisors' pool",
        error_messages={"invalid_choice": "Choose the owner from the clinic's supervisors."},
    )
    response_due = ClinicDateField(label="Written response due by", required=False)

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _narrow(self.fields["owner"], supervisors_of_clinic(clinic_id))


class NoteForm(forms.Form):
    text = _long_text("Note", required=True, what="the note", rows=3)


class AcknowledgeForm(forms.Form):
    note = _long_text(
        "How the patient was told (optional)", required=False, what="the note", rows=2
    )
    letter = forms.BooleanField(
        label="Write the acknowledgement letter (filed to the patient's chart, to print)",
        required=False,
    )


class ResponseForm(forms.Form):
    body = _long_text(
        "The response, as the letter will say it", required=True, what="the response", rows=12
    )


class PrivacyReviewForm(forms.Form):
    finding = _long_text("Finding", required=True, what="the finding", rows=4)


class ComplaintSettingsForm(forms.Form):
    acknowledge_business_days = forms.IntegerField(
        label="Acknowledge within (business days)",
        min_value=1,
        max_value=30,
        error_messages={
            "required": "Type a number of business days.",
            "invalid": "Type a whole number of business days.",
            "min_value": "Acknowledge within 1 to 30 business days.",
            "max_value": "Acknowledge within 1 to 30 business days.",
        },
    )
    response_days = forms.IntegerField(
        label="Respond in writing within (days)",
        min_value=1,
        max_value=90,
        error_messages={
            "required": "Type a number of days.",
            "invalid": "Type a whole number of days.",
            "min_value": "Respond within 1 to 90 days.",
            "max_value": "Respond within 1 to 90 days.",
        },
    )
    privacy_officer = StaffChoiceField(
        label="Privacy officer",
        queryset=supervisors_of_clinic(None),
        required=False,
        empty_label="The supervisors",
        error_messages={"invalid_choice": "Choose the privacy officer from the supervisors."},
    )

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _narrow(self.fields["privacy_officer"], supervisors_of_clinic(clinic_id))
