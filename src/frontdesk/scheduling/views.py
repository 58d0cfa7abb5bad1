"""The front desk's calendar: day view, find a time, book, and act on an appointment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.clinic.models import AppointmentType, Location
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.ids import parse_id
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_patient, patients_shown
from frontdesk.scheduling import selectors, services
from frontdesk.scheduling.availability import FreeSlot, SlotPreferences, free_slots
from frontdesk.scheduling.forms import (
    BookDetailsForm,
    CancelForm,
    FindForm,
    calendar_date,
    parse_start,
)
from frontdesk.scheduling.models import Appointment, Schedule
from frontdesk.scheduling.visit_warnings import visit_warnings

SEARCH_DAYS = 60
# Free times a refused booking offers instead, from the refused time on.
NEARBY_TIMES = 6


def _posted_id(request: HttpRequest, name: str) -> int:
    """A numeric id from the form; anything else is a page that does not exist."""
    number = parse_id(request.POST.get(name, ""))
    if number is None:
        raise Http404(f"No such {name}")
    return number


CONFIRM_OFFERED = "confirm_offered"


def offered_time_page(
    request: HttpRequest,
    refusal: services.OfferedTimeError,
    *,
    back: str,
    button: str,
    back_post: bool = False,
) -> HttpResponse:
    """The time is offered to waiting patients: say so, and let the officer go ahead with
    everything they typed kept (posted again to the same address) or choose another time."""
    context = {
        "refusal": refusal,
        "post": request.POST,
        "confirm_name": CONFIRM_OFFERED,
        "back": back,
        "back_post": back_post,  # "choose another time" posts what was typed back to `back`
        "button": button,
    }
    return render(request, "scheduling/offered.html", context, status=409)


def _offers(request: HttpRequest) -> services.OpenOffers:
    confirmed = request.POST.get(CONFIRM_OFFERED) == "yes"
    return services.OpenOffers.WITHDRAW if confirmed else services.OpenOffers.REFUSE


# Cancelling offers the freed time to the waitlist (waitlist.offers.waitlist_time_freed)
# whenever it is still ahead; patients whose wishes fit and who agreed to messages get the offer.
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
    view = selectors.day_for_view(
        user,
        context=audit_context(request),
        day=day,
        location_id=location.pk if location else None,
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


# The search's own fields, carried through the confirmation so "Back" shows the same times.
SEARCH_KEYS = ("appointment_type", "provider", "location", "date_from", "weekdays", "time_of_day")
# What the officer typed for the booking, and where to go once it is booked.
KEPT_KEYS = ("reason", "note")


def safe_next(value: str | None) -> str:
    """A local path to return to after booking (the check-out page); "" for anything else."""
    value = (value or "").strip()
    if not value.startswith("/") or not url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return ""
    return value


def _carried(data: QueryDict, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(key, value) for key in keys for value in data.getlist(key)]


@dataclass(frozen=True)
class _Search:
    """Where and when a valid find-a-time form looks: its schedules, its first moment, now."""

    schedules: QuerySet[Schedule]
    start: dt.datetime
    now: dt.datetime
    preferences: SlotPreferences


def _search(form: FindForm, clinic_id: int) -> _Search:
    data = form.cleaned_data
    schedules = Schedule.objects.filter(clinic_id=clinic_id, is_active=True)
    if data.get("provider"):
        schedules = schedules.filter(provider=data["provider"])
    if data.get("location"):
        schedules = schedules.filter(location=data["location"])
    now = timezone.now()
    start = now
    if data.get("date_from"):
        local = dt.datetime.combine(data["date_from"], dt.time(0), tzinfo=clinic_zone(clinic_id))
        start = max(now, local)
    preferences = SlotPreferences(
        weekdays=frozenset(int(d) for d in data.get("weekdays") or []),
        time_of_day=data.get("time_of_day") or None,
    )
    return _Search(schedules.select_related("provider", "location"), start, now, preferences)


def _free_week(form: FindForm, clinic_id: int, day: dt.date | None) -> selectors.FreeWeek | None:
    search = _search(form, clinic_id)
    return selectors.free_week(
        appointment_type=form.cleaned_data["appointment_type"],
        schedules=search.schedules,
        start=search.start,
        end=search.start + dt.timedelta(days=SEARCH_DAYS),
        now=search.now,
        preferences=search.preferences,
        day=day,
    )


def _find_page(
    request: HttpRequest,
    patient: Patient,
    data: QueryDict,
    *,
    moving: Appointment | None = None,
    refusal: str = "",
) -> HttpResponse:
    """Find a time: the search, a row of seven days with their counts of free times, and the
    chosen day's times. What the officer typed for the booking (`reason`, `note`) and where to
    return (`next`) ride along in the forms, so going back from the confirmation loses nothing."""
    clinic = staff_clinic(staff_user(request))
    initial = {"appointment_type": moving.appointment_type_id} if moving else None
    form = FindForm(
        data if "appointment_type" in data else None, clinic_id=clinic.pk, initial=initial
    )
    searched = form.is_bound and form.is_valid()
    week = _free_week(form, clinic.pk, calendar_date(data.get("day"))) if searched else None
    patients_shown(
        context=audit_context(request), patient_ids=[patient.pk], page=AuditObject.FIND_TIME
    )
    kept = [(key, value) for key, value in _carried(data, KEPT_KEYS) if value]
    back_to = "" if moving else safe_next(data.get("next"))
    context = {
        "patient": patient,
        "form": form,
        "week": week,
        "moving": moving,
        "searched": form.is_bound,
        "search_carried": _carried(data, SEARCH_KEYS),
        "kept": kept,
        "next": back_to,
        "refusal": refusal,
    }
    status = 409 if refusal else 400 if form.errors else 200
    return render(request, "scheduling/find.html", context, status=status)


def _refused_page(
    request: HttpRequest, patient: Patient, *, start: dt.datetime, refusal: str
) -> HttpResponse:
    """A booking refused at "Confirm booking" (most often: the time was just taken by another
    desk): the reason in words and the next few free times from the refused one for the same
    search, each a button to book it, and "All free times" back to find a time. One short
    search, not a fresh week of times: while desks race for the same times, a refusal must cost
    little more than a booking. What was typed and the search ride along in every button."""
    clinic = staff_clinic(staff_user(request))
    form = FindForm(request.POST, clinic_id=clinic.pk)
    nearby: list[FreeSlot] = []
    if form.is_valid():
        search = _search(form, clinic.pk)
        first = max(start, search.start)
        nearby = free_slots(
            appointment_type=form.cleaned_data["appointment_type"],
            schedules=search.schedules,
            start=first,
            end=first + dt.timedelta(days=SEARCH_DAYS),
            now=search.now,
            preferences=search.preferences,
            limit=NEARBY_TIMES,
        )
    patients_shown(
        context=audit_context(request), patient_ids=[patient.pk], page=AuditObject.FIND_TIME
    )
    context = {
        "patient": patient,
        "refusal": refusal,
        "nearby": nearby,
        "search_carried": _carried(request.POST, SEARCH_KEYS),
        "kept": [(key, value) for key, value in _carried(request.POST, KEPT_KEYS) if value],
        "next": safe_next(request.POST.get("next")),
    }
    return render(request, "scheduling/refused.html", context, status=409)


@policy(Action.APPOINTMENT_BOOK)
def find_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Next free times for a patient: type, provider or any, place, days, time of day. A POST
    comes back from the confirmation ("Back") with what was typed, kept out of the address."""
    user = staff_user(request)
    patient = access_patient(user, patient_id)
    data = request.POST if request.method == "POST" else request.GET
    moving_id = parse_id(data.get("appointment"))
    moving = selectors.access_appointment(user, moving_id) if moving_id else None
    return _find_page(request, patient, data, moving=moving)


