"""Per-provider iCalendar feeds behind a signed, revocable link.

The link carries the provider's id and feed version, signed with the site key under a salt used
for nothing else. It never expires (calendar apps poll it for months), but raising
`Provider.feed_version` turns every link given out before into a 404. The feed holds the
provider's own time only: start, end, status and place, under the clinic's neutral title
(`Clinic.calendar_event_title`); never the type of visit (it can reveal a diagnosis, and the
reminders leave it out for that reason), nor a patient's name, birth date, phone or note, since a
calendar app on a phone is outside the clinic's control.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from icalendar import Calendar, Event  # type: ignore[import-untyped, unused-ignore]

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Provider
from frontdesk.scheduling.availability import provider_label
from frontdesk.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus

FEED_SALT = "frontdesk.scheduling.calendar_feed"
DAYS_BEFORE = 7
DAYS_AFTER = 60

_signer = signing.Signer(salt=FEED_SALT, sep=".")

# RFC 5545 VEVENT STATUS: requests not yet settled are tentative, the rest confirmed.
_EVENT_STATUS = {
    AppointmentStatus.PROPOSED: "TENTATIVE",
    AppointmentStatus.PENDING: "TENTATIVE",
}


class FeedNotFoundError(Exception):
    """The link was altered, or its provider's links were revoked."""


class FeedAccountError(Exception):
    """A staff account that cannot be linked to the provider; the message says why."""


# Staff accounts that may belong to a provider (physicians, nurse practitioners, therapists).
PROVIDER_ROLES = (Role.PHYSICIAN, Role.NURSE)


def feed_token(provider: Provider) -> str:
    """The signed part of the provider's current feed link."""
    return _signer.sign(f"{provider.pk}-{provider.feed_version}")


def feed_provider(token: str) -> Provider:
    """The provider a feed link belongs to, if it is genuine and not revoked."""
    try:
        value = _signer.unsign(token)
    except signing.BadSignature:
        raise FeedNotFoundError from None
    provider_id, _, version = value.partition("-")
    if not (provider_id.isdigit() and version.isdigit()):
        raise FeedNotFoundError
    provider = (
        Provider.objects.select_related("clinic")
        .filter(pk=int(provider_id), feed_version=int(version), is_active=True)
        .first()
    )
    if provider is None:
        raise FeedNotFoundError
    return provider


def event_uid(appointment: Appointment) -> str:
    """Stable across moves and status changes, so calendar apps update the event in place."""
    return f"appointment-{appointment.pk}@frontdesk.clinic-{appointment.clinic_id}"


def feed_calendar(provider: Provider, *, now: dt.datetime | None = None) -> bytes:
    """The provider's active appointments from a week ago to two months ahead, as iCalendar."""
    moment = now or timezone.now()
    appointments = (
        Appointment.objects.filter(
            provider=provider,
            status__in=ACTIVE_STATUSES,
            start__gte=moment - dt.timedelta(days=DAYS_BEFORE),
            start__lt=moment + dt.timedelta(days=DAYS_AFTER),
        )
        .select_related("schedule__location")
        .order_by("start", "pk")
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Frontdesk//Provider calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{provider_label(provider)} · {provider.clinic.name}")
    calendar.add("refresh-interval", dt.timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    title = provider.clinic.calendar_event_title
    for appointment in appointments:
        event = Event()
        event.add("uid", event_uid(appointment))
        event.add("dtstamp", appointment.updated_at.astimezone(dt.UTC))
        event.add("last-modified", appointment.updated_at.astimezone(dt.UTC))
        event.add("dtstart", appointment.start.astimezone(dt.UTC))
        event.add("dtend", appointment.end.astimezone(dt.UTC))
        event.add("summary", title)
        event.add("location", appointment.schedule.location.name)
        event.add("status", _EVENT_STATUS.get(AppointmentStatus(appointment.status), "CONFIRMED"))
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def feed_viewer_may(user: User, provider: Provider) -> bool:
    """A provider sees their own feed link; administrators see every provider's."""
    if user.clinic_id is None or user.clinic_id != provider.clinic_id:
        return False
    return user.role == Role.ADMIN or (
        provider.staff_user_id is not None and provider.staff_user_id == user.pk
    )


@transaction.atomic
def feed_rotate(*, context: AuditContext, provider: Provider) -> Provider:
    """Revoke the provider's feed links by moving to the next version; audited."""
    Provider.objects.filter(pk=provider.pk).update(feed_version=F("feed_version") + 1)
    provider.refresh_from_db(fields=["feed_version"])
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.CALENDAR_FEED,
        object_id=provider.pk,
        detail={"rotated_to_version": provider.feed_version},
    )
    return provider


def feed_account_candidates(provider: Provider) -> QuerySet[User]:
    return User.objects.filter(
        clinic_id=provider.clinic_id, role__in=PROVIDER_ROLES, is_active=True
    ).order_by("last_name", "first_name", "username")


@transaction.atomic
def provider_account_link(
    *, context: AuditContext, provider: Provider, account: User | None
) -> Provider:
    """Link the provider to their own staff account (or unlink it with None); audited.
    The linked account sees the provider's calendar-feed link."""
    if account is not None:
        if account.clinic_id != provider.clinic_id or account.role not in PROVIDER_ROLES:
            raise FeedAccountError("Choose a physician's or nurse's account of this clinic.")
        taken = Provider.objects.filter(staff_user=account).exclude(pk=provider.pk).first()
        if taken is not None:
            raise FeedAccountError(
                f"{account.get_full_name() or account.username} is already linked to {taken}."
                " Unlink it there first."
            )
    previous = provider.staff_user_id
    provider.staff_user = account
    try:
        with transaction.atomic():
            provider.save(update_fields=["staff_user"])
    except IntegrityError:
        # Another administrator linked the account elsewhere a moment ago (one-to-one).
        raise FeedAccountError("That account was just linked to another provider.") from None
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.PROVIDER_ACCOUNT,
        object_id=provider.pk,
        detail={"from": previous, "to": account.pk if account else None},
    )
    return provider
