"""Forms for registration and insurance. Validation rules live in validation.py."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, cast

import phonenumbers
from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils import timezone

from frontdesk.lib import dates
from frontdesk.lib.addresses import ADDRESS_SPLIT_EXAMPLES, address_split, address_split_shapes
from frontdesk.lib.choices import choose_first
from frontdesk.lib.ids import IdChoiceField
from frontdesk.lib.money import MoneyField
from frontdesk.lib.uploads import UploadRefusedError, upload_clean
from frontdesk.patients import validation
from frontdesk.patients.models import (
    AddressKind,
    Confidentiality,
    ContactChannel,
    Coverage,
    CoverageRank,
    GuarantorRelationship,
    IdentityDocumentKind,
    PatientAlertKind,
    Payer,
    PhoneKind,
    Sex,
    SubscriberRelationship,
)

COUNTRIES = [
    ("US", "United States"),
    ("CA", "Canada"),
    ("MX", "Mexico"),
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("AU", "Australia"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("NL", "Netherlands"),
    ("IN", "India"),
]
# Passports come from anywhere: the clinic's usual countries by name, then every other country
# by its ISO code.
ISSUING_COUNTRIES: list[tuple[str, Any]] = [
    ("Usual countries", COUNTRIES),
    (
        "Other countries, by ISO code",
        [
            (code, code)
            for code in sorted(phonenumbers.SUPPORTED_REGIONS - {c for c, _ in COUNTRIES})
            if len(code) == 2 and code.isalpha()
        ],
    ),
]


def date_input_formats() -> list[str]:
    # The same formats the search box reads a birth date in (patients.selectors).
    return dates.date_input_formats(settings.DATE_INPUT_ORDER)


def date_hint() -> str:
    return "DD/MM/YYYY" if settings.DATE_INPUT_ORDER == "DMY" else "MM/DD/YYYY"


class ClinicDateField(forms.DateField):
    """A date typed in the clinic's order (MDY or DMY) or as YYYY-MM-DD."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", date_input_formats())
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": date_hint()}))
        super().__init__(**kwargs)
        self.error_messages["invalid"] = (
            f"Type the date as {date_hint()} or YYYY-MM-DD, for example "
            f"{'02/01/1980' if settings.DATE_INPUT_ORDER == 'DMY' else '01/02/1980'}."
        )

    def validate(self, value: Any) -> None:
        super().validate(value)
        # Python's date range ends at years 1 and 9999, where adding a day overflows; no
        # date a clinic types (births, coverages, schedules) lies outside these years.
        if value is not None and not 1800 <= value.year <= 2200:
            raise forms.ValidationError(
                "Check the year: it should be between 1800 and 2200.", code="year"
            )


def _text(
    label: str, *, required: bool = False, max_length: int = 100, **kw: Any
) -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=max_length, **kw)


