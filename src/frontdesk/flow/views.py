"""The front desk's Today page and check-in, and the clinical staff's flow board."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.billing.forms import PaymentForm
from frontdesk.billing.services import (
    BillingRefusedError,
    CheckInPayment,
    PaymentAlreadyRecordedError,
    check_in_payment_record,
)
from frontdesk.clinic.models import Clinic, Location, Provider
from frontdesk.flow import display, emergency, late, live, selectors, services
from frontdesk.flow.check_in import DeskFacts, PaymentTyped, visit_check_in
from frontdesk.flow.forecast import wait_words
from frontdesk.flow.forms import CheckInForm, WalkInForm
from frontdesk.flow.models import (
    EmergencyAlert,
    FlowStatus,
    LateChoice,
    Priority,
    Queue,
    QueueEntry,
)
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.ids import parse_id
from frontdesk.lib.money import money_format
from frontdesk.lib.readback import date_in_words, spell_out
from frontdesk.patients.selectors import access_patient
from frontdesk.patients.services import DuplicateDecisionRequiredError
from frontdesk.scheduling.models import Appointment


@policy(Action.FLOW_TODAY)
def today_view(request: HttpRequest) -> HttpResponse:
    """Every appointment of today by status, with time in status; arrivals one key away."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    locations = list(Location.objects.filter(clinic=clinic).order_by("name"))
    providers = list(Provider.objects.filter(clinic=clinic, is_active=True))
    location_id = parse_id(request.GET.get("location", ""))
    provider_id = parse_id(request.GET.get("provider", ""))
    now = timezone.now()
    page = selectors.today_for_view(
        user,
        context=audit_context(request),
        day=timezone.localdate(now, clinic_zone(clinic)),
        now=now,
        location_id=location_id if any(x.pk == location_id for x in locations) else None,
        provider_id=provider_id if any(p.pk == provider_id for p in providers) else None,
    )
    context = {
        "view": page.view,
        "locations": locations,
        "providers": providers,
        "location_id": location_id,
        "provider_id": provider_id,
        "can_check_in": role_may(user.role, Action.FLOW_CHECK_IN),
        "can_see_receipts": role_may(user.role, Action.BILLING_VIEW),
        "overview": display.desk_overview(clinic_id=clinic.pk, now=now),
        "incomplete": page.incomplete,
    }
    return render(request, "flow/today.html", context)


@policy(Action.FLOW_CHECK_IN)
@require_POST
def announce_view(request: HttpRequest) -> HttpResponse:
    """One click at the desk puts (or clears) a delay notice on the waiting-room screens."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    if request.POST.get("clear"):
        display.delay_announcements_clear(context=audit_context(request), clinic=clinic)
        messages.success(request, "The delay notices are off the screens.")
        return redirect("flow:today")
    queue_id = parse_id(request.POST.get("queue", ""))
    queue = get_object_or_404(Queue, pk=queue_id, clinic=clinic) if queue_id else None
    try:
        display.delay_announce(
            context=audit_context(request),
            user=user,
            clinic=clinic,
            queue=queue,
            minutes=parse_id(request.POST.get("minutes", "")) or 0,
        )
    except display.DisplayRefusedError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The delay is on the waiting-room screens.")
    return redirect("flow:today")


@policy(Action.FLOW_CHECK_IN)
def check_in_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Read back name and birth date, show what is missing or stale and, for a late patient,
    what seeing them now does to the provider's next appointments; check in, issue a ticket."""
    user = staff_user(request)
    appointment = selectors.access_today_appointment(user, appointment_id)
    now = timezone.now()
    facts = selectors.check_in_facts(appointment, now=now)
    impact = (
        late.late_impact(appointment, now=now)
        if not facts.problem and late.is_late(appointment, now)
        else None
    )
    paying = request.method == "POST" and "record_payment" in request.POST
    checking_in = request.method == "POST" and not paying
    # An amount typed before pressing "Check in" is taken with the check-in.
    pay_too = checking_in and not facts.payment_problem and _payment_typed(request, facts)
    pay_form = PaymentForm(
        request.POST if paying or pay_too else None, initial=_payment_initial(facts)
    )
    if paying and facts.payment_problem:
        pay_form.is_valid()
        pay_form.add_error(None, facts.payment_problem)
    elif paying and pay_form.is_valid():
        try:
            return _payment_take(request, appointment, pay_form.cleaned_data)
        except PaymentAlreadyRecordedError as exc:
            messages.info(request, str(exc))
            return redirect("billing:receipt", exc.payment.pk)
        except BillingRefusedError as exc:
            facts, pay_form = _payment_asked_again(request, appointment, now, str(exc))
    form = CheckInForm(
        request.POST if checking_in else None,
        outstanding={o.key for o in facts.outstanding if o.fixable_inline},
        late=impact is not None,
    )
    if checking_in and form.is_valid() and (not pay_too or pay_form.is_valid()):
        payment = pay_form.cleaned_data if pay_too else None
        try:
            return _check_in(request, appointment, form.cleaned_data, impact, now, payment)
        except services.FlowRefusedError as exc:
            form.add_error(None, str(exc))
            facts = selectors.check_in_facts(appointment, now=now)
        except PaymentAlreadyRecordedError as exc:
            messages.info(request, str(exc))
            return redirect("flow:check_in", appointment.pk)
        except BillingRefusedError as exc:
            facts, pay_form = _payment_asked_again(request, appointment, now, str(exc))
    selectors.check_in_shown(
        context=audit_context(request),
        appointment=appointment,
        knocked_patient_ids=[k.appointment.patient_id for k in impact.knocks] if impact else [],
    )
    patient = appointment.patient
    readback = {
        "family": spell_out(patient.family_name),
        "birth": date_in_words(patient.birth_date),
    }
    context = {
        "facts": facts,
        "form": form,
        "appointment": appointment,
        "readback": readback,
        "impact": impact,
        "pay_form": pay_form,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "flow/check_in.html", context, status=status)


