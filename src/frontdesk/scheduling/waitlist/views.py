"""The waitlist pages: the clinic's list, adding a patient and changing an entry, a freed time's
candidates. (The patient's page behind an offer's link is messaging's:
messaging/views_waitlist_offer.py.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.lib.ids import parse_id
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_patient
from frontdesk.scheduling import selectors, services
from frontdesk.scheduling.availability import FreeSlot
from frontdesk.scheduling.forms import parse_start
from frontdesk.scheduling.models import (
    AppointmentStatus,
    Schedule,
    WaitlistEntry,
    WaitlistStatus,
)
from frontdesk.scheduling.views import CONFIRM_OFFERED, _posted_id, offered_time_page
from frontdesk.scheduling.waitlist.entries import (
    WaitlistError,
    waitlist_entry_add,
    waitlist_entry_book,
    waitlist_entry_change,
    waitlist_entry_closed_message,
    waitlist_entry_remove,
)
from frontdesk.scheduling.waitlist.forms import WaitlistEntryForm, entry_initial
from frontdesk.scheduling.waitlist.offers import (
    waitlist_time_freed,
)
from frontdesk.scheduling.waitlist.selectors import (
    access_waitlist_entry,
    waitlist_entry_form_shown,
    waitlist_free_now,
    waitlist_free_now_for_view,
    waitlist_page_for_view,
    waitlist_slot_for_view,
)
from frontdesk.scheduling.waitlist.terms import EntryRequest

# The entry just added or changed, kept in the session (like the "saved" message) so that the
# waitlist page it redirects to shows the times that fit it and are free right now.
FREE_NOW_SESSION_KEY = "waitlist_free_now_entry"
FREE_NOW_SHOWN = 3


def _free_now(request: HttpRequest) -> dict[str, Any] | None:
    """Up to three free times that fit the entry just added or changed, each to book at once;
    None when there is no such entry, it no longer waits, or no time fits."""
    entry_id = request.session.pop(FREE_NOW_SESSION_KEY, None)
    if not isinstance(entry_id, int):
        return None
    found = waitlist_free_now_for_view(
        staff_user(request),
        context=audit_context(request),
        entry_id=entry_id,
        now=timezone.now(),
        limit=FREE_NOW_SHOWN,
    )
    if found is None or not found.slots:
        return None
    return _free_now_context(found.entry.patient, found.terms, found.slots, entry=found.entry)


def _free_now_context(
    patient: Patient,
    terms: EntryRequest,
    slots: list[FreeSlot],
    *,
    entry: WaitlistEntry | None = None,
) -> dict[str, Any]:
    """What the "free right now" list (scheduling/_waitlist_free_now.html) shows."""
    current = terms.current_appointment
    moves = current is not None and current.status in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.PENDING,
    )
    return {
        "patient": patient,
        "slots": slots,
        "moves": moves,
        "current": current if moves else None,
        "kind": terms.appointment_type,
        "entry": entry,
    }


@policy(Action.APPOINTMENT_VIEW)
def waitlist_view(request: HttpRequest) -> HttpResponse:
    """The clinic's waitlist in the order offers go out, each entry with its offers."""
    user = staff_user(request)
    open_only = request.GET.get("show") != "closed"
    can_book = role_may(user.role, Action.APPOINTMENT_BOOK)
    free_now = _free_now(request) if can_book and FREE_NOW_SESSION_KEY in request.session else None
    entries = waitlist_page_for_view(user, context=audit_context(request), open_only=open_only)
    context = {
        "entries": entries,
        "open_only": open_only,
        "can_book": can_book,
        "free_now": free_now,
    }
    return render(request, "scheduling/waitlist.html", context)


