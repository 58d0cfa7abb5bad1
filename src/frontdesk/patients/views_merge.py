"""Merge and unmerge (supervisors): the clinic's likely duplicates, pick the duplicate, compare
side by side, choose values."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.patients.duplicates_report import duplicates_report_show
from frontdesk.patients.merging import (
    MergeRefusedError,
    merge_comparison,
    patient_merge,
    patient_unmerge,
)
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_merge, access_patient, patients_shown


@policy(Action.PATIENT_MERGE)
def merge_start_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Ask for the MRN of the duplicate to fold into this record."""
    user = staff_user(request)
    survivor = access_patient(user, patient_id)
    mrn = "".join(request.GET.get("mrn", "").split())
    other = Patient.objects.filter(clinic_id=survivor.clinic_id, mrn=mrn).first() if mrn else None
    # The page shows the record kept, and the lookup tells whether an MRN is a record and
    # whether it is merged: both are looks at those patients, on their access logs.
    patients_shown(
        context=audit_context(request),
        patient_ids=[survivor.pk, *([other.pk] if other is not None else [])],
        page=AuditObject.MERGE_START,
        object_id=survivor.pk,
        detail={"mrn": mrn, "found": other is not None} if mrn else None,
    )
    error = ""
    if mrn:
        if other is None:
            error = f"No patient has MRN {mrn}. Check the number."
        elif other.pk == survivor.pk:
            error = "That is this patient's own MRN. Type the duplicate's MRN."
        elif not other.is_active:
            error = f"MRN {mrn} is already merged into another record."
        else:
            return redirect("patients:merge_compare", survivor_id=survivor.pk, merged_id=other.pk)
    context = {"patient": survivor, "mrn": mrn, "error": error}
    return render(request, "patients/merge_start.html", context, status=400 if error else 200)


@policy(Action.PATIENT_MERGE)
def merge_compare_view(request: HttpRequest, survivor_id: int, merged_id: int) -> HttpResponse:
    user = staff_user(request)
    survivor = access_patient(user, survivor_id)
    merged = access_patient(user, merged_id)
    if survivor.pk != survivor_id or merged.pk != merged_id or survivor.pk == merged.pk:
        raise Http404("One of these records is already merged")
    groups = merge_comparison(survivor, merged)
    error = ""
    if request.method == "POST":
        take = {g.label for g in groups if request.POST.get(f"take:{g.label}") == "merged"}
        try:
            patient_merge(
                context=audit_context(request),
                user=user,
                survivor=survivor,
                merged=merged,
                take_from_merged=take,
                reason=request.POST.get("reason", "")[:300],
            )
        except MergeRefusedError as exc:
            error = str(exc)
        else:
            messages.success(
                request, f"Merged MRN {merged.mrn} into MRN {survivor.mrn}. It can be undone below."
            )
            return redirect("patients:chart", patient_id=survivor.pk)
    patients_shown(
        context=audit_context(request),
        patient_ids=[survivor.pk, merged.pk],
        page=AuditObject.MERGE_COMPARISON,
    )
    context = {"survivor": survivor, "merged": merged, "groups": groups, "error": error}
    return render(request, "patients/merge_compare.html", context, status=400 if error else 200)


@policy(Action.PATIENT_MERGE)
@require_POST
def unmerge_view(request: HttpRequest, merge_id: int) -> HttpResponse:
    user = staff_user(request)
    merge = access_merge(user, merge_id)
    try:
        restored = patient_unmerge(context=audit_context(request), user=user, merge=merge)
    except MergeRefusedError as exc:
        messages.error(request, str(exc))
        return redirect("patients:chart", patient_id=merge.survivor_id)
    messages.success(request, f"Undone: MRN {restored.mrn} is its own record again.")
    return redirect("patients:chart", patient_id=restored.pk)


@policy(Action.PATIENT_DUPLICATES_REPORT)
def duplicates_view(request: HttpRequest) -> HttpResponse:
    """The clinic's likely duplicate pairs, most likely first, each one click from the merge
    page; audited as the export is (duplicates_report.duplicates_report_show)."""
    user = staff_user(request)
    report = duplicates_report_show(
        context=audit_context(request),
        clinic=staff_clinic(user),
        page_number=request.GET.get("page"),
    )
    return render(request, "patients/duplicates.html", {"report": report})
