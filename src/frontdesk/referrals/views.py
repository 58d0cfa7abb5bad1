"""Referral pages: the open list, registering an incoming one, a referral and its next step,
asking for a specialist referral, and the clinic's directory of practices."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.documents.selectors import access_document
from frontdesk.lib.form_posts import form_post_run
from frontdesk.lib.ids import parse_id
from frontdesk.patients.selectors import access_patient, patient_search_for_view, patients_shown
from frontdesk.referrals import selectors, services
from frontdesk.referrals.forms import (
    AttachForm,
    DeclineForm,
    ExternalAppointmentForm,
    IncomingForm,
    LinkForm,
    PracticeForm,
    RequestForm,
    SendForm,
    TargetForm,
)
from frontdesk.referrals.models import Direction, Practice, Referral


@policy(Action.REFERRAL_VIEW)
def list_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    referrals = selectors.open_referrals_for_view(user, context=audit_context(request))
    return render(
        request,
        "referrals/list.html",
        {
            "incoming": [r for r in referrals if r.direction == Direction.INCOMING],
            "outgoing": [r for r in referrals if r.direction == Direction.OUTGOING],
            "now": timezone.now(),
            "can_manage": role_may(user.role, Action.REFERRAL_MANAGE),
        },
    )


@policy(Action.REFERRAL_MANAGE)
def new_view(request: HttpRequest) -> HttpResponse:
    """An incoming referral: first the patient (search, or register through the duplicate
    check), then the referral itself, with the document it came in."""
    user = staff_user(request)
    data = request.POST if request.method == "POST" else request.GET
    document_id = parse_id(data.get("document"))
    if document_id is not None:
        access_document(user, document_id)  # 404 for a document this user may not see
    patient_id = parse_id(data.get("patient"))
    if patient_id is None:
        query = request.GET.get("q", "")
        _, found = patient_search_for_view(user, context=audit_context(request), query=query)
        return render(
            request,
            "referrals/choose_patient.html",
            {"query": query, "found": found, "document_id": document_id},
        )
    patient = access_patient(user, patient_id)
    documents = selectors.referral_documents_choices(user, patient.pk)
    form = IncomingForm(
        request.POST if request.method == "POST" else None,
        documents=documents,
        initial={"document": document_id},
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data.get("document")
        try:
            referral = services.referral_register(
                context=audit_context(request),
                user=user,
                patient=patient,
                details=form.details(),
                documents=[chosen] if chosen else [],
            )
        except services.ReferralError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Referral registered; it is on the desk queue until booked.")
            return redirect("referrals:referral", referral_id=referral.pk)
    else:
        patients_shown(
            context=audit_context(request), patient_ids=[patient.pk], page=AuditObject.REFERRAL
        )
    return render(
        request,
        "referrals/new.html",
        {"form": form, "patient": patient, "document_id": document_id},
        status=400 if form.errors else 200,
    )


def _page(
    request: HttpRequest, referral: Referral, forms: dict[str, object], status: int = 200
) -> HttpResponse:
    user = staff_user(request)
    can_manage = role_may(user.role, Action.REFERRAL_MANAGE)
    context: dict[str, object] = {
        "referral": referral,
        "can_manage": can_manage,
        "can_book": role_may(user.role, Action.APPOINTMENT_BOOK),
        "now": timezone.now(),
    }
    if can_manage:
        visits = selectors.booking_candidates(referral, now=timezone.now())
        context.update(
            {
                "decline_form": DeclineForm(),
                # The visit booked last is the one just booked from this page.
                "link_form": LinkForm(
                    visits=visits,
                    initial={"appointment": max(visits, key=lambda v: v.created_at).pk},
                )
                if visits
                else None,
                "send_form": SendForm(
                    practices=selectors.practices(referral.clinic_id, active_only=True),
                    documents=selectors.referral_documents_choices(
                        user, referral.patient_id
                    ).filter(patient_id=referral.patient_id),
                ),
                "external_form": ExternalAppointmentForm(),
                "attach_form": AttachForm(documents=selectors.attachable_documents(user, referral)),
            }
        )
    context.update(forms)
    return render(request, "referrals/referral.html", context, status=status)


@policy(Action.REFERRAL_VIEW)
def referral_view(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = selectors.referral_for_view(
        staff_user(request), context=audit_context(request), referral_id=referral_id
    )
    return _page(request, referral, {})


@policy(Action.REFERRAL_MANAGE)
@require_POST
def step_view(request: HttpRequest, referral_id: int, action: str) -> HttpResponse:
    """One step of the referral's life, by button; a refusal shows the page again in words."""
    user = staff_user(request)
    referral = selectors.access_referral(user, referral_id)
    context = audit_context(request)
    forms: dict[str, object] = {}
    try:
        if action == "accept":
            services.referral_accept(context=context, user=user, referral=referral)
        elif action == "decline":
            decline = DeclineForm(request.POST)
            forms["decline_form"] = decline
            if not decline.is_valid():
                raise services.ReferralError("Say why the referral is declined.")
            services.referral_decline(
                context=context, user=user, referral=referral, reason=decline.cleaned_data["reason"]
            )
        elif action == "link":
            link = LinkForm(
                request.POST, visits=selectors.booking_candidates(referral, now=timezone.now())
            )
            forms["link_form"] = link
            if not link.is_valid():
                raise services.ReferralError("Choose the visit booked for this referral.")
            services.referral_appointment_link(
                context=context,
                user=user,
                referral=referral,
                appointment=link.cleaned_data["appointment"],
            )
        elif action == "seen":
            services.referral_seen(context=context, user=user, referral=referral)
        elif action == "report-sent":
            services.referral_report_sent(context=context, user=user, referral=referral)
        elif action == "send":
            send = SendForm(
                request.POST,
                practices=selectors.practices(referral.clinic_id, active_only=True),
                documents=selectors.referral_documents_choices(user, referral.patient_id).filter(
                    patient_id=referral.patient_id
                ),
            )
            forms["send_form"] = send
            if not send.is_valid():
                raise services.ReferralError("Choose the practice to send the referral to.")
            services.referral_send(
                context=context,
                user=user,
                referral=referral,
                practice=send.cleaned_data["practice"],
                documents=list(send.cleaned_data["documents"]),
            )
        elif action == "external":
            external = ExternalAppointmentForm(request.POST)
            forms["external_form"] = external
            if not external.is_valid():
                raise services.ReferralError("Give the date the practice booked.")
            services.referral_external_appointment(
                context=context, user=user, referral=referral, when=external.cleaned_data["when"]
            )
        elif action == "attach":
            attach = AttachForm(
                request.POST, documents=selectors.attachable_documents(user, referral)
            )
            forms["attach_form"] = attach
            if not attach.is_valid():
                raise services.ReferralError("Choose the documents to add.")
            services.referral_documents_add(
                context=context,
                user=user,
                referral=referral,
                documents=list(attach.cleaned_data["documents"]),
            )
        elif action == "report-received":
            services.referral_report_received(context=context, user=user, referral=referral)
        else:
            raise Http404("No such step")
    except services.ReferralError as error:
        shown = selectors.referral_for_view(user, context=context, referral_id=referral.pk)
        return _page(request, shown, {**forms, "refusal": str(error)}, status=400)
    if action in ("accept", "decline"):
        messages.success(
            request,
            "Referral updated. The letter to the referrer is filed with it: open it under "
            "Documents to print or fax.",
        )
    else:
        messages.success(request, "Referral updated.")
    return redirect("referrals:referral", referral_id=referral.pk)