def _posted_slot(request: HttpRequest) -> tuple[int, dt.datetime]:
    """The schedule and start of the chosen time: one `slot` button ("<schedule> <start>") or
    the two fields apart; anything else is a page that does not exist."""
    slot = request.POST.get("slot", "")
    schedule_text, _, start_text = slot.partition(" ") if slot else ("", "", "")
    schedule_id = parse_id(schedule_text) if slot else parse_id(request.POST.get("schedule", ""))
    start = parse_start(start_text if slot else request.POST.get("start", ""))
    if schedule_id is None:
        raise Http404("No such schedule")
    if start is None:
        raise Http404("No such time")
    return schedule_id, start


def _confirm_page(
    request: HttpRequest,
    *,
    patient: Patient,
    schedule: Schedule,
    kind: AppointmentType,
    start: dt.datetime,
    details: BookDetailsForm,
) -> HttpResponse:
    """What is about to be booked, read back before anything is saved."""
    patients_shown(
        context=audit_context(request), patient_ids=[patient.pk], page=AuditObject.BOOKING_REVIEW
    )
    context = {
        "patient": patient,
        "schedule": schedule,
        "kind": kind,
        "start": start,
        "end": start + dt.timedelta(minutes=kind.duration_minutes),
        "slot": f"{schedule.pk} {start.isoformat()}",
        "details": details,
        "search_carried": _carried(request.POST, SEARCH_KEYS),
        "day": calendar_date(request.POST.get("day")),
        "next": safe_next(request.POST.get("next")),
        # An authorisation that will have expired by then, or whose visits are used up.
        "warnings": visit_warnings(patient_id=patient.pk, start=start),
    }
    return render(
        request, "scheduling/confirm.html", context, status=400 if details.errors else 200
    )


