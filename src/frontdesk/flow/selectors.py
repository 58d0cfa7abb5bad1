"""Reads of the patient flow: the front desk's Today list, the check-in facts, the board."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may, staff_clinic
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.selectors import copay_charged, patient_balance, visit_payments
from frontdesk.flow.forecast import QueueForecast, clinic_forecasts
from frontdesk.flow.models import (
    ConsentKind,
    FlowStatus,
    IncompleteRegistration,
    PatientConsent,
    Queue,
    QueueEntry,
)
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.money import money_format
from frontdesk.patients.models import Coverage, CoverageRank, Patient
from frontdesk.patients.selectors import PatientAccessDeniedError, patient_access_check
from frontdesk.scheduling.models import Appointment, AppointmentHistory, AppointmentStatus
from frontdesk.scheduling.visit_warnings import visit_warnings

# An address confirmed longer ago than this is asked again at the desk (12 months).
ADDRESS_CONFIRM_DAYS = 365


def _day_bounds(day: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)


def _minutes_since(moment: dt.datetime, now: dt.datetime) -> int:
    return max(0, int((now - moment).total_seconds() // 60))


# --- Today -------------------------------------------------------------------------------------

# The groups of the Today page, in the order a day runs.
TODAY_GROUPS: tuple[tuple[str, str], ...] = (
    ("expected", "Expected"),
    (FlowStatus.WAITING, "Waiting"),
    (FlowStatus.CALLED, "Called"),
    (FlowStatus.IN_ROOM, "In room"),
    (FlowStatus.WITH_PROVIDER, "With provider"),
    (FlowStatus.DONE, "Done"),
    (FlowStatus.LEFT, "Left without being seen"),
    ("off", "Cancelled or no-show"),
)


@dataclass
class TodayRow:
    appointment: Appointment
    entry: QueueEntry | None
    group: str
    since: dt.datetime
    minutes: int  # in this status
    late_minutes: int  # expected patients past their start
    receipt: LedgerEntry | None = None  # the latest payment taken for the visit


@dataclass
class TodayGroup:
    key: str
    label: str
    rows: list[TodayRow] = field(default_factory=list)


@dataclass
class TodayView:
    day: dt.date
    groups: list[TodayGroup]
    patient_ids: list[int]
    next_arrival: TodayRow | None


def _clinic_appointments(user: User) -> QuerySet[Appointment]:
    if not role_may(user.role, Action.FLOW_TODAY) or user.clinic_id is None:
        raise PatientAccessDeniedError(Action.FLOW_TODAY)
    return Appointment.objects.filter(clinic_id=user.clinic_id)


def today_page(
    user: User,
    *,
    day: dt.date,
    now: dt.datetime,
    location_id: int | None = None,
    provider_id: int | None = None,
) -> TodayView:
    """Every appointment of the clinic-local `day` by status, with time in status and the
    latest payment taken for the visit (three queries: appointments with their last status
    change, their queue entries, their payments)."""
    start, end = _day_bounds(day, clinic_zone(staff_clinic(user)))
    last_change = (
        AppointmentHistory.objects.filter(appointment=OuterRef("pk"))
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    appointments = (
        _clinic_appointments(user)
        .filter(start__gte=start, start__lt=end)
        .exclude(status=AppointmentStatus.ENTERED_IN_ERROR)
        .select_related("patient", "provider", "appointment_type", "schedule__location")
        .annotate(status_since=Subquery(last_change))
        .prefetch_related(
            Prefetch("queue_entries", queryset=QueueEntry.objects.order_by("-checked_in_at")),
            Prefetch(
                "ledger_entries",
                queryset=LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).order_by(
                    "-created_at", "-pk"
                ),
                to_attr="payments_taken",
            ),
        )
        .order_by("start", "pk")
    )
    if location_id is not None:
        appointments = appointments.filter(schedule__location_id=location_id)
    if provider_id is not None:
        appointments = appointments.filter(provider_id=provider_id)
    groups = {key: TodayGroup(key, label) for key, label in TODAY_GROUPS}
    patient_ids = set()
    for appointment in appointments:
        patient_ids.add(appointment.patient_id)
        entries = list(appointment.queue_entries.all())
        entry = entries[0] if entries else None
        if entry is not None:
            group, since = entry.status, entry.status_changed_at
        elif appointment.status in (
            AppointmentStatus.CANCELLED,
            AppointmentStatus.NOSHOW,
        ):
            group = "off"
            since = appointment.status_since or appointment.updated_at
        else:
            group = "expected"
            since = appointment.start
        late = _minutes_since(appointment.start, now) if group == "expected" else 0
        groups[group].rows.append(
            TodayRow(
                appointment=appointment,
                entry=entry,
                group=group,
                since=since,
                minutes=_minutes_since(since, now),
                late_minutes=late,
                receipt=next(iter(appointment.payments_taken), None),
            )
        )
    expected = groups["expected"].rows
    return TodayView(
        day=day,
        groups=list(groups.values()),
        patient_ids=sorted(patient_ids),
        next_arrival=expected[0] if expected else None,
    )


# --- Check-in ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outstanding:
    key: str  # "card", "address", "consent"
    text: str
    fixable_inline: bool


@dataclass
class CheckInFacts:
    appointment: Appointment
    patient: Patient
    entry: QueueEntry | None
    outstanding: list[Outstanding]
    problem: str  # why it cannot be checked in, or ""
    balance: Decimal = Decimal("0.00")  # owed before today's visit
    copay: Decimal | None = None  # today's co-pay, while not yet charged
    payments: list[LedgerEntry] = field(default_factory=list)  # taken for this visit
    payment_problem: str = ""  # why no money may be taken for this visit, or ""

    @property
    def amount_due(self) -> Decimal:
        """What to ask for now: a patient in credit has it set against today's co-pay."""
        return max(self.balance + (self.copay or Decimal("0.00")), Decimal("0.00"))


