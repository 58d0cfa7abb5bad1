from __future__ import annotations

from django import forms

from frontdesk.billing.models import EntryKind, PaymentMethod
from frontdesk.lib.money import MoneyField


class PaymentForm(forms.Form):
    """Payment at check-in; the amount comes prefilled with what is due."""

    amount = MoneyField(label="Amount received", error_messages={"required": "Type the amount."})
    method = forms.ChoiceField(
        label="Paid by",
        choices=[("", "Choose…"), *PaymentMethod.choices],
        error_messages={
            "required": "Choose how the patient paid.",
            "invalid_choice": "Choose how the patient paid from the list.",
        },
    )
    # Set when the page asked for the visit's co-pay, so it is charged with this payment.
    with_copay = forms.BooleanField(required=False, widget=forms.HiddenInput)


class AdjustmentForm(forms.Form):
    """A charge or a credit on the patient's account, with its reason."""

    kind = forms.ChoiceField(
        label="Entry",
        choices=[(EntryKind.CHARGE, "Charge"), (EntryKind.CREDIT, "Adjustment credit")],
        error_messages={"invalid_choice": "Choose a charge or a credit."},
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