class RegistrationForm(forms.Form):
    given_name = _text("Given (first) name", required=True)
    middle_name = _text("Middle name")
    family_name = _text("Family (last) name", required=True)
    suffix = _text("Suffix", max_length=20, help_text="Jr., Sr., III …")
    preferred_name = _text("Preferred name", help_text="What the patient likes to be called.")
    previous_family_name = _text("Previous family name", help_text="Maiden or former name.")
    previous_given_name = _text("Previous given name")
    birth_date = ClinicDateField(label="Birth date")
    sex = forms.ChoiceField(
        label="Sex",
        choices=choose_first(Sex.choices),
        error_messages={"required": "Choose the patient's sex (Unknown if they did not say)."},
    )
    gender_identity = _text("Gender identity", max_length=60)
    pronouns = _text("Pronouns", max_length=40, help_text="For example she/her, he/him, they/them.")
    phone = _text("Main phone", max_length=30)
    # Needed only with a main phone; clean() asks for it then.
    phone_kind = forms.ChoiceField(
        label="Main phone is", choices=choose_first(PhoneKind.choices), required=False
    )
    phone_alt = _text("Other phone", max_length=30)
    phone_alt_kind = forms.ChoiceField(
        label="Other phone is", choices=[("", "—"), *PhoneKind.choices], required=False
    )
    email = forms.EmailField(
        label="Email",
        required=False,
        error_messages={
            "invalid": "That email address is not complete: it needs a name, @ and a domain."
        },
    )
    address_line1 = _text("Address", max_length=200)
    address_line2 = _text("Address line 2", max_length=200)
    city = _text("City / town")
    state = _text("State / region", max_length=50)
    postal_code = _text("Postal code", max_length=20)
    country = forms.ChoiceField(label="Country", choices=COUNTRIES, initial="US")
    preferred_language = _text("Preferred language", max_length=40, initial="English")
    interpreter_needed = forms.BooleanField(label="Needs an interpreter", required=False)
    preferred_contact = forms.ChoiceField(
        label="Preferred way to contact",
        choices=choose_first(ContactChannel.choices),
        error_messages={"required": "Choose how the patient prefers to be contacted."},
    )
    consent_sms = forms.BooleanField(label="Agrees to text messages", required=False)
    consent_email = forms.BooleanField(label="Agrees to email", required=False)
    emergency_contact_name = _text("Emergency contact", max_length=200)
    emergency_contact_relationship = _text("Relationship to patient", max_length=60)
    emergency_contact_phone = _text("Emergency contact phone", max_length=30)
    guarantor_relationship = forms.ChoiceField(
        label="Who pays (guarantor)",
        choices=choose_first(GuarantorRelationship.choices),
        error_messages={"required": "Choose who pays for the patient's care."},
    )
    guarantor_name = _text("Guarantor's name", max_length=200)
    guarantor_phone = _text("Guarantor's phone", max_length=30)
    alerts = forms.MultipleChoiceField(
        label="Alerts",
        choices=PatientAlertKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    alert_note = _text("Alert note", max_length=300)
    confidentiality = forms.ChoiceField(
        label="Confidentiality",
        choices=Confidentiality.choices,
        help_text="Restricted records need a reason to open and are watched closely.",
    )

    NAME_FIELDS = (
        ("given_name", "Given name"),
        ("middle_name", "Middle name"),
        ("family_name", "Family name"),
        ("preferred_name", "Preferred name"),
        ("previous_family_name", "Previous family name"),
        ("previous_given_name", "Previous given name"),
    )
    PHONE_FIELDS = ("phone", "phone_alt", "emergency_contact_phone", "guarantor_phone")
    ADDRESS_PARTS = ("address_line1", "city", "state", "postal_code")

    def __init__(self, *args: Any, address_parts_asked: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A whole address that could not be split is not saved half-read from the page; a file
        # imported from the old system keeps such a line as its street, as it always did.
        self.address_parts_asked = address_parts_asked
        example, _ = ADDRESS_SPLIT_EXAMPLES.get(settings.PHONE_REGION.upper(), ("", ""))
        if example:
            self.fields[
                "address_line1"
            ].help_text = f"Street and number, or the whole address on one line: {example}."
        # patients/static/patients/address_split.js splits a one-line address as it is typed,
        # with the same tables as the server.
        self.fields["address_line1"].widget.attrs.update(
            {
                "data-address-split": json.dumps(address_split_shapes(), separators=(",", ":")),
                "data-address-split-status": "address-split-status",
            }
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, label in self.NAME_FIELDS:
            if name in data:
                self._apply(name, lambda v, lb=label: validation.clean_person_name(v, label=lb))
        for name in (
            "suffix",
            "gender_identity",
            "pronouns",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "preferred_language",
            "alert_note",
            "emergency_contact_name",
            "emergency_contact_relationship",
            "guarantor_name",
        ):
            if name in data:
                data[name] = validation.normalise_typed_text(data[name])
        if isinstance(data.get("birth_date"), dt.date):
            self._apply(
                "birth_date",
                lambda v: validation.clean_birth_date(v, today=timezone.localdate()),
            )
        for name in self.PHONE_FIELDS:
            if data.get(name):
                self._apply(name, lambda v: validation.clean_phone(v, region=settings.PHONE_REGION))
        self._address_split(data)
        if "postal_code" in data:
            country = data.get("country") or "US"
            self._apply("postal_code", lambda v: validation.clean_postal_code(v, country=country))
        self._check_contact_choices(data)
        if data.get("guarantor_relationship", "self") != "self" and not data.get("guarantor_name"):
            self.add_error("guarantor_name", "Type the name of the person who pays.")
        if data.get("phone") and not data.get("phone_kind") and "phone_kind" not in self.errors:
            self.add_error("phone_kind", "Say what kind of phone the main number is.")
        if data.get("phone_alt") and not data.get("phone_alt_kind"):
            self.add_error("phone_alt_kind", "Say what kind of phone the other number is.")
        return data

    def _address_split(self, data: dict[str, Any]) -> None:
        """A whole address typed in the street field, town, state and postal code left empty,
        goes into its fields when it has exactly its country's shape (lib/addresses.py)."""
        if not all(name in data for name in self.ADDRESS_PARTS) or any(
            data[name] for name in self.ADDRESS_PARTS[1:]
        ):
            return
        country = data.get("country") or ""
        parts = address_split(data["address_line1"], country)
        if parts is not None and any(
            len(value) > (cast(forms.CharField, self.fields[name]).max_length or len(value))
            for name, value in parts._asdict().items()
        ):
            parts = None  # a "town" longer than the town field holds is no town
        if parts is None:
            if self.address_parts_asked and "," in data["address_line1"]:
                self._ask_for_address_parts(country)
            return
        data.update(parts._asdict())
        # The next page (the read-back's hidden fields, "Change something", or this form with
        # a message elsewhere) carries the fields as split, for the officer to see and correct.
        typed: QueryDict | dict[str, Any] = (
            self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
        )
        for name in self.ADDRESS_PARTS:
            typed[self.add_prefix(name)] = data[name]
        self.data = typed

    def _ask_for_address_parts(self, country: str) -> None:
        """The line looks like a whole address but not of its country's shape: left as typed,
        with the parts it lacks asked for in their fields."""
        example, region = ADDRESS_SPLIT_EXAMPLES.get(country, ("", ""))
        self.add_error(
            "address_line1",
            "This line could not be split into its parts"
            + (f": write it as {example}, or type" if example else ". Type")
            + " the rest in the fields below.",
        )
        self.add_error("city", "Type the city or town.")
        if region:
            self.add_error("state", f"Type the state or province as its code, e.g. {region}.")
        self.add_error("postal_code", "Type the postal code.")

    def _check_contact_choices(self, data: dict[str, Any]) -> None:
        channel = data.get("preferred_contact")
        if channel == ContactChannel.SMS:
            if not data.get("consent_sms"):
                self.add_error("consent_sms", "Texts need the patient's agreement: tick this box.")
            if not data.get("phone"):
                self.add_error("phone", "Texts need a mobile number.")
        if channel == ContactChannel.EMAIL:
            if not data.get("consent_email"):
                self.add_error(
                    "consent_email", "Email needs the patient's agreement: tick this box."
                )
            if not data.get("email"):
                self.add_error("email", "Type the email address to use.")
        if (
            channel in (ContactChannel.PHONE, ContactChannel.SMS)
            and not data.get("phone")
            and ("phone" not in self.errors)
        ):
            self.add_error("phone", "Type a phone number, or choose another way to contact.")
        if channel == ContactChannel.MAIL and not data.get("address_line1"):
            self.add_error("address_line1", "Letters need an address.")

    def _apply(self, name: str, rule: Any) -> None:
        try:
            self.cleaned_data[name] = rule(self.cleaned_data[name])
        except forms.ValidationError as exc:
            self.add_error(name, exc)


class CoverageForm(forms.ModelForm):  # type: ignore[type-arg]
    effective_date = ClinicDateField(label="Effective from", required=False)
    end_date = ClinicDateField(label="Ends on", required=False)
    subscriber_birth_date = ClinicDateField(label="Subscriber's birth date", required=False)
    rank = forms.TypedChoiceField(label="Order", choices=CoverageRank.choices, coerce=int)
    relationship = forms.ChoiceField(
        label="Patient is the subscriber's",
        choices=choose_first(SubscriberRelationship.choices),
        error_messages={"required": "Choose how the patient is related to the subscriber."},
    )
    copay = MoneyField(
        label="Co-pay per visit",
        required=False,
        allow_zero=True,
        maximum=Decimal("999999.99"),  # the column holds 8 digits
        help_text="Leave empty when the plan has none.",
    )

    MAX_CARD_BYTES = 10 * 1024 * 1024

    class Meta:
        model = Coverage
        fields = [
            "rank",
            "payer",
            "plan_name",
            "member_id",
            "group_number",
            "subscriber_name",
            "relationship",
            "subscriber_birth_date",
            "effective_date",
            "end_date",
            "card_front",
            "card_back",
            "copay",
        ]
        labels = {
            "card_front": "Card, front",
            "card_back": "Card, back",
            "plan_name": "Plan",
            "member_id": "Member ID",
        }
        field_classes = {"payer": IdChoiceField}

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        payer_field = cast("forms.ModelChoiceField[Payer]", self.fields["payer"])
        payer_field.queryset = Payer.objects.filter(clinic_id=clinic_id).order_by("name")
        payer_field.error_messages["invalid_choice"] = "Choose the insurer from the list."

    def clean_card(self, name: str) -> Any:
        upload = self.cleaned_data.get(name)
        if not isinstance(upload, UploadedFile):  # none chosen: the stored file, or none
            return upload
        if (upload.size or 0) > self.MAX_CARD_BYTES:
            raise forms.ValidationError("The picture is larger than 10 MB; take a smaller one.")
        upload.seek(0)
        try:
            clean = upload_clean(upload.read())
        except UploadRefusedError as refused:
            raise forms.ValidationError(str(refused)) from refused
        # What is stored is the re-encoded picture (or the checked PDF), named by what it was
        # found to be; the uploaded name and bytes go no further.
        return ContentFile(clean.content, name=f"card.{clean.extension}")

    def clean_card_front(self) -> Any:
        return self.clean_card("card_front")

    def clean_card_back(self) -> Any:
        return self.clean_card("card_back")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        payer = data.get("payer")
        if payer is not None and "member_id" in data:
            try:
                data["member_id"] = validation.clean_member_id(
                    data["member_id"],
                    pattern=payer.member_id_pattern,
                    payer_name=payer.name,
                    example=payer.member_id_example,
                )
            except forms.ValidationError as exc:
                self.add_error("member_id", exc)
        start, end = data.get("effective_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        return data


class RegistrationCoverageForm(CoverageForm):
    """The optional insurance block of the registration page: the chart's coverage form and its
    rules, without the card pictures (a file does not survive the read-back step; they are
    added from the chart) and without the order (a new patient's first coverage is primary).
    Left empty, it adds nothing."""

    rank = None  # type: ignore[assignment]

    class Meta(CoverageForm.Meta):
        fields = [
            "payer",
            "member_id",
            "copay",
            "relationship",
            "plan_name",
            "group_number",
            "subscriber_name",
            "subscriber_birth_date",
            "effective_date",
            "end_date",
        ]

    TYPED_FIELDS = (
        "payer",
        "member_id",
        "plan_name",
        "group_number",
        "subscriber_name",
        "subscriber_birth_date",
        "effective_date",
        "end_date",
        "copay",
    )

    def __init__(self, *args: Any, clinic_id: int, optional: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, clinic_id=clinic_id, **kwargs)
        self.optional = optional
        # The registration page has the patient's own "Birth date" already.
        self.fields["subscriber_birth_date"].label = "Subscriber born on"
        if optional:  # a page posted without the block at all still registers
            for name in ("payer", "member_id", "relationship"):
                self.fields[name].required = False

    @property
    def is_blank(self) -> bool:
        """Nothing typed or chosen in the block but, perhaps, the subscriber's relationship."""
        data = self.cleaned_data
        typed = [name for name in self.TYPED_FIELDS if name not in self.errors]
        return not self.errors.keys() - {"relationship"} and not any(
            data.get(name) not in (None, "") for name in typed
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.optional or self.is_blank:
            return data
        for name, message in (
            ("payer", "Choose the insurer from the list, or leave the insurance empty."),
            ("member_id", "Type the member ID from the insurance card."),
            ("relationship", "Choose how the patient is related to the subscriber."),
        ):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        return data


class PayerForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Payer
        fields = ["name", "payer_id", "member_id_pattern", "member_id_example"]
        help_texts = {
            "member_id_pattern": (
                "Optional regular expression member IDs must match, e.g. [A-Z]{3}\\d{9}. "
                "Backreferences (\\1) and lookarounds ((?=, (?!) cannot be used."
            ),
            "member_id_example": "An example ID shown to staff when one does not match.",
        }

    def clean_member_id_pattern(self) -> str:
        pattern: str = self.cleaned_data["member_id_pattern"].strip()
        validation.validate_regex(pattern)
        return pattern

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pattern, example = data.get("member_id_pattern"), data.get("member_id_example")
        if pattern and example:
            try:
                validation.clean_member_id(example, pattern=pattern, payer_name="This payer")
            except forms.ValidationError:
                self.add_error("member_id_example", "The example does not match the pattern.")
        return data


class DuplicateDecisionForm(forms.Form):
    """What the officer decided about a likely duplicate before saving."""

    decision = forms.ChoiceField(
        choices=[
            ("existing", "This is the existing patient"),
            ("override", "This is a different person"),
        ],
        widget=forms.RadioSelect,
        required=False,
    )
    existing_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # A text area: Enter there adds a line rather than sending the form with its first button,
    # which opens the existing patient's chart.
    override_reason = forms.CharField(
        label="Why is this a different person?",
        required=False,
        max_length=300,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: checked photo ID, different parents, different address history.",
    )

    REASON_MIN_LENGTH = 10

    def __init__(self, *args: Any, reason_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason_required = reason_required

    def clean_override_reason(self) -> str:
        reason = " ".join(str(self.cleaned_data.get("override_reason") or "").split())
        if self.reason_required and not reason:
            raise forms.ValidationError(
                "Open the existing record, or say why this is a different person."
            )
        if self.reason_required and len(reason) < self.REASON_MIN_LENGTH:
            raise forms.ValidationError(
                "Say a little more about why this is a different person (at least "
                f"{self.REASON_MIN_LENGTH} letters), for example: checked photo ID."
            )
        return reason


class PatientAddressForm(forms.Form):
    """One further address (mailing, temporary, previous, work). On the registration page the
    block is `optional`: left empty, it adds nothing."""

    kind = forms.ChoiceField(
        label="Kind of address",
        choices=choose_first(AddressKind.choices),
        error_messages={"required": "Choose what kind of address this is."},
    )
    address_line1 = _text("Street and number", max_length=200)
    address_line2 = _text("Second line", max_length=200)
    city = _text("Town or city")
    state = _text("State or region", max_length=50)
    postal_code = _text("ZIP / postcode", max_length=20)
    country = forms.ChoiceField(label="Country of this address", choices=COUNTRIES, initial="US")
    valid_from = ClinicDateField(label="Valid from", required=False)
    valid_until = ClinicDateField(label="Valid until", required=False)

    TEXT_FIELDS = ("address_line1", "address_line2", "city", "state", "postal_code")

    def __init__(self, *args: Any, optional: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.optional = optional
        if optional:  # a page posted without the block at all still registers
            self.fields["kind"].required = self.fields["country"].required = False

    @property
    def is_blank(self) -> bool:
        """Nothing typed in the block (its kind and country are choices, not typing)."""
        data = self.cleaned_data
        return not any(data.get(name) for name in (*self.TEXT_FIELDS, "valid_from", "valid_until"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.TEXT_FIELDS:
            if name in data:
                data[name] = validation.normalise_typed_text(data[name])
        if self.is_blank:
            if not self.optional:
                self.add_error("address_line1", "Type the street and number.")
            return data
        if not data.get("kind") and "kind" not in self.errors:
            self.add_error("kind", "Choose what kind of address this is.")
        if not data.get("country") and "country" not in self.errors:
            self.add_error("country", "Choose the country of this address.")
        if not data.get("address_line1") and "address_line1" not in self.errors:
            self.add_error(
                "address_line1",
                "Type the street and number, or leave this address empty."
                if self.optional
                else "Type the street and number.",
            )
        if data.get("postal_code"):
            try:
                data["postal_code"] = validation.clean_postal_code(
                    data["postal_code"], country=data.get("country") or "US"
                )
            except forms.ValidationError as exc:
                self.add_error("postal_code", exc)
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", "This date is before the “valid from” date.")
        return data


class IdentityDocumentForm(forms.Form):
    """An identity document the patient showed. Optional on the registration page."""

    kind = forms.ChoiceField(
        label="Document type",
        choices=choose_first(IdentityDocumentKind.choices),
        error_messages={"required": "Choose what kind of document this is."},
    )
    number = _text(
        "Document number",
        max_length=40,
        help_text="As printed; spaces and hyphens are left out.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    issuing_country = forms.ChoiceField(
        label="Issuing country", choices=ISSUING_COUNTRIES, initial="US"
    )
    issuing_state = _text(
        "Issuing state or province",
        max_length=50,
        help_text="For a driver's licence: the state's abbreviation, e.g. NY.",
    )
    expires_on = ClinicDateField(label="Expires on", required=False)

    def __init__(self, *args: Any, optional: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.optional = optional
        if optional:
            self.fields["kind"].required = self.fields["issuing_country"].required = False

    @property
    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(name) for name in ("number", "issuing_state", "expires_on"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.optional and "number" in data and self.is_blank:
            return data
        if not data.get("kind") and "kind" not in self.errors:
            self.add_error("kind", "Choose what kind of document this is.")
        if not data.get("issuing_country") and "issuing_country" not in self.errors:
            self.add_error("issuing_country", "Choose the country that issued the document.")
        kind, country = data.get("kind") or "other", data.get("issuing_country") or ""
        if "number" in data:
            try:
                data["number"] = validation.clean_document_number(
                    data["number"], kind=kind, country=country
                )
            except forms.ValidationError as exc:
                self.add_error("number", exc)
        if "issuing_state" in data and country:
            try:
                data["issuing_state"] = validation.clean_issuing_state(
                    data["issuing_state"], kind=kind, country=country
                )
            except forms.ValidationError as exc:
                self.add_error("issuing_state", exc)
        if isinstance(data.get("expires_on"), dt.date):
            try:
                data["expires_on"] = validation.clean_document_expiry(
                    data["expires_on"], today=timezone.localdate()
                )
            except forms.ValidationError as exc:
                self.add_error("expires_on", exc)
        return data