def already_checked_in(entry: QueueEntry) -> str:
    checked_in = entry.checked_in_at.astimezone(clinic_zone(entry.clinic_id))
    return (
        f"Already checked in at {checked_in:%H:%M} with "
        f"ticket {entry.ticket}; now {entry.get_status_display().lower()}."
    )


def access_today_appointment(user: User, appointment_id: int) -> Appointment:
    """The appointment to check in or out, if its patient opens for this user as on their
    chart (a restricted record raises `BreakGlassRequiredError`)."""
    try:
        appointment = (
            _clinic_appointments(user)
            .select_related("patient", "provider", "appointment_type", "schedule__location")
            .get(pk=appointment_id)
        )
    except Appointment.DoesNotExist:
        raise Http404("No such appointment") from None
    patient_access_check(user, appointment.patient)
    return appointment


def next_booked_visit(appointment: Appointment) -> Appointment | None:
    """The patient's next booked visit after this one (the follow-up booked at check-out),
    for the visit slip; the caller has already opened the patient."""
    return (
        Appointment.objects.filter(
            clinic_id=appointment.clinic_id,
            patient_id=appointment.patient_id,
            status__in=(AppointmentStatus.BOOKED, AppointmentStatus.PENDING),
            start__gte=appointment.end,
        )
        .select_related("provider", "schedule__location")
        .order_by("start")
        .first()
    )


def access_queue_entry(user: User, entry_id: int) -> QueueEntry:
    """A queue entry of the user's clinic, if its patient opens for this user as on their chart:
    moving a restricted patient on the board asks for a reason first, as opening them does."""
    if not role_may(user.role, Action.FLOW_BOARD) or user.clinic_id is None:
        raise PatientAccessDeniedError(Action.FLOW_BOARD)
    entry = (
        QueueEntry.objects.filter(pk=entry_id, clinic_id=user.clinic_id)
        .select_related("patient")
        .first()
    )
    if entry is None:
        raise Http404("No such patient in the queue")
    patient_access_check(user, entry.patient)
    return entry


def access_incomplete_registration(user: User, record_id: int) -> IncompleteRegistration:
    """A walk-in's registration still to complete, if its patient opens for this user."""
    if not role_may(user.role, Action.FLOW_CHECK_IN) or user.clinic_id is None:
        raise PatientAccessDeniedError(Action.FLOW_CHECK_IN)
    record = (
        IncompleteRegistration.objects.filter(pk=record_id, patient__clinic_id=user.clinic_id)
        .select_related("patient")
        .first()
    )
    if record is None:
        raise Http404("No such registration")
    patient_access_check(user, record.patient)
    return record


