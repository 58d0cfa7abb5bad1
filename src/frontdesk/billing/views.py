"""Patient accounts: charges and credits from the chart, and payment receipts."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.billing import selectors, services
from frontdesk.billing.forms import AccountPaymentForm, AdjustmentForm
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.lib.money import money_format
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_patient, patients_shown


@policy(Action.BILLING_ADJUST)
def entry_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Add a charge or an adjustment credit with its reason; corrections are new entries.
    Billing and supervisors only: the desk takes payments (`payment_add_view`)."""
    user = staff_user(request)
    patient = access_patient(user, patient_id)
    form = AdjustmentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.ledger_adjust(
                context=audit_context(request),
                user=user,
                patient=patient,
                kind=form.cleaned_data["kind"],
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except services.BillingRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"{entry.get_kind_display()} of {money_format(entry.amount)} added."
            )
            return redirect("patients:chart", patient.pk)
    return _account_form_page(request, patient, form, "billing/entry_form.html")


@policy(Action.BILLING_POST)
def payment_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Take a payment on the account from the chart, with a receipt to print."""
    user = staff_user(request)
    patient = access_patient(user, patient_id)
    if request.method == "POST":
        form = AccountPaymentForm(request.POST)
        if form.is_valid():
            try:
                entry = services.account_payment_record(
                    context=audit_context(request),
                    user=user,
                    patient=patient,
                    amount=form.cleaned_data["amount"],
                    method=form.cleaned_data["method"],
                    request_key=form.cleaned_data["request_key"],
                )
            except services.PaymentAlreadyRecordedError as done:
                entry = done.payment
            except services.BillingRefusedError as exc:
                form.add_error(None, str(exc))
                entry = None
            if entry is not None:
                messages.success(request, f"Payment of {money_format(entry.amount)} taken.")
                return redirect("patients:chart", patient.pk)
    else:
        form = AccountPaymentForm(initial={"request_key": uuid.uuid4()})
    return _account_form_page(request, patient, form, "billing/payment_form.html")


@policy(Action.BILLING_VIEW)
def receipt_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    """A printable receipt: the clinic and its address, the patient's name and MRN, the date
    of service, what was paid for, amount, method and the balance left; nothing more."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    entry = (
        LedgerEntry.objects.filter(pk=entry_id, kind=EntryKind.PAYMENT, clinic=clinic)
        .select_related("appointment__provider", "appointment__schedule__location")
        .first()
    )
    if entry is None:
        raise Http404("No such payment")
    patient = access_patient(user, entry.patient_id)
    # Read before this print is recorded: a receipt printed before is marked as a copy.
    receipt = selectors.payment_receipt(clinic=clinic, entry=entry)
    patients_shown(
        context=audit_context(request),
        printed=True,
        patient_ids=[patient.pk],
        page=AuditObject.RECEIPT,
        object_id=entry.pk,
    )
    return render(request, "billing/receipt.html", {"receipt": receipt, "patient": patient})


def _account_form_page(
    request: HttpRequest, patient: Patient, form: forms.Form, template: str
) -> HttpResponse:
    """A form on the patient's account, beside the balance it changes; showing the balance is
    a read of the account, so it is audited."""
    patients_shown(
        context=audit_context(request),
        patient_ids=[patient.pk],
        page=AuditObject.LEDGER,
        object_id=patient.pk,
    )
    context = {"patient": patient, "form": form, "balance": selectors.patient_balance(patient.pk)}
    status = 400 if request.method == "POST" else 200
    return render(request, template, context, status=status)