def _payment_initial(facts: selectors.CheckInFacts) -> dict[str, object]:
    return {"amount": facts.amount_due, "copay": facts.copay, "request_key": uuid.uuid4()}


def _payment_typed(request: HttpRequest, facts: selectors.CheckInFacts) -> bool:
    """The desk chose how the patient paid, or changed the amount prefilled as due."""
    amount = request.POST.get("amount", "").strip()
    method = request.POST.get("method", "").strip()
    return bool(method) or (bool(amount) and amount != f"{facts.amount_due:.2f}")


def _payment_asked_again(
    request: HttpRequest, appointment: Appointment, now: dt.datetime, refusal: str
) -> tuple[selectors.CheckInFacts, PaymentForm]:
    """A refused payment is shown again with the amounts as they are now; what was typed
    (amount, method) stays."""
    facts = selectors.check_in_facts(appointment, now=now)
    data = request.POST.copy()
    data["copay"] = "" if facts.copay is None else f"{facts.copay:.2f}"
    pay_form = PaymentForm(data, initial=_payment_initial(facts))
    pay_form.is_valid()
    pay_form.add_error(None, refusal)
    return facts, pay_form


def _payment_take(
    request: HttpRequest,
    appointment: Appointment,
    data: dict[str, Any],
) -> HttpResponse:
    taken = _payment_record(request, appointment, data)
    messages.success(
        request,
        f"Payment of {money_format(taken.payment.amount)} recorded; print the receipt below.",
    )
    return redirect("flow:check_in", appointment.pk)


def _payment_record(
    request: HttpRequest, appointment: Appointment, data: dict[str, Any]
) -> CheckInPayment:
    # The co-pay the page showed is charged only if it is still the one on file.
    return check_in_payment_record(
        context=audit_context(request),
        user=staff_user(request),
        appointment=appointment,
        amount=data["amount"],
        method=data["method"],
        copay=data["copay"],
        request_key=data["request_key"],
    )


