"""Further addresses and identity documents, added, changed and removed from the chart, and
wrong household links removed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.patients import services
from frontdesk.patients.forms import IdentityDocumentForm, PatientAddressForm
from frontdesk.patients.models import IdentityDocument, Patient, PatientAddress
from frontdesk.patients.selectors import (
    HouseholdMember,
    access_household_link,
    access_patient,
    identity_document_holder_id,
    patients_shown,
)


def _initial(instance: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in names}


@policy(Action.PATIENT_REGISTER)
def address_edit_view(
    request: HttpRequest, patient_id: int, address_id: int | None = None
) -> HttpResponse:
    patient = access_patient(staff_user(request), patient_id)
    address = (
        get_object_or_404(PatientAddress, pk=address_id, patient=patient) if address_id else None
    )
    if request.method == "POST":
        form = PatientAddressForm(request.POST)
        if form.is_valid():
            services.patient_address_save(
                context=audit_context(request),
                patient=patient,
                data=form.cleaned_data,
                address=address,
            )
            messages.success(request, "Address saved.")
            return redirect("patients:chart", patient_id=patient.pk)
    else:
        initial = _initial(address, services.ADDRESS_FIELDS) if address else {"country": "US"}
        form = PatientAddressForm(initial=initial)
    patients_shown(
        context=audit_context(request),
        patient_ids=[patient.pk],
        page=AuditObject.PATIENT_ADDRESS_FORM,
        object_id=address.pk if address else "",
    )
    context = {"form": form, "patient": patient, "address": address}
    return render(
        request, "patients/address_form.html", context, status=400 if form.errors else 200
    )


@policy(Action.PATIENT_REGISTER)
@require_POST
def address_remove_view(request: HttpRequest, patient_id: int, address_id: int) -> HttpResponse:
    patient = access_patient(staff_user(request), patient_id)
    address = get_object_or_404(PatientAddress, pk=address_id, patient=patient)
    services.patient_address_remove(
        context=audit_context(request), patient=patient, address=address
    )
    messages.success(request, f"{address.get_kind_display()} address removed.")
    return redirect("patients:chart", patient_id=patient.pk)


@policy(Action.PATIENT_REGISTER)
def document_edit_view(
    request: HttpRequest, patient_id: int, document_id: int | None = None
) -> HttpResponse:
    """Add or change an identity document. Opening an existing one shows its number in full,
    so that is audited as a reveal."""
    patient = access_patient(staff_user(request), patient_id)
    document = (
        get_object_or_404(IdentityDocument, pk=document_id, patient=patient)
        if document_id
        else None
    )
    if request.method == "POST":
        form = IdentityDocumentForm(request.POST)
        if form.is_valid() and _document_saved(request, form, patient, document):
            messages.success(request, "Identity document saved.")
            return redirect("patients:chart", patient_id=patient.pk)
    else:
        initial = _initial(document, services.DOCUMENT_FIELDS) if document else None
        form = IdentityDocumentForm(initial=initial)
    if document is not None:
        services.identity_document_reveal_record(
            context=audit_context(request), document=document, purpose="change"
        )
    else:
        patients_shown(
            context=audit_context(request),
            patient_ids=[patient.pk],
            page=AuditObject.IDENTITY_DOCUMENT_FORM,
        )
    context = {"form": form, "patient": patient, "document": document}
    return render(
        request, "patients/document_form.html", context, status=400 if form.errors else 200
    )


def _document_saved(
    request: HttpRequest,
    form: IdentityDocumentForm,
    patient: Patient,
    document: IdentityDocument | None,
) -> bool:
    """Save the document, or put the reason it cannot be saved on the number field."""
    holder = identity_document_holder_id(
        clinic_id=patient.clinic_id,
        data=form.cleaned_data,
        excluding_document_id=document.pk if document else None,
    )
    try:
        if holder is not None:
            raise services.IdentityDocumentTakenError(same_patient=holder == patient.pk)
        services.identity_document_save(
            context=audit_context(request),
            patient=patient,
            data=form.cleaned_data,
            document=document,
        )
    except services.IdentityDocumentTakenError as exc:
        form.add_error("number", exc.message)
        return False
    return True


@policy(Action.PATIENT_REGISTER)
@require_POST
def document_remove_view(request: HttpRequest, patient_id: int, document_id: int) -> HttpResponse:
    patient = access_patient(staff_user(request), patient_id)
    document = get_object_or_404(IdentityDocument, pk=document_id, patient=patient)
    services.identity_document_remove(
        context=audit_context(request), patient=patient, document=document
    )
    messages.success(request, f"{document.get_kind_display()} removed.")
    return redirect("patients:chart", patient_id=patient.pk)


class HouseholdUnlinkForm(forms.Form):
    reason = forms.CharField(
        label="Why is this link wrong?",
        min_length=5,
        max_length=300,
        error_messages={
            "required": "Say why these two are not one household.",
            "min_length": "Say a little more: at least 5 characters.",
            "max_length": "Keep the reason under 300 characters.",
        },
    )


@policy(Action.PATIENT_REGISTER)
def household_unlink_view(request: HttpRequest, patient_id: int, link_id: int) -> HttpResponse:
    """Remove a wrong household link, with a reason (the chart's form posts here; a refused
    reason comes back on this page with what was typed)."""
    patient = access_patient(staff_user(request), patient_id)
    link = access_household_link(patient, link_id)
    form = HouseholdUnlinkForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.household_link_remove(
            context=audit_context(request),
            patient=patient,
            link=link,
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, "Household link removed.")
        return redirect("patients:chart", patient_id=patient.pk)
    member = HouseholdMember(link, link.other(patient.pk))
    patients_shown(
        context=audit_context(request),
        patient_ids=[patient.pk, member.patient.pk],
        page=AuditObject.HOUSEHOLD_LINK,
        object_id=link.pk,
    )
    context = {"form": form, "patient": patient, "member": member}
    return render(
        request, "patients/household_unlink.html", context, status=400 if form.errors else 200
    )
