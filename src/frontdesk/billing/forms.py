from __future__ import annotations

from decimal import Decimal

from django import forms

from frontdesk.billing.models import EntryKind, payment_method_choices
from frontdesk.lib.choices import choose_first
from frontdesk.lib.money import MoneyField


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
