"""The amount filter, and the account panel the patient's chart includes."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import template

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.billing.drawer import variance_words
from frontdesk.billing.drawer_selectors import DrawerTotals, drawer_has_open
from frontdesk.billing.forms import AccountPaymentForm, AdjustmentForm
from frontdesk.billing.models import payment_method_label
from frontdesk.billing.selectors import patient_balance, patient_entries, voided_among
from frontdesk.lib.money import money_format

register = template.Library()


@register.filter
def money(value: Decimal | None) -> str:
    return "" if value is None else money_format(value)


@register.filter
def payment_method(value: str) -> str:
    """A payment method in the clinic's words ("Check" in a US-dollar clinic)."""
    return payment_method_label(value)


@register.inclusion_tag("billing/_account.html", takes_context=True)
def patient_account(
    context: dict[str, Any], patient_id: int, balance: Decimal | None = None
) -> dict[str, Any]:
    """Balance and latest entries for staff who handle money (the chart's caller audits).
    `balance`: the patient's balance when the page has read it already (the chart's header)."""
    role = getattr(context["request"].user, "role", "")
    if not role_may(role, Action.BILLING_VIEW):
        return {"visible": False}
    entries = patient_entries(patient_id)
    return {
        "visible": True,
        "patient_id": patient_id,
        "balance": patient_balance(patient_id) if balance is None else balance,
        "entries": entries,
        # Payments voided already: no void or refund is offered for them.
        "voided": voided_among(entries),
        # Charges and write-offs for billing and supervisors; the desk takes payments only.
        "form": AdjustmentForm() if role_may(role, Action.BILLING_ADJUST) else None,
        "payment_form": (
            AccountPaymentForm(initial={"request_key": uuid.uuid4()})
            if role_may(role, Action.BILLING_POST)
            else None
        ),
        "may_reverse": role_may(role, Action.BILLING_REVERSE),
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def net(totals: DrawerTotals, method: str) -> Decimal:
    """A drawer's net total of one method."""
    return totals.net(method)


@register.filter
def variance(value: Decimal) -> str:
    """A drawer's variance in words: "$2.00 short", "$0.50 over", "balanced"."""
    return variance_words(value)


@register.inclusion_tag("billing/_drawer_notice.html", takes_context=True)
def drawer_notice(context: dict[str, Any]) -> dict[str, Any]:
    """Before a payment form: a plain notice, with the way to open one, when the signed-in
    officer has no open drawer (a payment would be refused)."""
    user = context["request"].user
    return {"missing": isinstance(user, User) and not drawer_has_open(user)}