def _check_in(
    request: HttpRequest,
    appointment: Appointment,
    data: dict[str, Any],
    impact: late.LateImpact | None,
    now: dt.datetime,
    payment: dict[str, Any] | None = None,
) -> HttpResponse:
    patient = appointment.patient
    done = visit_check_in(
        context=audit_context(request),
        user=staff_user(request),
        appointment=appointment,
        facts=DeskFacts(
            confirm_address=data.get("confirm_address", False),
            consent_signed=data.get("consent_signed", False),
            priority=Priority(data["priority"]),
            priority_reason=data["priority_reason"],
        ),
        late=impact,
        late_choice=LateChoice(data["late_choice"]) if impact is not None else None,
        payment=PaymentTyped(
            amount=payment["amount"],
            method=payment["method"],
            copay=payment["copay"],
            request_key=payment["request_key"],
        )
        if payment
        else None,
        now=now,
    )
    if done.entry is None:
        if payment is not None:
            messages.warning(
                request,
                "The payment typed was not recorded: take it when the patient checks in "
                "for the new time.",
            )
        messages.info(request, f"Find {patient.given_name} a new time; the old one is moved.")
        query = f"appointment={appointment.pk}&appointment_type={appointment.appointment_type_id}"
        return redirect(f"{reverse('scheduling:find', args=[patient.pk])}?{query}")
    entry = done.entry
    if done.payment is not None:
        messages.success(
            request,
            f"Payment of {money_format(done.payment.payment.amount)} recorded; its receipt is "
            "on the check-in page.",
        )
    if entry.priority == Priority.EMERGENCY:
        messages.error(request, _emergency_message(entry))
        return redirect("flow:today")
    told = ""
    if entry.told_wait_minutes is not None:
        told = f" Tell the patient: {wait_words(entry.told_wait_minutes)}."
    messages.success(
        request,
        f"Checked in {patient.given_name} {patient.family_name}: ticket {entry.ticket} for "
        f"{appointment.provider}.{told}",
    )
    return redirect("flow:today")


def _emergency_message(entry: QueueEntry) -> str:
    # Shown in the alarm's colour: the desk's next steps are the emergency playbook's.
    return (
        f"Emergency: {entry.patient.given_name} {entry.patient.family_name}, ticket "
        f"{entry.ticket}. Clinician alerted: every nurse and physician is called now. Give no "
        "waiting time; stay with the patient and follow the emergency playbook."
    )


def _board_context(request: HttpRequest) -> dict[str, object]:
    user = staff_user(request)
    staff_clinic(user)
    queue_id = parse_id(request.GET.get("queue", ""))
    view = selectors.board_for_view(
        user, context=audit_context(request), now=timezone.now(), queue_id=queue_id
    )
    if queue_id is not None and not any(q.queue.pk == queue_id for q in view.queues):
        raise Http404("No such queue")
    return {
        "board": view,
        "queue_id": queue_id,
        "version": live.flow_version(user.clinic_id or 0),
        "statuses": FlowStatus,
    }


@policy(Action.FLOW_BOARD)
def board_view(request: HttpRequest) -> HttpResponse:
    return render(request, "flow/board.html", _board_context(request))


@policy(Action.FLOW_BOARD)
def board_fragment_view(request: HttpRequest) -> HttpResponse:
    """The board's live part. With ?since=N, answers 204 (nothing to swap) when nothing has
    changed since version N, so polling costs one small query a second."""
    user = staff_user(request)
    since = parse_id(request.GET.get("since", ""))
    if since is not None and since == live.flow_version(staff_clinic(user).pk):
        return HttpResponse(status=204)
    return render(request, "flow/_board.html", _board_context(request))


async def _event_stream(clinic_id: int, since: int) -> AsyncGenerator[str, None]:
    yield "retry: 1000\n\n"
    async for version in live.flow_changes(clinic_id, since=since):
        if version is None:
            yield ": still here\n\n"
        else:
            yield f"event: flow\ndata: {json.dumps({'version': version})}\n\n"


@policy(Action.FLOW_BOARD)
def board_events_view(request: HttpRequest) -> HttpResponseBase:
    """Server-sent events: one `flow` event per committed change of the clinic's flow. The
    stream holds one of the server's stream threads while the board is open; when all of them
    are taken the answer is 204 and the page polls."""
    clinic = staff_clinic(staff_user(request))
    since = parse_id(request.GET.get("since", "")) or 0
    stream = live.stream_open(_event_stream(clinic.pk, since))
    if stream is None:
        return HttpResponse(status=204)
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies must pass events on at once
    return response


