"""Eligibility pages: a patient's checks, the raw 271 (audited), "verify now" at check-in and
"verified another way" for the desk's "verify later" items."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.eligibility import selectors, services
from frontdesk.lib.ids import parse_id
from frontdesk.lib.money import money_format


@policy(Action.ELIGIBILITY_VIEW)
def patient_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    found = selectors.patient_checks_for_view(
        user=staff_user(request), context=audit_context(request), patient_id=patient_id
    )
    return render(request, "eligibility/patient.html", {"found": found})


@policy(Action.ELIGIBILITY_RAW_VIEW)
def check_raw_view(request: HttpRequest, check_id: int) -> HttpResponse:
    check = selectors.check_raw_for_view(
        user=staff_user(request), context=audit_context(request), check_id=check_id
    )
    return render(request, "eligibility/raw.html", {"check": check})


@policy(Action.ELIGIBILITY_VERIFY)
@require_POST
def verify_now_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Ask the payer now; the answer (or "could not verify") replaces the panel."""
    now = timezone.now()
    statuses, estimate = services.eligibility_verify_now_for_desk(
        user=staff_user(request),
        context=audit_context(request),
        appointment_id=appointment_id,
        now=now,
    )
    return render(
        request,
        "eligibility/_visit.html",
        {
            "statuses": statuses,
            "appointment_id": appointment_id,
            "estimate": estimate,
            # The page the panel sits on (htmx says which), to come back to after a correction.
            "back": urlsplit(request.headers.get("HX-Current-URL", "")).path,
        },
    )


@policy(Action.ELIGIBILITY_VERIFY)
@require_POST
def verified_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The desk verified the insurance another way: its "verify later" items close."""
    closed = services.verify_later_close_for_patient(
        user=staff_user(request),
        context=audit_context(request),
        patient_id=patient_id,
        now=timezone.now(),
    )
    messages.success(request, "Marked verified." if closed else "Nothing was waiting.")
    return redirect("eligibility:patient", patient_id)


@policy(Action.ELIGIBILITY_VERIFY)
@require_POST
def copay_use_view(request: HttpRequest, coverage_id: int) -> HttpResponse:
    """The officer corrects the coverage's co-pay to what the payer said; check-in then
    charges it."""
    back = request.POST.get("next", "")
    try:
        copay = services.coverage_copay_from_payer(
            user=staff_user(request),
            context=audit_context(request),
            coverage_id=coverage_id,
            check_id=parse_id(request.POST.get("check", "")) or 0,
        )
    except services.EligibilityRefusedError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The coverage's co-pay is now {money_format(copay)}.")
    # Only a path of this site: anything else typed into the form goes to the start page.
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(back)
    return redirect("home")