@policy(Action.APPOINTMENT_BOOK)
@require_POST
def book_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A chosen time is read back first (patient, provider, time, type, place, reason and note);
    only "Confirm booking" (`confirm=yes`) books it."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    patient = access_patient(user, patient_id)
    schedule_id, start = _posted_slot(request)
    schedule = get_object_or_404(
        Schedule.objects.select_related("provider", "location"), pk=schedule_id, clinic=clinic
    )
    kind = get_object_or_404(
        AppointmentType, pk=_posted_id(request, "appointment_type"), clinic=clinic
    )
    details = BookDetailsForm(request.POST)
    if request.POST.get("confirm") != "yes" or not details.is_valid():
        return _confirm_page(
            request, patient=patient, schedule=schedule, kind=kind, start=start, details=details
        )
    overlaps = selectors.patient_overlapping_appointments(
        patient_id=patient.pk,
        start=start,
        end=start + dt.timedelta(minutes=kind.duration_minutes),
    )
    back = reverse("scheduling:find", args=[patient.pk])
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
                "back_post": back,
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
            reason=details.cleaned_data["reason"],
            note=details.cleaned_data["note"],
            offers=_offers(request),
        )
    except services.OfferedTimeError as exc:
        return offered_time_page(request, exc, back=back, button="Book anyway", back_post=True)
    except services.BookingRefusedError as exc:
        return _refused_page(
            request,
            patient,
            start=start,
            refusal=f"{exc} Nothing was booked; choose another time below.",
        )
    messages.success(
        request,
        f"Booked {patient.given_name} {patient.family_name} with {schedule.provider} on "
        f"{timezone.localtime(appointment.start):%a %b %-d at %H:%M}.",
    )
    return redirect(
        safe_next(request.POST.get("next"))
        or reverse("scheduling:appointment", args=[appointment.pk])
    )


@policy(Action.APPOINTMENT_VIEW)
def appointment_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = staff_user(request)
    appointment = selectors.appointment_for_view(
        user, context=audit_context(request), appointment_id=appointment_id
    )
    context = {
        "appointment": appointment,
        "history": list(appointment.history.select_related("by")),
        "cancel_form": CancelForm(),
        "can_book": role_may(user.role, Action.APPOINTMENT_BOOK),
        "can_write_letter": role_may(user.role, Action.LETTER_ISSUE),
        "freed_time_offered": _freed_time_offered(appointment),
    }
    return render(request, "scheduling/appointment.html", context)


def _back_to_appointment(appointment: Appointment) -> HttpResponse:
    return redirect("scheduling:appointment", appointment_id=appointment.pk)


def _status_change(
    request: HttpRequest,
    appointment_id: int,
    change: Callable[..., object],
    done: str,
) -> HttpResponse:
    """Confirm or no-show: one service call, its refusal or `done` said, back to the visit."""
    user = staff_user(request)
    appointment = selectors.access_appointment(user, appointment_id)
    try:
        change(context=audit_context(request), user=user, appointment=appointment)
    except services.BookingRefusedError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return _back_to_appointment(appointment)


@policy(Action.APPOINTMENT_CONFIRM)
@require_POST
def appointment_confirm_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """The patient confirmed they are coming."""
    return _status_change(request, appointment_id, services.appointment_confirm, "Confirmed.")


@policy(Action.APPOINTMENT_NO_SHOW)
@require_POST
def appointment_no_show_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """The patient did not come."""
    return _status_change(
        request, appointment_id, services.appointment_no_show, "Marked as a no-show."
    )


@policy(Action.APPOINTMENT_CANCEL)
@require_POST
def appointment_cancel_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Cancel, saying who cancelled and why; the freed time goes to the waitlist."""
    user = staff_user(request)
    appointment = selectors.access_appointment(user, appointment_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        context = {
            "appointment": appointment,
            "cancel_form": form,
            "can_book": True,
            "freed_time_offered": _freed_time_offered(appointment),
            "history": list(appointment.history.select_related("by")),
        }
        return render(request, "scheduling/appointment.html", context, status=400)
    try:
        services.appointment_cancel(
            context=audit_context(request),
            user=user,
            appointment=appointment,
            cancelled_by=form.cleaned_data["cancelled_by"],
            reason=form.cleaned_data["reason"],
        )
    except services.BookingRefusedError as exc:
        messages.error(request, str(exc))
    else:
        offered = _freed_time_offered(appointment)
        messages.success(
            request,
            "Cancelled; the time is free again." + (f" {WAITLIST_NOTE}" if offered else ""),
        )
    return _back_to_appointment(appointment)


@policy(Action.APPOINTMENT_MOVE)
@require_POST
def appointment_move_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Move the appointment to a time chosen in find-a-time."""
    user = staff_user(request)
    appointment = selectors.access_appointment(user, appointment_id)
    schedule_id, start = _posted_slot(request)
    schedule = get_object_or_404(Schedule, pk=schedule_id, clinic=staff_clinic(user))
    try:
        services.appointment_reschedule(
            context=audit_context(request),
            user=user,
            appointment=appointment,
            schedule=schedule,
            start=start,
            reason=request.POST.get("reason", "")[:200],
            offers=_offers(request),
        )
    except services.OfferedTimeError as exc:
        back = (
            f"/schedule/patients/{appointment.patient_id}/find/"
            f"?appointment={appointment.pk}&appointment_type={appointment.appointment_type_id}"
        )
        return offered_time_page(request, exc, back=back, button="Move anyway")
    except services.BookingRefusedError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Moved to {timezone.localtime(start):%a %b %-d at %H:%M}.")
    return _back_to_appointment(appointment)