@policy(Action.APPOINTMENT_BOOK)
def entry_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Put a patient on the waitlist, optionally keeping (and later moving) a booking."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    patient = access_patient(user, patient_id)
    source = request.POST if request.method == "POST" else request.GET
    appointment_id = parse_id(source.get("appointment", ""))
    current = None
    if appointment_id is not None:
        current = selectors.access_appointment(user, appointment_id)
        if current.patient_id != patient.pk:
            raise Http404("No such appointment")
        if current.status not in (AppointmentStatus.BOOKED, AppointmentStatus.PENDING):
            current = None  # nothing left to keep: the patient waits for a new booking
    form = WaitlistEntryForm(
        request.POST if request.method == "POST" else None, clinic_id=clinic.pk, current=current
    )
    # "See what is free now": the typed wishes are searched, nothing is saved.
    checking = request.method == "POST" and request.POST.get("check") == "1"
    free_now: dict[str, Any] | None = None
    slots: list[FreeSlot] = []
    if checking and form.is_valid():
        terms = form.entry_request()
        slots = waitlist_free_now(
            clinic_id=clinic.pk,
            patient_id=patient.pk,
            terms=terms,
            now=timezone.now(),
            limit=FREE_NOW_SHOWN,
        )
        free_now = _free_now_context(patient, terms, slots) if slots else None
    elif request.method == "POST" and form.is_valid():
        try:
            entry = waitlist_entry_add(
                context=audit_context(request),
                user=user,
                patient=patient,
                request=form.entry_request(),
            )
        except WaitlistError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"{patient.given_name} {patient.family_name} is on the waitlist."
            )
            request.session[FREE_NOW_SESSION_KEY] = entry.pk
            return redirect("scheduling:waitlist")
    waitlist_entry_form_shown(
        context=audit_context(request),
        patient_id=patient.pk,
        found=len(slots) if checking and not form.errors else None,
    )
    context = {
        "patient": patient,
        "form": form,
        "current": current,
        "free_now": free_now,
        "checked": checking and not form.errors,
    }
    return render(
        request, "scheduling/waitlist_add.html", context, status=400 if form.errors else 200
    )


@policy(Action.APPOINTMENT_BOOK)
def entry_change_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Change what an open entry waits for; offers out for it that no longer fit are withdrawn.
    A booked or removed entry cannot be changed: the officer is told why (and, if they had
    typed changes, the form keeps them)."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    entry = access_waitlist_entry(user, entry_id)
    patient = entry.patient
    closed = entry.status != WaitlistStatus.WAITING
    if closed and request.method != "POST":
        messages.error(request, waitlist_entry_closed_message(entry))
        return redirect(f"{reverse('scheduling:waitlist')}?show=closed")
    current = entry.current_appointment
    if current is not None and current.status not in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.PENDING,
    ):
        current = None  # nothing left to keep, so nothing ties the type of visit
    form = WaitlistEntryForm(
        request.POST if request.method == "POST" else None,
        clinic_id=clinic.pk,
        current=current,
        initial=entry_initial(entry),
    )
    if request.method == "POST" and form.is_valid():
        try:
            if closed:
                raise WaitlistError(waitlist_entry_closed_message(entry))
            withdrawn = waitlist_entry_change(
                context=audit_context(request), user=user, entry=entry, request=form.entry_request()
            )
        except WaitlistError as exc:
            form.add_error(None, str(exc))
        else:
            done = f"The waitlist entry of {patient.given_name} {patient.family_name} is changed."
            if withdrawn:
                done += (
                    f" {len(withdrawn)} open offer(s) no longer fit and were withdrawn; "
                    "those times go to the next waiting patients."
                )
            messages.success(request, done)
            request.session[FREE_NOW_SESSION_KEY] = entry.pk
            return redirect("scheduling:waitlist")
    elif request.method == "POST" and closed:
        form.add_error(None, waitlist_entry_closed_message(entry))
    waitlist_entry_form_shown(
        context=audit_context(request), patient_id=patient.pk, entry_id=entry.pk
    )
    context = {"patient": patient, "form": form, "current": current, "entry": entry}
    return render(
        request, "scheduling/waitlist_add.html", context, status=400 if form.errors else 200
    )


@policy(Action.APPOINTMENT_BOOK)
@require_POST
def entry_remove_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    entry = access_waitlist_entry(user, _posted_id(request, "entry"))
    try:
        waitlist_entry_remove(context=audit_context(request), user=user, entry=entry)
    except WaitlistError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Removed from the waitlist.")
    return redirect("scheduling:waitlist")


