"""A provider's week, booking a chosen free time, and the provider's calendar feed."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, policy, public, role_may, staff_clinic, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.clinic.models import AppointmentType, Provider
from frontdesk.lib.ids import parse_id
from frontdesk.patients.selectors import patient_search_for_view
from frontdesk.scheduling import calendar_feed
from frontdesk.scheduling.availability import slot_is_bookable
from frontdesk.scheduling.forms import calendar_date, parse_start
from frontdesk.scheduling.models import Schedule
from frontdesk.scheduling.week import provider_appointment_types, week_for_view, week_providers


def _date(value: str | None) -> dt.date | None:
    return calendar_date(value)


@policy(Action.APPOINTMENT_VIEW)
def provider_week_view(request: HttpRequest) -> HttpResponse:
    """One provider's week: appointments, blocks, holidays and free times to book."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    providers = list(week_providers(clinic))
    wanted = parse_id(request.GET.get("provider"))
    if request.GET.get("provider") and wanted is None:
        raise Http404("No such provider")
    provider: Provider | None
    if wanted is not None:
        provider = get_object_or_404(Provider, pk=wanted, clinic=clinic)
    else:
        own = Provider.objects.filter(staff_user=user, clinic=clinic).first()
        provider = own or (providers[0] if providers else None)
    if provider is None:
        return render(request, "scheduling/week.html", {"view": None, "providers": providers})
    day = _date(request.GET.get("date")) or timezone.localdate()
    types = list(provider_appointment_types(provider))
    type_id = parse_id(request.GET.get("type"))
    kind = next((t for t in types if t.pk == type_id), types[0] if types else None)
    view = week_for_view(
        user, context=audit_context(request), provider=provider, day=day, appointment_type=kind
    )
    context = {
        "view": view,
        "providers": providers,
        "types": types,
        "previous": view.monday - dt.timedelta(days=7),
        "next": view.monday + dt.timedelta(days=7),
        "can_book": role_may(user.role, Action.APPOINTMENT_BOOK),
        "feed_link": calendar_feed.feed_viewer_may(user, provider)
        and role_may(user.role, Action.CALENDAR_FEED_VIEW),
    }
    return render(request, "scheduling/week.html", context)