def check_in_facts(appointment: Appointment, *, now: dt.datetime) -> CheckInFacts:
    """What the desk must see before checking the patient in: what is missing or stale."""
    patient = appointment.patient
    zone = clinic_zone(appointment.clinic_id)
    today = now.astimezone(zone).date()
    outstanding: list[Outstanding] = []
    coverages = list(Coverage.objects.filter(patient=patient).order_by("rank"))
    current = [c for c in coverages if c.end_date is None or c.end_date >= today]
    if not current:
        outstanding.append(Outstanding("card", "No current insurance on file.", False))
    elif not current[0].card_front:
        outstanding.append(
            Outstanding("card", f"No image of the {current[0].payer} card on file.", False)
        )
    confirmed = patient.address_confirmed_on
    if confirmed is None:
        outstanding.append(Outstanding("address", "Address never confirmed.", True))
    elif (today - confirmed).days > ADDRESS_CONFIRM_DAYS:
        outstanding.append(
            Outstanding("address", f"Address last confirmed on {confirmed:%b %-d, %Y}.", True)
        )
    valid_from = today - dt.timedelta(days=settings.CONSENT_VALID_DAYS)
    if not PatientConsent.objects.filter(
        patient=patient, kind=ConsentKind.TREATMENT, signed_on__gt=valid_from
    ).exists():
        outstanding.append(Outstanding("consent", "Consent to treatment is due.", True))
    # An authorisation for the visit (a referral's) that has expired or whose visits are used.
    outstanding.extend(
        Outstanding("authorisation", text, False)
        for text in visit_warnings(
            patient_id=patient.pk, start=appointment.start, appointment_id=appointment.pk
        )
    )
    balance = patient_balance(patient.pk)
    if balance > 0:
        outstanding.append(Outstanding("balance", f"Balance due {money_format(balance)}.", False))
    primary = next(
        (
            c
            for c in current
            if c.rank == CoverageRank.PRIMARY and (c.effective_date or today) <= today
        ),
        None,
    )
    copay = primary.copay if primary is not None else None
    if copay is not None and (copay <= 0 or copay_charged(appointment.pk)):
        copay = None
    if copay is not None:
        outstanding.append(Outstanding("copay", f"Co-pay for today: {money_format(copay)}.", False))
    entry = QueueEntry.objects.filter(appointment=appointment).first()
    problem = ""
    if entry is not None:
        problem = already_checked_in(entry)
    elif appointment.status == AppointmentStatus.CANCELLED:
        problem = "This appointment was cancelled; it cannot be checked in."
    elif appointment.status not in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.PENDING,
        AppointmentStatus.ARRIVED,
        AppointmentStatus.CHECKED_IN,
    ):
        problem = f"This appointment is {appointment.get_status_display().lower()}."
    elif appointment.start.astimezone(zone).date() != today:
        problem = (
            f"This appointment is on {appointment.start.astimezone(zone):%a %b %-d}, not today."
        )
    payment_problem = problem if entry is None else ""
    if payment_problem:
        copay = None
    return CheckInFacts(
        appointment,
        patient,
        entry,
        outstanding,
        problem,
        balance=balance,
        copay=copay,
        payments=visit_payments(appointment.pk),
        payment_problem=payment_problem,
    )


# --- Flow board --------------------------------------------------------------------------------

BOARD_COLUMNS: tuple[FlowStatus, ...] = (
    FlowStatus.WAITING,
    FlowStatus.CALLED,
    FlowStatus.IN_ROOM,
    FlowStatus.WITH_PROVIDER,
    FlowStatus.DONE,
)


@dataclass
class BoardCard:
    entry: QueueEntry
    minutes: int
    level: str  # "ok", "amber", "red"
    forecast: int | None = None  # minutes until seen, for those not yet seen


@dataclass(frozen=True)
class BoardQueue:
    queue: Queue
    waiting: int
    forecast: QueueForecast | None


@dataclass
class BoardColumn:
    status: FlowStatus
    cards: list[BoardCard] = field(default_factory=list)


@dataclass
class BoardView:
    columns: list[BoardColumn]
    queues: list[BoardQueue]
    patient_ids: list[int]
    has_emergency: bool


def time_level(status: str, minutes: int) -> str:
    amber, red = settings.FLOW_THRESHOLDS.get(status, (None, None))
    if red is not None and minutes >= red:
        return "red"
    if amber is not None and minutes >= amber:
        return "amber"
    return "ok"