def _slot_from(request: HttpRequest, source: Any) -> tuple[Schedule, dt.datetime, dt.datetime]:
    """The freed time: an appointment's, or schedule + start + end from the query or form."""
    user = staff_user(request)
    appointment_id = parse_id(source.get("appointment", ""))
    if appointment_id is not None:
        appointment = selectors.access_appointment(user, appointment_id)
        return appointment.schedule, appointment.start, appointment.end
    schedule_id = parse_id(source.get("schedule", ""))
    start, end = parse_start(source.get("start", "")), parse_start(source.get("end", ""))
    if schedule_id is None or start is None or end is None or end <= start:
        raise Http404("No such time")
    schedule = get_object_or_404(
        Schedule.objects.select_related("provider", "location"),
        pk=schedule_id,
        clinic=staff_clinic(user),
    )
    return schedule, start, end


def _slot_url(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> str:
    query = urlencode(
        {"schedule": str(schedule.pk), "start": start.isoformat(), "end": end.isoformat()}
    )
    return f"/schedule/waitlist/slot/?{query}"


@policy(Action.APPOINTMENT_BOOK)
def slot_view(request: HttpRequest) -> HttpResponse:
    """A freed time: the waiting patients who fit it (book one here) and its offers."""
    schedule, start, end = _slot_from(request, request.GET)
    page = waitlist_slot_for_view(
        context=audit_context(request), schedule=schedule, start=start, end=end, now=timezone.now()
    )
    context = {
        "schedule": schedule,
        "start": start,
        "end": end,
        "candidates": page.candidates,
        "offers": page.offers,
        "in_past": end <= timezone.now(),
    }
    return render(request, "scheduling/waitlist_slot.html", context)


@policy(Action.APPOINTMENT_BOOK)
@require_POST
def slot_offer_view(request: HttpRequest) -> HttpResponse:
    """Offer a freed time to the next waitlisted patients now."""
    schedule, start, end = _slot_from(request, request.POST)
    offers = waitlist_time_freed(
        schedule_id=schedule.pk, start=start, end=end, context=audit_context(request)
    )
    if offers:
        names = ", ".join(
            f"{o.entry.patient.given_name} {o.entry.patient.family_name}" for o in offers
        )
        messages.success(request, f"Offered to {len(offers)} waiting patient(s): {names}.")
    else:
        messages.error(
            request,
            "Nobody was offered this time: it is not free, earlier offers of it are still open, "
            "or no waiting patient who agreed to messages fits it.",
        )
    return redirect(_slot_url(schedule, start, end))


@policy(Action.APPOINTMENT_BOOK)
@require_POST
def entry_book_view(request: HttpRequest) -> HttpResponse:
    """Book a waitlisted patient into a freed time by hand (a restricted record asks for a
    reason first: the booking raises BreakGlassRequiredError, which the middleware handles)."""
    user = staff_user(request)
    entry = access_waitlist_entry(user, _posted_id(request, "entry"))
    schedule, start, end = _slot_from(request, request.POST)
    at = parse_start(request.POST.get("at", ""))
    if at is None:
        raise Http404("No such time")
    try:
        appointment = waitlist_entry_book(
            context=audit_context(request),
            user=user,
            entry=entry,
            schedule=schedule,
            start=at,
            confirmed=request.POST.get(CONFIRM_OFFERED) == "yes",
        )
    except services.OfferedTimeError as exc:
        if request.POST.get("back") == "free-now":
            return offered_time_page(
                request, exc, back=reverse("scheduling:waitlist"), button="Book anyway"
            )
        return offered_time_page(
            request, exc, back=_slot_url(schedule, start, end), button="Book anyway"
        )
    except (WaitlistError, services.BookingRefusedError) as exc:
        messages.error(request, str(exc))
        if request.POST.get("back") == "free-now":  # booked from the "free right now" list
            request.session[FREE_NOW_SESSION_KEY] = entry.pk
            return redirect("scheduling:waitlist")
        return redirect(_slot_url(schedule, start, end))
    messages.success(request, "Booked from the waitlist; the patient's entry is closed.")
    return redirect("scheduling:appointment", appointment_id=appointment.pk)
