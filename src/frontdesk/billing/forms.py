from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from frontdesk.billing.models import EntryKind, payment_method_choices
from frontdesk.clinic.models import Location
from frontdesk.lib.choices import choose_first
from frontdesk.lib.ids import IdChoiceField
from frontdesk.lib.money import MoneyField, denominations


class PaymentForm(forms.Form):
    """Payment at check-in; the amount comes prefilled with what is due."""

    amount = MoneyField(label="Amount received", error_messages={"required": "Type the amount."})
    method = forms.ChoiceField(
        label="Paid by",
        # Called per form, so the words follow the clinic's currency ("Check", "Cheque").
        choices=lambda: choose_first(payment_method_choices()),
        error_messages={
            "required": "Choose how the patient paid.",
            "invalid_choice": "Choose how the patient paid from the list.",
        },
    )
    # The co-pay the page showed (empty: none asked); charged with this payment only if it is
    # still the co-pay on file.
    copay = MoneyField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": "The page was out of date; check the amount due again."},
    )
    # A one-time key: the same form sent twice records the payment once.
    request_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "The page was out of date; check the amount due again.",
            "invalid": "The page was out of date; check the amount due again.",
        },
    )

    def clean_copay(self) -> Decimal | None:
        copay: Decimal | None = self.cleaned_data.get("copay")
        return copay if copay else None


class AccountPaymentForm(PaymentForm):
    """A payment taken from the chart's account panel, not tied to a visit: no co-pay."""

    # None is Django's way to drop a field a form inherits.
    copay = None  # type: ignore[assignment]


class AdjustmentForm(forms.Form):
    """A charge or a credit on the patient's account, with its reason (billing and
    supervisors: a credit writes money off)."""

    kind = forms.ChoiceField(
        label="Entry",
        choices=choose_first(
            [(EntryKind.CHARGE, "Charge"), (EntryKind.CREDIT, "Adjustment credit")]
        ),
        error_messages={
            "required": "Choose a charge or a credit.",
            "invalid_choice": "Choose a charge or a credit.",
        },
    )
    amount = MoneyField(label="Amount", error_messages={"required": "Type the amount."})
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        error_messages={
            "required": "Say what the entry is for.",
            "max_length": "Keep the reason under 200 characters.",
        },
    )


class DrawerOpenForm(forms.Form):
    """Open the officer's drawer: where, and the float they counted into it."""

    location = IdChoiceField(
        label="Location",
        queryset=Location.objects.none(),
        empty_label="— choose —",
        error_messages={
            "required": "Choose where the drawer is.",
            "invalid_choice": "Choose a location from the list.",
        },
    )
    opening_float = MoneyField(
        label="Float counted",
        allow_zero=True,
        help_text="The cash in the drawer before the first payment, counted now.",
        error_messages={"required": "Type the float you counted (0 if the drawer is empty)."},
    )

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        locations = Location.objects.filter(clinic_id=clinic_id).order_by("name")
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]


class CountField(forms.CharField):
    """How many of one note or coin: a whole number, typed as the officer counts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "size": 5}))
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> int:  # type: ignore[override]
        text = (super().to_python(value) or "").strip()
        if not text:
            return 0
        if text.startswith("-"):
            raise forms.ValidationError("A count cannot be negative.", code="invalid")
        # ASCII digits only: "1e3", "2.5" or digits of other scripts are not a count.
        if len(text) > 6 or not all("0" <= c <= "9" for c in text):
            raise forms.ValidationError("Type how many, in whole numbers, like 3.", code="invalid")
        return int(text)


class DrawerCloseForm(forms.Form):
    """The close-out: cash counted by denomination, and why, when the count is off."""

    reason = forms.CharField(
        label="Reason for the difference",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed when the count is off by more than the clinic's tolerance.",
        error_messages={"max_length": "Keep the reason under 500 characters."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for denomination in denominations():
            self.fields[denomination.key] = CountField(label=denomination.label)
        # The reason comes after the counts.
        self.fields["reason"] = self.fields.pop("reason")

    def count_fields(self) -> list[forms.BoundField]:
        return [self[d.key] for d in denominations()]

    def counts(self) -> dict[str, int]:
        return {d.key: self.cleaned_data.get(d.key) or 0 for d in denominations()}


class VarianceReviewForm(forms.Form):
    note = forms.CharField(
        label="What you found or did",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": "Say what you found or did about the variance.",
            "max_length": "Keep the note under 500 characters.",
        },
    )


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="Why is the payment voided?",
        max_length=150,
        error_messages={
            "required": "Say why the payment is voided.",
            "max_length": "Keep the reason under 150 characters.",
        },
    )


class RefundForm(forms.Form):
    amount = MoneyField(
        label="Amount to give back", error_messages={"required": "Type the amount."}
    )
    method = forms.ChoiceField(
        label="Give back",
        choices=[("", "— choose —"), ("cash", "In cash, from my drawer"), ("card", "To the card")],
        error_messages={
            "required": "Choose how the money is given back.",
            "invalid_choice": "Choose how the money is given back from the list.",
        },
    )
    reason = forms.CharField(
        label="Why is the money given back?",
        max_length=150,
        error_messages={
            "required": "Say why the money is given back.",
            "max_length": "Keep the reason under 150 characters.",
        },
    )
