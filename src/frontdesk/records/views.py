"""Records request pages: the open list, logging a request (from the chart or the list), a
request and its next step, the accounting of disclosures, and the clinic's fee schedule."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.documents.storage import Upload
from frontdesk.lib.form_posts import form_post_run
from frontdesk.lib.ids import parse_id
from frontdesk.lib.uploads import USER_FILE_HEADERS
from frontdesk.patients.selectors import access_patient, patient_search_for_view, patients_shown
from frontdesk.records import selectors, services
from frontdesk.records.forms import (
    DenyForm,
    ExtendForm,
    RequestForm,
    SendForm,
    SettingsForm,
    VerifyForm,
)
from frontdesk.records.models import RecordsRequest


@policy(Action.RECORDS_VIEW)
def list_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    return render(
        request,
        "records/list.html",
        {
            "requests": selectors.open_requests_for_view(user, context=audit_context(request)),
            "now": timezone.now(),
            "can_manage": role_may(user.role, Action.RECORDS_MANAGE),
            "can_set_fees": role_may(user.role, Action.RECORDS_SETTINGS),
        },
    )


@policy(Action.RECORDS_MANAGE)
def new_view(request: HttpRequest) -> HttpResponse:
    """A request for records: first the patient (search), then who asks, for what, how."""
    user = staff_user(request)
    data = request.POST if request.method == "POST" else request.GET
    patient_id = parse_id(data.get("patient"))
    if patient_id is None:
        query = request.GET.get("q", "")
        _, found = patient_search_for_view(user, context=audit_context(request), query=query)
        return render(request, "records/choose_patient.html", {"query": query, "found": found})
    patient = access_patient(user, patient_id)
    form = RequestForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("authorisation")
        try:
            logged = services.records_request_log(
                context=audit_context(request),
                user=user,
                patient=patient,
                details=form.details(),
                authorisation=Upload(name=upload.name or "authorisation", data=upload.read())
                if upload
                else None,
            )
        except services.RecordsRequestError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Request logged; it is due in 30 days.")
            return redirect("records:request", request_id=logged.pk)
    else:
        patients_shown(
            context=audit_context(request),
            patient_ids=[patient.pk],
            page=AuditObject.RECORDS_REQUEST,
        )
    return render(
        request,
        "records/new.html",
        {"form": form, "patient": patient},
        status=400 if form.errors else 200,
    )


def _page(
    request: HttpRequest, shown: RecordsRequest, forms: dict[str, object], status: int = 200
) -> HttpResponse:
    user = staff_user(request)
    context: dict[str, object] = {
        "records_request": shown,
        "can_manage": role_may(user.role, Action.RECORDS_MANAGE),
        "now": timezone.now(),
        "verify_form": VerifyForm(),
        "extend_form": ExtendForm(),
        "send_form": SendForm(initial={"how": shown.delivery}),
        "deny_form": DenyForm(),
        "fee_quote": services.records_fee_quote(shown.clinic_id, how=shown.delivery, pages=None),
        **forms,
    }
    return render(request, "records/request.html", context, status=status)


@policy(Action.RECORDS_VIEW)
def request_view(request: HttpRequest, request_id: int) -> HttpResponse:
    shown = selectors.records_request_for_view(
        staff_user(request), context=audit_context(request), request_id=request_id
    )
    return _page(request, shown, {})


@policy(Action.RECORDS_MANAGE)
@require_POST
def step_view(request: HttpRequest, request_id: int, action: str) -> HttpResponse:
    """One step of the request's life, by button; a refusal shows the page again in words,
    with what was typed."""
    user = staff_user(request)
    records_request = selectors.access_records_request(user, request_id)
    context = audit_context(request)
    forms: dict[str, object] = {}
    try:
        if action == "verify":
            verify = forms["verify_form"] = VerifyForm(request.POST)
            if not verify.is_valid():
                raise services.RecordsRequestError("Say how the requester's identity was verified.")
            services.records_request_verify(
                context=context,
                user=user,
                request=records_request,
                method=verify.cleaned_data["method"],
                note=verify.cleaned_data["note"],
            )
        elif action == "start":
            services.records_request_start(context=context, user=user, request=records_request)
        elif action == "extend":
            extend = forms["extend_form"] = ExtendForm(request.POST)
            if not extend.is_valid():
                raise services.RecordsRequestError(
                    "Say why more time is needed: the requester is told in writing."
                )
            services.records_request_extend(
                context=context,
                user=user,
                request=records_request,
                reason=extend.cleaned_data["reason"],
            )
        elif action == "send":
            send = forms["send_form"] = SendForm(request.POST)
            if not send.is_valid():
                raise services.RecordsRequestError("Some details of the release need another look.")
            services.records_request_send(
                context=context,
                user=user,
                request=records_request,
                what=send.cleaned_data["what"],
                how=send.cleaned_data["how"],
                pages=send.cleaned_data["pages"],
                fee=send.cleaned_data["fee"],
            )
        elif action == "deny":
            deny = forms["deny_form"] = DenyForm(request.POST)
            if not deny.is_valid():
                raise services.RecordsRequestError(
                    "Say why the request is denied: the requester is told in writing."
                )
            services.records_request_deny(
                context=context,
                user=user,
                request=records_request,
                reason=deny.cleaned_data["reason"],
            )
        else:
            raise Http404("No such step")
    except services.RecordsRequestError as error:
        shown = selectors.records_request_for_view(user, context=context, request_id=request_id)
        return _page(request, shown, {**forms, "refusal": str(error)}, status=400)
    messages.success(request, "Request updated.")
    return redirect("records:request", request_id=request_id)


@policy(Action.DISCLOSURE_ACCOUNTING)
def accounting_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's accounting of disclosures (six years) as a PDF download."""
    patient, pdf = selectors.disclosure_accounting_pdf(
        staff_user(request), context=audit_context(request), patient_id=patient_id
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="accounting-of-disclosures-{patient.mrn}.pdf"'
    )
    for header, value in USER_FILE_HEADERS.items():
        response[header] = value
    return response


@policy(Action.RECORDS_SETTINGS)
def settings_view(request: HttpRequest) -> HttpResponse:
    """The clinic's fee schedule for copies and the desk queue's warning: no patient data."""
    clinic = staff_clinic(staff_user(request))
    current = services.records_settings(clinic.pk)
    form = SettingsForm(
        request.POST or None,
        initial={
            "electronic_fee": current.electronic_fee,
            "paper_fee_per_page": current.paper_fee_per_page,
            "warn_days": current.warn_days,
        },
    )
    if request.method == "POST" and form_post_run(
        request,
        form,
        lambda data: services.records_settings_save(
            context=audit_context(request),
            clinic=clinic,
            electronic_fee=data["electronic_fee"],
            paper_fee_per_page=data["paper_fee_per_page"],
            warn_days=data["warn_days"],
        ),
        refused=services.RecordsRequestError,
        done="Fees saved; new releases are charged by them.",
    ):
        return redirect("records:settings")
    return render(
        request, "records/settings.html", {"form": form}, status=400 if form.errors else 200
    )