@policy(Action.REFERRAL_REQUEST)
def request_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A physician asks for a specialist referral; the desk picks the practice and sends it."""
    user = staff_user(request)
    patient = access_patient(user, patient_id)
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        referral = services.referral_request(
            context=audit_context(request),
            user=user,
            patient=patient,
            specialty=form.cleaned_data["specialty"],
            reason=form.cleaned_data["reason"],
            urgency=form.cleaned_data["urgency"],
        )
        messages.success(request, "Referral requested; the desk sends it.")
        return redirect("referrals:referral", referral_id=referral.pk)
    patients_shown(
        context=audit_context(request), patient_ids=[patient.pk], page=AuditObject.REFERRAL
    )
    return render(
        request,
        "referrals/request.html",
        {"form": form, "patient": patient},
        status=400 if form.errors else 200,
    )


@policy(Action.REFERRAL_DIRECTORY)
def practices_view(request: HttpRequest, practice_id: int | None = None) -> HttpResponse:
    """The practices the clinic refers to: the list, and the form to add or change one."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    practice = (
        selectors.access_practice(user, practice_id) if practice_id else Practice(clinic=clinic)
    )
    form = PracticeForm(request.POST or None, instance=practice)
    if request.method == "POST" and form.is_valid():
        name_taken = (
            selectors.practices(clinic.pk)
            .filter(name=form.cleaned_data["name"])
            .exclude(pk=practice.pk)
            .exists()
        )
        if name_taken:
            form.add_error("name", "The directory already has a practice of that name.")
        else:
            services.practice_save(
                context=audit_context(request), clinic=clinic, practice=form.save(commit=False)
            )
            messages.success(request, "Practice saved.")
            return redirect("referrals:practices")
    return render(
        request,
        "referrals/practices.html",
        {
            "form": form,
            "practice": practice,
            "practices": selectors.practices(clinic.pk),
            "action": reverse("referrals:practice", args=[practice.pk])
            if practice.pk
            else reverse("referrals:practices"),
        },
        status=400 if form.errors else 200,
    )


@policy(Action.SCHEDULE_SETUP)
def target_view(request: HttpRequest) -> HttpResponse:
    """The clinic's promise for booking incoming referrals: clinic set-up, no patient data."""
    clinic = staff_clinic(staff_user(request))
    form = TargetForm(
        request.POST or None,
        initial={
            "routine_days": services.referral_target_days(clinic.pk, "routine"),
            "urgent_days": services.referral_target_days(clinic.pk, "urgent"),
        },
    )
    if request.method == "POST" and form_post_run(
        request,
        form,
        lambda data: services.referral_target_save(
            context=audit_context(request),
            clinic=clinic,
            routine_days=data["routine_days"],
            urgent_days=data["urgent_days"],
        ),
        refused=services.ReferralError,
        done="Referral target saved; new referrals are due by it.",
    ):
        return redirect("referrals:target")
    return render(
        request, "referrals/target.html", {"form": form}, status=400 if form.errors else 200
    )