def board_page(user: User, *, now: dt.datetime, queue_id: int | None = None) -> BoardView:
    """Today's queue entries by status with time in status and its colour (two queries)."""
    if not role_may(user.role, Action.FLOW_BOARD) or user.clinic_id is None:
        raise PatientAccessDeniedError(Action.FLOW_BOARD)
    day = now.astimezone(clinic_zone(staff_clinic(user))).date()
    queues = list(Queue.objects.filter(clinic_id=user.clinic_id).select_related("provider"))
    entries = QueueEntry.objects.filter(clinic_id=user.clinic_id, day=day).select_related(
        "patient", "queue", "appointment__appointment_type", "appointment__late_arrival"
    )
    if queue_id is not None:
        entries = entries.filter(queue_id=queue_id)
    columns = {status: BoardColumn(status) for status in BOARD_COLUMNS}
    waiting: dict[int, int] = {}
    ids = set()
    emergency = False
    for entry in entries.order_by("priority_rank", "checked_in_at", "pk"):
        if entry.status not in columns:
            continue  # left without being seen: on the Today page, not on the board
        ids.add(entry.patient_id)
        minutes = _minutes_since(entry.status_changed_at, now)
        columns[FlowStatus(entry.status)].cards.append(
            BoardCard(entry, minutes, time_level(entry.status, minutes))
        )
        if entry.status == FlowStatus.WAITING:
            waiting[entry.queue_id] = waiting.get(entry.queue_id, 0) + 1
            emergency = emergency or entry.priority == "emergency"
    done = columns[FlowStatus.DONE]
    done.cards = sorted(done.cards, key=lambda c: c.entry.status_changed_at, reverse=True)[:10]
    forecasts = clinic_forecasts(clinic_id=user.clinic_id, day=day, now=now)
    for column in columns.values():
        for card in column.cards:
            forecast = forecasts.get(card.entry.queue_id)
            card.forecast = forecast.waits.get(card.entry.pk) if forecast else None
    return BoardView(
        list(columns.values()),
        [BoardQueue(q, waiting.get(q.pk, 0), forecasts.get(q.pk)) for q in queues],
        sorted(ids),
        emergency,
    )


# Reads for pages, each recording on the patients' access logs what the page shows of them.


@dataclass(frozen=True)
class TodayPage:
    view: TodayView
    incomplete: list[IncompleteRegistration]


def today_for_view(
    user: User,
    *,
    context: AuditContext,
    day: dt.date,
    now: dt.datetime,
    location_id: int | None,
    provider_id: int | None,
) -> TodayPage:
    """The Today page's appointments and the walk-ins' registrations still to complete."""
    view = today_page(user, day=day, now=now, location_id=location_id, provider_id=provider_id)
    incomplete = list(
        IncompleteRegistration.objects.filter(patient__clinic=staff_clinic(user), completed_at=None)
        .select_related("patient")
        .order_by("registered_at")[:20]
    )
    shown = sorted({*view.patient_ids, *(r.patient_id for r in incomplete)})
    if shown:
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=shown,
            object_type=AuditObject.FLOW_TODAY,
        )
    return TodayPage(view=view, incomplete=incomplete)


def check_in_shown(
    *, context: AuditContext, appointment: Appointment, knocked_patient_ids: list[int]
) -> None:
    """The check-in page is shown: the patient, and those whose visits a late arrival would
    push back."""
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[appointment.patient_id, *knocked_patient_ids],
        object_type=AuditObject.CHECK_IN,
        object_id=appointment.pk,
    )


def board_for_view(
    user: User, *, context: AuditContext, now: dt.datetime, queue_id: int | None
) -> BoardView:
    view = board_page(user, now=now, queue_id=queue_id)
    if view.patient_ids:
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=view.patient_ids,
            object_type=AuditObject.FLOW_BOARD,
        )
    return view


def walk_in_candidates_shown(*, context: AuditContext, patients: list[Patient]) -> None:
    """Records that might be the walk-in are shown side by side with what was typed."""
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[p.pk for p in patients],
        object_type=AuditObject.WALK_IN_DUPLICATES,
    )


def check_out_for_view(
    user: User, *, context: AuditContext, appointment_id: int, slip: bool
) -> Appointment:
    """Today's appointment for its check-out page, or its visit slip (a print)."""
    appointment = access_today_appointment(user, appointment_id)
    audit_record(
        context=context,
        action=AuditAction.PRINT if slip else AuditAction.VIEW,
        patient_ids=[appointment.patient_id],
        object_type=AuditObject.VISIT_SLIP if slip else AuditObject.CHECK_OUT,
        object_id=appointment.pk,
    )
    return appointment
