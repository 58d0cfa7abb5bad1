"""Records request forms: each field checked in the desk's words (a backwards date range, an
incomplete authorisation, a fee typed with a decimal comma), and what was typed kept."""

from __future__ import annotations

from typing import Any

from django import forms

from frontdesk.documents.forms import ACCEPT
from frontdesk.lib.choices import choose_first
from frontdesk.lib.money import MoneyField
from frontdesk.patients.forms import ClinicDateField
from frontdesk.records.models import (
    AuthorisationElement,
    Delivery,
    IdentityMethod,
    RecordKind,
    Requester,
)
from frontdesk.records.services import RequestDetails


class RequestForm(forms.Form):
    requester = forms.ChoiceField(label="Who is asking", choices=choose_first(Requester.choices))
    requester_name = forms.CharField(label="Third party's name", max_length=200, required=False)
    requester_organisation = forms.CharField(label="Organisation", max_length=200, required=False)
    requester_relationship = forms.CharField(
        label="Relationship to the patient", max_length=100, required=False
    )
    requester_address = forms.CharField(label="Requester's address", max_length=400, required=False)
    records_from = ClinicDateField(label="Records from", required=False)
    records_to = ClinicDateField(label="Records to", required=False)
    record_kinds = forms.MultipleChoiceField(
        label="Records asked for", choices=RecordKind.choices, widget=forms.CheckboxSelectMultiple
    )
    records_note = forms.CharField(label="Records described", max_length=300, required=False)
    delivery = forms.ChoiceField(label="Send how", choices=choose_first(Delivery.choices))
    delivery_to = forms.CharField(
        label="Send to (address, email or fax)", max_length=400, required=False
    )
    purpose = forms.CharField(label="Purpose", max_length=300, required=False)
    authorisation_elements = forms.MultipleChoiceField(
        label="The signed authorisation holds",
        choices=AuthorisationElement.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    authorisation_expires = ClinicDateField(label="Authorisation expires", required=False)
    authorisation = forms.FileField(
        label="Signed authorisation form",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text="PDF, JPEG, PNG or TIFF.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("records_from"), cleaned.get("records_to")
        if start is not None and end is not None and start > end:
            self.add_error(
                "records_to", "This date is before the first one: the range runs backwards."
            )
        if cleaned.get("requester") == Requester.THIRD_PARTY:
            if not (cleaned.get("requester_name") or cleaned.get("requester_organisation")):
                self.add_error("requester_name", "Give the third party's name or organisation.")
            ticked = set(cleaned.get("authorisation_elements") or ())
            missing = [
                str(label) for value, label in AuthorisationElement.choices if value not in ticked
            ]
            if missing:
                self.add_error(
                    "authorisation_elements",
                    "A third party receives records only on a complete authorisation; not "
                    f"ticked: {'; '.join(missing)}.",
                )
            if not cleaned.get("purpose"):
                self.add_error("purpose", "Give the purpose the authorisation states.")
            if not cleaned.get("authorisation") and not self.errors.get("authorisation"):
                self.add_error(
                    "authorisation",
                    "Attach the signed authorisation form: a third party's request is refused "
                    "without it.",
                )
        return cleaned

    def details(self) -> RequestDetails:
        data = self.cleaned_data
        return RequestDetails(
            requester=data["requester"],
            delivery=data["delivery"],
            record_kinds=list(data["record_kinds"]),
            requester_name=data["requester_name"],
            requester_organisation=data["requester_organisation"],
            requester_relationship=data["requester_relationship"],
            requester_address=data["requester_address"],
            records_from=data["records_from"],
            records_to=data["records_to"],
            records_note=data["records_note"],
            delivery_to=data["delivery_to"],
            purpose=data["purpose"],
            authorisation_elements=list(data["authorisation_elements"]),
            authorisation_expires=data["authorisation_expires"],
        )


class VerifyForm(forms.Form):
    method = forms.ChoiceField(
        label="Identity verified by", choices=choose_first(IdentityMethod.choices)
    )
    note = forms.CharField(
        label="Note (which document, who called back)", max_length=200, required=False
    )


class ExtendForm(forms.Form):
    reason = forms.CharField(
        label="Why more time is needed (goes in the letter)",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SendForm(forms.Form):
    what = forms.CharField(label="What was sent", max_length=500)
    how = forms.ChoiceField(label="Sent how", choices=choose_first(Delivery.choices))
    pages = forms.IntegerField(label="Pages", min_value=1, max_value=100000, required=False)
    fee = MoneyField(
        label="Fee charged",
        allow_zero=True,
        required=False,
        help_text="Leave empty for the clinic's schedule.",
    )


class DenyForm(forms.Form):
    reason = forms.CharField(
        label="Why the request is denied (goes in the letter)",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SettingsForm(forms.Form):
    electronic_fee = MoneyField(label="Fee for an electronic copy", allow_zero=True)
    paper_fee_per_page = MoneyField(label="Fee per page on paper", allow_zero=True)
    warn_days = forms.IntegerField(
        label="Show on the desk queue this many days before due", min_value=1, max_value=29
    )