def _back_to_board(request: HttpRequest) -> HttpResponse:
    url = reverse("flow:board")
    queue_id = parse_id(request.POST.get("queue_filter", ""))
    return redirect(f"{url}?queue={queue_id}" if queue_id else url)


@policy(Action.FLOW_BOARD)
@require_POST
def board_move_view(request: HttpRequest) -> HttpResponse:
    """Move one patient on the board: called, in room, with provider, done, left, or back."""
    user = staff_user(request)
    staff_clinic(user)
    entry_id = parse_id(request.POST.get("entry", ""))
    if entry_id is None:
        raise Http404("No such patient in the queue")
    entry = selectors.access_queue_entry(user, entry_id)
    to = request.POST.get("to", "")
    if to not in FlowStatus.values:
        messages.error(request, "That step does not exist; the board has been refreshed.")
        return _back_to_board(request)
    try:
        moved = services.queue_entry_move(
            context=audit_context(request),
            user=user,
            entry=entry,
            to=FlowStatus(to),
            expected=request.POST.get("expected", "") or None,
            room=request.POST.get("room") if "room" in request.POST else None,
        )
    except services.FlowRefusedError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{moved.ticket}: {moved.get_status_display().lower()}.")
    return _back_to_board(request)


@policy(Action.FLOW_BOARD)
@require_POST
def board_call_next_view(request: HttpRequest) -> HttpResponse:
    """Call the next patient of a queue in one click (emergencies first)."""
    clinic = staff_clinic(staff_user(request))
    queue_id = parse_id(request.POST.get("queue", ""))
    if queue_id is None:
        raise Http404("No such queue")
    queue = get_object_or_404(Queue, pk=queue_id, clinic=clinic)
    try:
        entry = services.queue_call_next(
            context=audit_context(request),
            user=staff_user(request),
            queue=queue,
            room=request.POST.get("room", ""),
        )
    except services.FlowRefusedError as exc:
        messages.error(request, str(exc))
    else:
        room = f" to {entry.room}" if entry.room else ""
        messages.success(request, f"Called {entry.ticket}{room}.")
    return _back_to_board(request)


def _walk_in_queue(clinic: Clinic, choice: int) -> Queue:
    if choice == 0:
        return services.walk_in_queue(clinic)
    provider = get_object_or_404(Provider, pk=choice, clinic=clinic, is_active=True)
    return services.queue_for_provider(clinic=clinic, provider=provider)


