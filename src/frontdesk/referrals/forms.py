"""Referral forms: each field checked in the desk's words (NPI check digit, phone numbers,
dates), and what was typed kept on a refusal."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils import timezone

from frontdesk.documents.models import Document
from frontdesk.lib.choices import choose_first
from frontdesk.lib.ids import IdChoiceField, IdMultipleChoiceField
from frontdesk.patients import validation
from frontdesk.patients.forms import ClinicDateField
from frontdesk.referrals.models import Practice, Urgency
from frontdesk.referrals.services import IncomingDetails
from frontdesk.referrals.validation import clean_npi
from frontdesk.scheduling.models import Appointment


def _phone(value: str) -> str:
    return validation.clean_phone(value, region=settings.PHONE_REGION)


class IncomingForm(forms.Form):
    provider_name = forms.CharField(label="Referring provider", max_length=200)
    practice_name = forms.CharField(label="Practice", max_length=200, required=False)
    npi = forms.CharField(label="Provider's NPI", max_length=20, required=False)
    phone = forms.CharField(label="Practice phone", max_length=30, required=False)
    fax = forms.CharField(label="Practice fax", max_length=30, required=False)
    reason = forms.CharField(
        label="Reason for the referral", widget=forms.Textarea(attrs={"rows": 3})
    )
    # An urgent referral must not pass as routine because nobody chose: the officer picks.
    urgency = forms.ChoiceField(label="Urgency", choices=choose_first(Urgency.choices))
    auth_number = forms.CharField(label="Authorisation number", max_length=50, required=False)
    auth_visits = forms.IntegerField(
        label="Visits authorised", min_value=1, max_value=999, required=False
    )
    auth_expires = ClinicDateField(label="Authorisation expires", required=False)
    document = IdChoiceField(
        label="Document that came with it",
        queryset=Document.objects.none(),
        required=False,
        empty_label="None",
    )

    def __init__(self, *args: Any, documents: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(IdChoiceField, self.fields["document"])
        if documents is not None:
            field.queryset = documents
        field.label_from_instance = _document_label  # type: ignore[method-assign,assignment]

    def clean_npi(self) -> str:
        return clean_npi(self.cleaned_data["npi"])

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data["phone"])

    def clean_fax(self) -> str:
        return _phone(self.cleaned_data["fax"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        expires = cleaned.get("auth_expires")
        if expires is not None and expires < timezone.localdate():
            self.add_error(
                "auth_expires",
                "That date is before the referral was received: check it on the letter.",
            )
        if (cleaned.get("auth_visits") or expires) and not cleaned.get("auth_number"):
            self.add_error(
                "auth_number", "Give the authorisation number with its visits or expiry."
            )
        return cleaned

    def details(self) -> IncomingDetails:
        data = self.cleaned_data
        return IncomingDetails(
            urgency=data["urgency"],
            reason=data["reason"],
            provider_name=data["provider_name"],
            practice_name=data["practice_name"],
            npi=data["npi"],
            phone=data["phone"],
            fax=data["fax"],
            auth_number=data["auth_number"],
            auth_visits=data["auth_visits"],
            auth_expires=data["auth_expires"],
        )


def _document_label(document: Document) -> str:
    name = document.title or document.original_name or "Untitled"
    return f"{name} ({timezone.localtime(document.received_at):%b %-d %H:%M})"


def _visit_label(appointment: Appointment) -> str:
    return (
        f"{timezone.localtime(appointment.start):%a %b %-d, %Y %H:%M} with {appointment.provider}"
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(label="Why it is declined", max_length=300)


class LinkForm(forms.Form):
    appointment = IdChoiceField(
        label="The visit booked for it", queryset=Appointment.objects.none()
    )

    def __init__(self, *args: Any, visits: list[Appointment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(IdChoiceField, self.fields["appointment"])
        field.queryset = Appointment.objects.filter(pk__in=[v.pk for v in visits]).select_related(
            "provider"
        )
        field.label_from_instance = _visit_label  # type: ignore[method-assign,assignment]


class RequestForm(forms.Form):
    specialty = forms.CharField(label="Specialty", max_length=100)
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 3}))
    # An urgent referral must not pass as routine because nobody chose: the officer picks.
    urgency = forms.ChoiceField(label="Urgency", choices=choose_first(Urgency.choices))


class SendForm(forms.Form):
    practice = IdChoiceField(label="Send to", queryset=Practice.objects.none())
    documents = IdMultipleChoiceField(
        label="Documents to send",
        queryset=Document.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, practices: Any, documents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(IdChoiceField, self.fields["practice"]).queryset = practices
        chosen = cast(IdMultipleChoiceField, self.fields["documents"])
        chosen.queryset = documents
        chosen.label_from_instance = _document_label  # type: ignore[method-assign,assignment]


class AttachForm(forms.Form):
    documents = IdMultipleChoiceField(
        label="Documents to add",
        queryset=Document.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, documents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = cast(IdMultipleChoiceField, self.fields["documents"])
        chosen.queryset = documents
        chosen.label_from_instance = _document_label  # type: ignore[method-assign,assignment]


class ExternalAppointmentForm(forms.Form):
    when = ClinicDateField(label="Appointment date at the practice")


class TargetForm(forms.Form):
    routine_days = forms.IntegerField(
        label="Book routine referrals within (business days)", min_value=1, max_value=60
    )
    urgent_days = forms.IntegerField(
        label="Book urgent referrals within (business days)", min_value=1, max_value=60
    )


class PracticeForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Practice
        fields = ["name", "specialty", "provider_name", "npi", "phone", "fax", "address", "active"]

    def clean_npi(self) -> str:
        return clean_npi(self.cleaned_data["npi"])

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data["phone"])

    def clean_fax(self) -> str:
        return _phone(self.cleaned_data["fax"])
