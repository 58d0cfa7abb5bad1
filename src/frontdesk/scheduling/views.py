"""The front desk's calendar: day view, find a time, book, and act on an appointment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.models import AuditAction
from frontdesk.audit.services import audit_context, audit_record
from frontdesk.clinic.models import AppointmentType, Location
from frontdesk.lib.ids import parse_id
from frontdesk.patients.selectors import access_patient
from frontdesk.scheduling import selectors, services
from frontdesk.scheduling.availability import SlotPreferences, free_slots
from frontdesk.scheduling.forms import CancelForm, FindForm, calendar_date, parse_start
from frontdesk.scheduling.models import Appointment, Schedule

SEARCH_DAYS = 60
OPTIONS = 12


def _posted_id(request: HttpRequest, name: str) -> int:
    """A numeric id from the form; anything else is a page that does not exist."""
    number = parse_id(request.POST.get(name, ""))
    if number is None:
        raise Http404(f"No such {name}")
    return number


CONFIRM_OFFERED = "confirm_offered"


def offered_time_page(
    request: HttpRequest, refusal: services.OfferedTimeError, *, back: str, button: str
) -> HttpResponse:
    """The time is offered to waiting patients: say so, and let the officer go ahead with
    everything they typed kept (posted again to the same address) or choose another time."""
    context = {
        "refusal": refusal,
        "post": request.POST,
        "confirm_name": CONFIRM_OFFERED,
        "back": back,
        "button": button,
    }
    return render(request, "scheduling/offered.html", context, status=409)


def _offers(request: HttpRequest) -> services.OpenOffers:
    confirmed = request.POST.get(CONFIRM_OFFERED) == "yes"
    return services.OpenOffers.WITHDRAW if confirmed else services.OpenOffers.REFUSE


# Cancelling offers the freed time to the waitlist (waitlist.waitlist_time_freed) whenever it
# is still ahead; patients whose wishes fit and who agreed to messages get the offer.
WAITLIST_NOTE = "Patients on the waitlist whom the time fits are offered it."


def _freed_time_offered(appointment: Appointment) -> bool:
    return appointment.end > timezone.now()


def _day_from(request: HttpRequest) -> dt.date:
    return calendar_date(request.GET.get("date")) or timezone.localdate()


@policy(Action.APPOINTMENT_VIEW)
def day_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    clinic = staff_clinic(user)
    day = _day_from(request)
    location_id = parse_id(request.GET.get("location"))
    location = (
        Location.objects.filter(clinic=clinic, pk=location_id).first() if location_id else None
    )
    view = selectors.day_view(user, day=day, location_id=location.pk if location else None)
    if view.patient_ids:
        audit_record(
            context=audit_context(request),
            action=AuditAction.VIEW,
            patient_ids=view.patient_ids,
            object_type="day_view",
            detail={"date": day.isoformat()},
        )
    context = {
        "view": view,
        "rows": list(
            zip(view.times, zip(*[c.cells for c in view.columns], strict=True), strict=True)
        )
        if view.columns and view.times
        else [],
        "previous": day - dt.timedelta(days=1),
        "next": day + dt.timedelta(days=1),
        "locations": Location.objects.filter(clinic=clinic).order_by("name"),
        "location": location,
        "can_book": role_may(user.role, Action.APPOINTMENT_BOOK),
        "now": timezone.now(),
    }
    return render(request, "scheduling/day.html", context)


def _options(form: FindForm, clinic_id: int) -> list[Any]:
    data = form.cleaned_data
    schedules = Schedule.objects.filter(clinic_id=clinic_id, is_active=True)
    if data.get("provider"):
        schedules = schedules.filter(provider=data["provider"])
    if data.get("location"):
        schedules = schedules.filter(location=data["location"])
    now = timezone.now()
    start = now
    if data.get("date_from"):
        local = dt.datetime.combine(
            data["date_from"], dt.time(0), tzinfo=timezone.get_current_timezone()
        )
        start = max(now, local)
    preferences = SlotPreferences(
        weekdays=frozenset(int(d) for d in data.get("weekdays") or []),
        time_of_day=data.get("time_of_day") or None,
    )
    return free_slots(
        appointment_type=data["appointment_type"],
        schedules=schedules.select_related("provider", "location"),
        start=start,
        end=start + dt.timedelta(days=SEARCH_DAYS),
        now=now,
        preferences=preferences,
        limit=OPTIONS,
    )


@policy(Action.APPOINTMENT_BOOK)
def find_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Next free times for a patient: type, provider or any, place, days, time of day."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    patient = access_patient(user, patient_id)
    moving_id = parse_id(request.GET.get("appointment"))
    moving = selectors.access_appointment(user, moving_id) if moving_id else None
    initial = {"appointment_type": moving.appointment_type_id} if moving else None
    form = FindForm(
        request.GET if "appointment_type" in request.GET else None,
        clinic_id=clinic.pk,
        initial=initial,
    )
    options = _options(form, clinic.pk) if form.is_bound and form.is_valid() else []
    audit_record(
        context=audit_context(request),
        action=AuditAction.VIEW,
        patient_ids=[patient.pk],
        object_type="find_time",
    )
    context = {
        "patient": patient,
        "form": form,
        "options": options,
        "moving": moving,
        "searched": form.is_bound,
    }
    return render(request, "scheduling/find.html", context, status=400 if form.errors else 200)


@policy(Action.APPOINTMENT_BOOK)
@require_POST
def book_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = staff_user(request)
    clinic = staff_clinic(user)
    patient = access_patient(user, patient_id)
    schedule = get_object_or_404(
        Schedule.objects.select_related("provider", "location"),
        pk=_posted_id(request, "schedule"),
        clinic=clinic,
    )
    kind = get_object_or_404(
        AppointmentType, pk=_posted_id(request, "appointment_type"), clinic=clinic
    )
    start = parse_start(request.POST.get("start", ""))
    if start is None:
        raise Http404("No such time")
    overlaps = selectors.patient_overlapping_appointments(
        patient_id=patient.pk,
        start=start,
        end=start + dt.timedelta(minutes=kind.duration_minutes),
    )
    if overlaps and request.POST.get("confirm_overlap") != "yes":
        return render(
            request,
            "scheduling/overlap.html",
            {
                "patient": patient,
                "overlaps": overlaps,
                "post": request.POST,
                "start": start,
                "schedule": schedule,
                "kind": kind,
            },
            status=409,
        )
    try:
        appointment = services.appointment_book(
            context=audit_context(request),
            user=user,
            patient=patient,
            schedule=schedule,
            appointment_type=kind,
            start=start,
            overbook_reason=request.POST.get("overbook_reason", "")[:200],
            offers=_offers(request),
        )
    except services.OfferedTimeError as exc:
        back = f"/schedule/patients/{patient.pk}/find/?appointment_type={kind.pk}"
        return offered_time_page(request, exc, back=back, button="Book anyway")
    except services.BookingRefusedError as exc:
        messages.error(request, str(exc))
        query = f"appointment_type={kind.pk}&provider={schedule.provider_id}"
        return redirect(f"/schedule/patients/{patient.pk}/find/?{query}")
    messages.success(
        request,
        f"Booked {patient.given_name} {patient.family_name} with {schedule.provider} on "
        f"{timezone.localtime(appointment.start):%a %b %-d at %H:%M}.",
    )
    return redirect("scheduling:appointment", appointment_id=appointment.pk)


@policy(Action.APPOINTMENT_VIEW)
def appointment_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = staff_user(request)
    appointment = selectors.access_appointment(user, appointment_id)
    audit_record(
        context=audit_context(request),
        action=AuditAction.VIEW,
        patient_ids=[appointment.patient_id],
        object_type="appointment",
        object_id=appointment.pk,
    )
    context = {
        "appointment": appointment,
        "history": list(appointment.history.select_related("by")),
        "cancel_form": CancelForm(),
        "can_book": role_may(user.role, Action.APPOINTMENT_BOOK),
        "freed_time_offered": _freed_time_offered(appointment),
    }
    return render(request, "scheduling/appointment.html", context)


@policy(Action.APPOINTMENT_BOOK)
@require_POST
def appointment_action_view(request: HttpRequest, appointment_id: int, action: str) -> HttpResponse:
    """confirm, cancel, no-show, or move to a chosen time."""
    user = staff_user(request)
    appointment = selectors.access_appointment(user, appointment_id)
    context = audit_context(request)
    try:
        if action == "confirm":
            services.appointment_confirm(context=context, user=user, appointment=appointment)
            messages.success(request, "Confirmed.")
        elif action == "no-show":
            services.appointment_no_show(context=context, user=user, appointment=appointment)
            messages.success(request, "Marked as a no-show.")
        elif action == "cancel":
            form = CancelForm(request.POST)
            if not form.is_valid():
                return render(
                    request,
                    "scheduling/appointment.html",
                    {
                        "appointment": appointment,
                        "cancel_form": form,
                        "can_book": True,
                        "freed_time_offered": _freed_time_offered(appointment),
                        "history": list(appointment.history.select_related("by")),
                    },
                    status=400,
                )
            services.appointment_cancel(
                context=context,
                user=user,
                appointment=appointment,
                cancelled_by=form.cleaned_data["cancelled_by"],
                reason=form.cleaned_data["reason"],
            )
            offered = _freed_time_offered(appointment)
            messages.success(
                request,
                "Cancelled; the time is free again." + (f" {WAITLIST_NOTE}" if offered else ""),
            )
        elif action == "move":
            schedule = get_object_or_404(
                Schedule, pk=_posted_id(request, "schedule"), clinic=staff_clinic(user)
            )
            start = parse_start(request.POST.get("start", ""))
            if start is None:
                raise Http404("No such time")
            services.appointment_reschedule(
                context=context,
                user=user,
                appointment=appointment,
                schedule=schedule,
                start=start,
                reason=request.POST.get("reason", "")[:200],
                offers=_offers(request),
            )
            messages.success(request, f"Moved to {timezone.localtime(start):%a %b %-d at %H:%M}.")
        else:
            raise Http404("No such action")
    except services.OfferedTimeError as exc:
        back = (
            f"/schedule/patients/{appointment.patient_id}/find/"
            f"?appointment={appointment.pk}&appointment_type={appointment.appointment_type_id}"
        )
        return offered_time_page(request, exc, back=back, button="Move anyway")
    except services.BookingRefusedError as exc:
        messages.error(request, str(exc))
    return redirect("scheduling:appointment", appointment_id=appointment.pk)