@policy(Action.FLOW_CHECK_IN)
def walk_in_view(request: HttpRequest) -> HttpResponse:
    """A patient without an appointment: find or quickly register them, and queue them with a
    priority (an emergency goes to the front of the board with an alert)."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    choices = [(0, "Walk-ins (next free provider)")] + [
        (p.pk, str(p)) for p in Provider.objects.filter(clinic=clinic, is_active=True)
    ]
    form = WalkInForm(request.POST if request.method == "POST" else None, queues=choices)
    candidates: list[Any] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        context = audit_context(request)
        try:
            queue = _walk_in_queue(clinic, data["queue"])
            existing = parse_id(request.POST.get("use_patient", ""))
            if existing is not None:
                entry = services.walk_in_check_in(
                    context=context,
                    user=user,
                    patient=access_patient(user, existing),
                    queue=queue,
                    priority=data["priority"],
                    priority_reason=data["priority_reason"],
                )
            else:
                entry = services.walk_in_register(
                    context=context,
                    user=user,
                    clinic=clinic,
                    given_name=data["given_name"],
                    family_name=data["family_name"],
                    birth_date=data["birth_date"],
                    phone=data["phone"],
                    queue=queue,
                    priority=data["priority"],
                    priority_reason=data["priority_reason"],
                    not_a_duplicate_reason=data["not_a_duplicate_reason"],
                )
        except services.FlowRefusedError as exc:
            form.add_error(None, str(exc))
        except DuplicateDecisionRequiredError as exc:
            candidates = [c.patient for c in exc.candidates]
            selectors.walk_in_candidates_shown(context=context, patients=candidates)
        else:
            if entry.priority == Priority.EMERGENCY:
                messages.error(request, _emergency_message(entry))
            else:
                messages.success(
                    request,
                    f"{entry.patient.given_name} {entry.patient.family_name} is in the queue: "
                    f"ticket {entry.ticket}.",
                )
            return redirect("flow:today")
    status = 400 if request.method == "POST" else 200
    page = {"form": form, "candidates": candidates}
    return render(request, "flow/walk_in.html", page, status=status)


@policy(Action.FLOW_CHECK_IN)
def check_out_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """After the visit: book the follow-up with type and interval prefilled, print the visit
    slip, and complete the check-out (the appointment becomes fulfilled)."""
    user = staff_user(request)
    if request.method == "POST":
        appointment = selectors.access_today_appointment(user, appointment_id)
        try:
            services.appointment_check_out(
                context=audit_context(request), user=user, appointment=appointment
            )
        except services.FlowRefusedError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"{appointment.patient.given_name} {appointment.patient.family_name} is "
                "checked out.",
            )
            return redirect("flow:today")
        return redirect("flow:check_out", appointment_id=appointment.pk)
    appointment = selectors.check_out_for_view(
        user,
        context=audit_context(request),
        appointment_id=appointment_id,
        slip=bool(request.GET.get("slip")),
    )
    kind = appointment.appointment_type
    follow_up_from = (
        timezone.localdate() + dt.timedelta(days=kind.follow_up_interval_days)
        if kind.follow_up_interval_days
        else None
    )
    query = f"appointment_type={kind.pk}&provider={appointment.provider_id}"
    if follow_up_from is not None:
        query += f"&date_from={follow_up_from.isoformat()}"
    # Once booked, find-a-time brings the officer back here to finish the check-out.
    query += "&" + urlencode({"next": reverse("flow:check_out", args=[appointment.pk])})
    context = {
        "appointment": appointment,
        "entry": QueueEntry.objects.filter(appointment=appointment).first(),
        "follow_up_url": f"{reverse('scheduling:find', args=[appointment.patient_id])}?{query}",
        "follow_up_from": follow_up_from,
        "next_visit": selectors.next_booked_visit(appointment),
        "now": timezone.now(),
    }
    template = "flow/visit_slip.html" if request.GET.get("slip") else "flow/check_out.html"
    return render(request, template, context)


@policy(Action.FLOW_CHECK_IN)
@require_POST
def registration_complete_view(request: HttpRequest) -> HttpResponse:
    """A walk-in's record has been completed at the desk: take it off the to-do list."""
    user = staff_user(request)
    record_id = parse_id(request.POST.get("record", ""))
    if record_id is None:
        raise Http404("No such registration")
    staff_clinic(user)
    record = selectors.access_incomplete_registration(user, record_id)
    services.incomplete_registration_complete(
        context=audit_context(request), user=user, record=record
    )
    messages.success(request, "Marked complete.")
    return redirect("flow:today")


@policy(Action.FLOW_EMERGENCY_VIEW)
def emergency_banner_view(request: HttpRequest) -> HttpResponse:
    """The emergency banner of every page, asked for again by emergency.js: with ?since=<state
    shown>, 204 when nothing changed (one indexed query either way)."""
    banner = emergency.emergency_banner(staff_user(request), now=timezone.now())
    if banner is None:
        return HttpResponse(status=204)
    if request.GET.get("since", "") == banner.state:
        return HttpResponse(status=204)
    back = request.GET.get("next", "")
    page = {"emergency_banner": banner, "emergency_next": back}
    return render(request, "flow/_emergency_alerts.html", page)


@policy(Action.FLOW_EMERGENCY_ACKNOWLEDGE)
@require_POST
def emergency_acknowledge_view(request: HttpRequest, alert_id: int) -> HttpResponse:
    """ "Acknowledge: I am going" on a nurse's or physician's banner."""
    user = staff_user(request)
    alert = get_object_or_404(
        EmergencyAlert.objects.select_related("entry"), pk=alert_id, clinic_id=staff_clinic(user).pk
    )
    try:
        emergency.emergency_alert_acknowledge(
            context=audit_context(request), user=user, alert=alert
        )
    except emergency.EmergencyRefusedError as exc:
        messages.info(request, str(exc))
    else:
        messages.success(
            request,
            f"You are going to emergency {alert.entry.ticket}; the desk and your colleagues "
            "see it.",
        )
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ) and back.startswith("/"):
        return redirect(back)
    return redirect("flow:board")
