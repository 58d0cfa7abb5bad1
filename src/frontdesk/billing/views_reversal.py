"""Voids and refunds of a payment (billing and supervisors), and the patient's printable
balance statement."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.billing import reversals, selectors
from frontdesk.billing.forms import RefundForm, VoidForm
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.services import BillingRefusedError
from frontdesk.lib.money import money_format
from frontdesk.lib.pdf import pdf_from_template
from frontdesk.lib.uploads import USER_FILE_HEADERS
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_patient, patients_shown


def _payment(user: User, entry_id: int) -> tuple[LedgerEntry, Patient]:
    entry = LedgerEntry.objects.filter(
        pk=entry_id, kind=EntryKind.PAYMENT, clinic=staff_clinic(user)
    ).first()
    if entry is None:
        raise Http404("No such payment")
    return entry, access_patient(user, entry.patient_id)


def _page(
    request: HttpRequest,
    entry: LedgerEntry,
    patient: Patient,
    form: VoidForm | RefundForm,
    kind: str,
) -> HttpResponse:
    # The page names the patient and the payment: a look at their account.
    patients_shown(
        context=audit_context(request),
        patient_ids=[patient.pk],
        page=AuditObject.LEDGER_ENTRY,
        object_id=entry.pk,
    )
    context = {
        "entry": entry,
        "patient": patient,
        "form": form,
        "kind": kind,
        "refunded": reversals.refunded_so_far(entry.pk),
        "voided": reversals.is_voided(entry.pk),
    }
    status = 400 if form.is_bound else 200
    return render(request, "billing/reversal_form.html", context, status=status)


@policy(Action.BILLING_REVERSE)
def payment_void_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Void a payment of today's open drawer, with a reason (billing/reversals.py)."""
    user = staff_user(request)
    entry, patient = _payment(user, entry_id)
    form = VoidForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            reversals.payment_void(
                context=audit_context(request),
                user=user,
                payment_id=entry.pk,
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except BillingRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Payment of {money_format(entry.amount)} voided.")
            return redirect("patients:chart", patient.pk)
    return _page(request, entry, patient, form, "void")


@policy(Action.BILLING_REVERSE)
def payment_refund_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Give back some or all of a payment, from the refunder's drawer (billing/reversals.py)."""
    user = staff_user(request)
    entry, patient = _payment(user, entry_id)
    form = RefundForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            refund = reversals.payment_refund(
                context=audit_context(request),
                user=user,
                payment_id=entry.pk,
                amount=form.cleaned_data["amount"],
                method=form.cleaned_data["method"],
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except BillingRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Refund of {money_format(refund.amount)} recorded.")
            return redirect("patients:chart", patient.pk)
    return _page(request, entry, patient, form, "refund")


def _statement(request: HttpRequest, patient_id: int) -> tuple[selectors.Statement, Patient]:
    user = staff_user(request)
    clinic = staff_clinic(user)
    patient = access_patient(user, patient_id)
    patients_shown(
        context=audit_context(request),
        printed=True,
        patient_ids=[patient.pk],
        page=AuditObject.BALANCE_STATEMENT,
        object_id=patient.pk,
    )
    statement = selectors.balance_statement(
        clinic=clinic, patient_id=patient.pk, now=timezone.now()
    )
    return statement, patient


@policy(Action.BILLING_VIEW)
def statement_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's balance statement, printable: every ledger line, the running balance and
    how to pay. Printing it is recorded on the patient's access log."""
    statement, patient = _statement(request, patient_id)
    return render(request, "billing/statement.html", {"statement": statement, "patient": patient})


@policy(Action.BILLING_VIEW)
def statement_pdf_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The same statement as a PDF to mail or hand over (recorded as a print, like the page)."""
    statement, patient = _statement(request, patient_id)
    pdf = pdf_from_template(
        "billing/statement_pdf.html", {"statement": statement, "patient": patient}
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{patient.mrn}.pdf"'
    for header, value in USER_FILE_HEADERS.items():
        response[header] = value
    return response
