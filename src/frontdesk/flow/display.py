"""The waiting-room display: ticket numbers, "now serving", the wait per provider and a
running-late notice. It is opened by a signed link on a screen nobody signs in to, so it is
built from tickets, rooms and provider names only: no patient name, birth date or phone is
ever read into it (tests/test_display.py checks every response).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.flow import live
from frontdesk.flow.forecast import QueueForecast, clinic_forecasts, minutes_rounded, wait_words
from frontdesk.flow.models import (
    PRIORITY_RANK,
    DelayAnnouncement,
    FlowStatus,
    Priority,
    Queue,
    QueueEntry,
    WaitingRoomDisplay,
)
from frontdesk.lib.clinic_time import clinic_zone

DISPLAY_SALT = "frontdesk.flow.display"
_signer = signing.Signer(salt=DISPLAY_SALT, sep=".")
# A provider whose next patient will be seen this much after their booked time is "running late".
LATE_NOTICE_MINUTES = 10
NOW_SERVING = 6
EMERGENCY_RANK = PRIORITY_RANK[Priority.EMERGENCY]
# A provider's line lists this many waiting tickets, then "and N more", so one long queue
# cannot push the other providers off a screen nobody can scroll.
TICKETS_PER_LINE = 8


class DisplayRefusedError(Exception):
    pass


def display_token(display: WaitingRoomDisplay) -> str:
    return _signer.sign(f"{display.pk}-{display.version}")


def display_from_token(token: str) -> WaitingRoomDisplay | None:
    """The display a link opens, or None if the link is forged, replaced or switched off."""
    try:
        value = _signer.unsign(token)
    except signing.BadSignature:
        return None
    pk, _, version = value.partition("-")
    if not (pk.isdigit() and version.isdigit()):
        return None
    return (
        WaitingRoomDisplay.objects.filter(pk=int(pk), version=int(version), is_active=True)
        .select_related("clinic")
        .first()
    )


@transaction.atomic
def display_create(*, context: AuditContext, clinic: Clinic, name: str) -> WaitingRoomDisplay:
    name = name.strip()[:100]
    if not name:
        raise DisplayRefusedError("Give the screen a name, e.g. Main waiting room.")
    if WaitingRoomDisplay.objects.filter(clinic=clinic, name=name).exists():
        raise DisplayRefusedError(f"There is already a screen called {name}.")
    display = WaitingRoomDisplay.objects.create(clinic=clinic, name=name, created_at=timezone.now())
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        object_type=AuditObject.WAITING_ROOM_DISPLAY,
        object_id=display.pk,
    )
    return display


@transaction.atomic
def display_replace_link(
    *, context: AuditContext, display: WaitingRoomDisplay, user: User
) -> WaitingRoomDisplay:
    """A new link for the screen; every earlier link stops working at once."""
    WaitingRoomDisplay.objects.filter(pk=display.pk).update(version=F("version") + 1)
    display.refresh_from_db()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.WAITING_ROOM_DISPLAY,
        object_id=display.pk,
        detail={"link_replaced_by": user.username, "version": display.version},
    )
    return display


@dataclass(frozen=True)
class ServingTicket:
    ticket: str
    room: str


@dataclass(frozen=True)
class ProviderLine:
    name: str
    waiting_tickets: list[str]  # the first TICKETS_PER_LINE, in the order they are called
    more_waiting: int
    wait: str  # one statement for someone joining now: "about 45 min", "under 5 min" or ""
    running_late: bool
    # An emergency is waiting on this line though it is not listed, so the screen must not say
    # that no one is waiting.
    emergency_waiting: bool = False


@dataclass(frozen=True)
class DisplayView:
    clinic_name: str
    now: dt.datetime
    serving: list[ServingTicket]
    lines: list[ProviderLine]
    announcements: list[str]


def display_page(display: WaitingRoomDisplay, *, now: dt.datetime) -> DisplayView:
    """What the screen shows. Reads tickets, rooms and times only (`only()` keeps patient
    columns out of the query itself).

    Each provider's line makes one statement about the wait, which already counts any delay
    the screen announces for them (a line saying "about 20 min" under a notice saying "running
    about 110 minutes late" leaves the patient believing neither). Nobody waiting: no figure.
    """
    day = now.astimezone(clinic_zone(display.clinic)).date()
    entries = list(
        QueueEntry.objects.filter(clinic_id=display.clinic_id, day=day)
        .only("ticket", "room", "status", "status_changed_at", "queue_id", "priority_rank")
        .order_by("priority_rank", "checked_in_at", "pk")
    )
    serving = [
        ServingTicket(e.ticket, e.room)
        for e in sorted(
            (e for e in entries if e.status == FlowStatus.CALLED),
            key=lambda e: e.status_changed_at,
            reverse=True,
        )[:NOW_SERVING]
    ]
    forecasts = clinic_forecasts(clinic_id=display.clinic_id, day=day, now=now)
    late = _late_minutes(display.clinic_id, day, forecasts, now)
    announced = _announced(display.clinic_id, now)
    everyone = announced.get(None, 0)
    lines = []
    for queue in Queue.objects.filter(clinic_id=display.clinic_id).select_related("provider"):
        # An emergency is not waiting (a clinician is on the way): it is not listed beside a
        # wait, nor marked out to the waiting room.
        queued = [e for e in entries if e.queue_id == queue.pk and e.status == "waiting"]
        waiting = [e.ticket for e in queued if e.priority_rank != EMERGENCY_RANK]
        emergency_waiting = len(waiting) < len(queued)
        forecast = forecasts.get(queue.pk)
        delay = max(late.get(queue.pk, 0), announced.get(queue.pk, 0), everyone)
        if not queued and forecast is None and queue.pk not in announced:
            continue
        wait = max(forecast.next_wait if forecast else 0, delay)
        lines.append(
            ProviderLine(
                name=queue.name,
                waiting_tickets=waiting[:TICKETS_PER_LINE],
                more_waiting=max(0, len(waiting) - TICKETS_PER_LINE),
                wait=wait_words(wait) if waiting else "",
                running_late=delay >= LATE_NOTICE_MINUTES or queue.pk in announced,
                emergency_waiting=emergency_waiting,
            )
        )
    # A delay for one provider is told on their line; a delay for everyone above all lines.
    announcements = (
        [
            f"All providers are running about {minutes_rounded(everyone)} minutes late. "
            "We are sorry for the wait."
        ]
        if None in announced
        else []
    )
    return DisplayView(display.clinic.name, now, serving, lines, announcements)


def _announced(clinic_id: int, now: dt.datetime) -> dict[int | None, int]:
    """Minutes of the delay on the screens, per queue id (None: all providers)."""
    return {a.queue_id: a.minutes for a in announcements_active(clinic_id, now)}


def queue_delay(*, clinic_id: int, queue_id: int, now: dt.datetime) -> int:
    """How late the provider of this queue is running: the larger of what the forecast shows
    and what the desk has put on the screens. Any wait told for the queue is at least this, so
    the desk says what the screens say."""
    day = now.astimezone(clinic_zone(clinic_id)).date()
    forecasts = clinic_forecasts(clinic_id=clinic_id, day=day, now=now)
    late = _late_minutes(clinic_id, day, forecasts, now)
    announced = _announced(clinic_id, now)
    return max(late.get(queue_id, 0), announced.get(queue_id, 0), announced.get(None, 0))


def _late_minutes(
    clinic_id: int, day: dt.date, forecasts: dict[int, QueueForecast], now: dt.datetime
) -> dict[int, int]:
    """Per queue: how much later than they could have been seen its next booked patient will
    be seen. Counted from the booked time, or from arrival for a patient who came after it: a
    patient's own lateness is not the provider's."""
    late: dict[int, int] = {}
    rows = (
        QueueEntry.objects.filter(
            clinic_id=clinic_id, day=day, status=FlowStatus.WAITING, appointment__isnull=False
        )
        .order_by("priority_rank", "checked_in_at", "pk")
        .values_list("pk", "queue_id", "appointment__start", "checked_in_at")
    )
    for pk, queue_id, start, arrived in rows:
        forecast = forecasts.get(queue_id)
        waits = forecast.waits if forecast is not None else {}
        if pk not in waits or queue_id in late:
            continue
        seen_at = now + dt.timedelta(minutes=waits[pk])
        minutes = round((seen_at - max(start, arrived)).total_seconds() / 60)
        if minutes >= LATE_NOTICE_MINUTES:
            late[queue_id] = minutes
    return late


# An announcement stays on the screens this long unless the desk clears it sooner.
ANNOUNCEMENT_MINUTES = 60


@transaction.atomic
def delay_announce(
    *, context: AuditContext, user: User, clinic: Clinic, queue: Queue | None, minutes: int
) -> DelayAnnouncement:
    """Put a delay notice on every waiting-room screen of the clinic (one click at the desk)."""
    if not 1 <= minutes <= 240:
        raise DisplayRefusedError("Give the delay in minutes, between 1 and 240.")
    now = timezone.now()
    DelayAnnouncement.objects.filter(clinic=clinic, queue=queue, ends_at__gt=now).update(
        ends_at=now
    )
    announcement = DelayAnnouncement.objects.create(
        clinic=clinic,
        queue=queue,
        minutes=minutes,
        created_at=now,
        created_by=user,
        ends_at=now + dt.timedelta(minutes=ANNOUNCEMENT_MINUTES),
    )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        object_type=AuditObject.DELAY_ANNOUNCEMENT,
        object_id=announcement.pk,
        detail={"minutes": minutes, "queue": queue.code if queue else "all"},
    )
    live.flow_changed(clinic.pk)
    return announcement


@transaction.atomic
def delay_announcements_clear(*, context: AuditContext, clinic: Clinic) -> int:
    now = timezone.now()
    cleared = DelayAnnouncement.objects.filter(clinic=clinic, ends_at__gt=now).update(ends_at=now)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.DELAY_ANNOUNCEMENT,
        detail={"cleared": cleared},
    )
    live.flow_changed(clinic.pk)
    return cleared


def announcements_active(clinic_id: int, now: dt.datetime) -> list[DelayAnnouncement]:
    return list(
        DelayAnnouncement.objects.filter(clinic_id=clinic_id, ends_at__gt=now)
        .select_related("queue")
        .order_by("created_at")
    )


@dataclass(frozen=True)
class LateQueue:
    queue: Queue
    late_minutes: int

    @property
    def late_words(self) -> str:
        return f"about {minutes_rounded(self.late_minutes)} min"


@dataclass(frozen=True)
class DeskOverview:
    counts: dict[str, int]
    longest_wait: int  # minutes, of those waiting
    late: list[LateQueue]
    announcements: list[DelayAnnouncement]


def desk_overview(*, clinic_id: int, now: dt.datetime) -> DeskOverview:
    """The busy waiting room at a glance: counts per status, the longest wait, providers
    running late and the delays announced."""
    day = now.astimezone(clinic_zone(clinic_id)).date()
    rows = QueueEntry.objects.filter(clinic_id=clinic_id, day=day).values_list(
        "status", "status_changed_at"
    )
    counts: dict[str, int] = {str(s): 0 for s in FlowStatus}
    longest = 0
    for status, since in rows:
        counts[status] = counts.get(status, 0) + 1
        if status == FlowStatus.WAITING:
            longest = max(longest, int((now - since).total_seconds() // 60))
    forecasts = clinic_forecasts(clinic_id=clinic_id, day=day, now=now)
    late = _late_minutes(clinic_id, day, forecasts, now)
    queues = {q.pk: q for q in Queue.objects.filter(clinic_id=clinic_id)}  # one query, always
    return DeskOverview(
        counts=counts,
        longest_wait=longest,
        late=[LateQueue(queues[pk], minutes) for pk, minutes in late.items() if pk in queues],
        announcements=announcements_active(clinic_id, now),
    )