@policy(Action.APPOINTMENT_BOOK)
def slot_view(request: HttpRequest) -> HttpResponse:
    """A free time chosen on the week view: find the patient, then book them into it."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    schedule_id = parse_id(request.GET.get("schedule"))
    type_id = parse_id(request.GET.get("appointment_type"))
    start = parse_start(request.GET.get("start", ""))
    schedule = (
        Schedule.objects.select_related("provider", "location")
        .filter(pk=schedule_id, clinic=clinic)
        .first()
        if schedule_id is not None
        else None
    )
    kind = (
        AppointmentType.objects.filter(pk=type_id, clinic=clinic).first()
        if type_id is not None
        else None
    )
    if schedule is None or start is None or (kind is None and "appointment_type" in request.GET):
        return render(request, "scheduling/week_slot.html", {"unreadable": True}, status=400)
    if kind is None:
        # A free time chosen on the day view: first the kind of visit that fits there.
        now = timezone.now()
        fitting = [
            t
            for t in provider_appointment_types(schedule.provider)
            if slot_is_bookable(appointment_type=t, schedule=schedule, start=start, now=now) is None
        ]
        context = {"schedule": schedule, "start": start, "choose_type": True, "types": fitting}
        return render(request, "scheduling/week_slot.html", context)
    refusal = slot_is_bookable(
        appointment_type=kind, schedule=schedule, start=start, now=timezone.now()
    )
    query = request.GET.get("q", "")[:100]
    parsed, patients = (
        patient_search_for_view(user, context=audit_context(request), query=query)
        if query and refusal is None
        else (None, [])
    )
    week_url = (
        f"{reverse('scheduling:week')}?provider={schedule.provider_id}"
        f"&date={timezone.localtime(start).date().isoformat()}&type={kind.pk}"
    )
    context = {
        "schedule": schedule,
        "kind": kind,
        "start": start,
        "refusal": refusal,
        "query": query,
        "searched": bool(parsed and parsed.text),
        "patients": patients,
        "week_url": week_url,
    }
    return render(request, "scheduling/week_slot.html", context)


@public
def feed_view(request: HttpRequest) -> HttpResponse:
    """The provider's calendar for calendar apps: a signed link, no sign-in, no patient data.
    The token travels in the query string, which the access log never writes down."""
    try:
        provider = calendar_feed.feed_provider(request.GET.get("token", ""))
    except calendar_feed.FeedNotFoundError:
        return render(request, "scheduling/feed_invalid.html", status=404)
    response = HttpResponse(
        calendar_feed.feed_calendar(provider), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="frontdesk-calendar.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _feed_provider_for(request: HttpRequest, provider_id: int) -> Provider:
    user = staff_user(request)
    provider = get_object_or_404(Provider, pk=provider_id, clinic=staff_clinic(user))
    if not calendar_feed.feed_viewer_may(user, provider):
        raise Http404("No such calendar feed")
    return provider


def _feed_page(
    request: HttpRequest,
    provider: Provider,
    *,
    error: str = "",
    chosen: str = "",
    status: int = 200,
) -> HttpResponse:
    user = staff_user(request)
    may_manage = role_may(user.role, Action.CALENDAR_FEED_MANAGE)
    url = request.build_absolute_uri(
        f"{reverse('scheduling:feed')}?token={calendar_feed.feed_token(provider)}"
    )
    context = {
        "provider": provider,
        "feed_url": url,
        "can_manage": may_manage,
        "accounts": list(calendar_feed.feed_account_candidates(provider)) if may_manage else [],
        "chosen": chosen or str(provider.staff_user_id or ""),
        "account_error": error,
        "days_before": calendar_feed.DAYS_BEFORE,
        "days_after": calendar_feed.DAYS_AFTER,
    }
    return render(request, "scheduling/feed_page.html", context, status=status)


@policy(Action.CALENDAR_FEED_VIEW)
def feed_page_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    """The provider's feed link to copy into a calendar app; administrators may revoke it."""
    return _feed_page(request, _feed_provider_for(request, provider_id))


@policy(Action.CALENDAR_FEED_MANAGE)
@require_POST
def feed_account_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    """Administrators link a provider to their staff account, so they see their own feed."""
    provider = _feed_provider_for(request, provider_id)
    chosen = request.POST.get("staff_user", "")
    account_id = parse_id(chosen)
    account = (
        User.objects.filter(pk=account_id, clinic_id=provider.clinic_id).first()
        if account_id is not None
        else None
    )
    if chosen and account is None:
        return _feed_page(
            request, provider, error="Choose an account from the list.", chosen=chosen, status=400
        )
    try:
        calendar_feed.provider_account_link(
            context=audit_context(request), provider=provider, account=account
        )
    except calendar_feed.FeedAccountError as exc:
        return _feed_page(request, provider, error=str(exc), chosen=chosen, status=400)
    messages.success(
        request,
        f"{provider} is linked to {account.get_full_name() or account.username}."
        if account
        else f"{provider} is no longer linked to a staff account.",
    )
    return redirect("scheduling:feed_page", provider_id=provider.pk)


@policy(Action.CALENDAR_FEED_VIEW)
def feed_list_view(request: HttpRequest) -> HttpResponse:
    """Administrators: every provider's feed page. A provider: straight to their own."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    providers = [
        p
        for p in Provider.objects.filter(clinic=clinic, is_active=True)
        if calendar_feed.feed_viewer_may(user, p)
    ]
    if len(providers) == 1 and not role_may(user.role, Action.CALENDAR_FEED_MANAGE):
        return redirect("scheduling:feed_page", provider_id=providers[0].pk)
    return render(request, "scheduling/feed_list.html", {"providers": providers})


@policy(Action.CALENDAR_FEED_MANAGE)
@require_POST
def feed_rotate_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = _feed_provider_for(request, provider_id)
    calendar_feed.feed_rotate(context=audit_context(request), provider=provider)
    messages.success(
        request,
        f"New calendar link made for {provider}. The old link no longer works; "
        "give the provider the new one.",
    )
    return redirect("scheduling:feed_page", provider_id=provider.pk)
