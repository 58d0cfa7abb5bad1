"""Scheduling: one schedule per bookable provider at a location. Free time is computed from
templates minus blocks and appointments; only busy and blocked time is stored."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from frontdesk.clinic.models import AppointmentType, Clinic, Location, Provider
from frontdesk.patients.models import Patient


class Schedule(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="schedules")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="schedules")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="schedules")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "location"], name="schedule_one_per_place"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} at {self.location}"


class ScheduleTemplate(models.Model):
    """A weekly pattern of bookable time, e.g. Mondays and Thursdays 09:00-12:30 (RFC 5545)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="templates")
    rrule = models.CharField(
        "recurrence", max_length=200, help_text="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,TH"
    )
    start_time = models.TimeField()  # clinic local time
    end_time = models.TimeField()
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(default=15)
    overbook_cap = models.PositiveSmallIntegerField(
        default=0, help_text="Extra appointments a supervisor may squeeze into one session."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="template_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=120), name="template_grid_range"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="template_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.rrule} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class BlockKind(models.TextChoices):
    RESERVED = "reserved", "Reserved for appointment types"
    LEAVE = "leave", "Provider leave"
    ADHOC = "adhoc", "Blocked"


class Block(models.Model):
    """Time taken out of a schedule, or held for certain appointment types until released."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="blocks")
    kind = models.CharField(max_length=10, choices=BlockKind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    appointment_types = models.ManyToManyField(AppointmentType, blank=True, related_name="+")
    release_days_before = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Reserved time opens to any type this many days before."
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["schedule", "start"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="block_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}"


class ClinicHoliday(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "date"], name="holiday_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date})"


class AppointmentStatus(models.TextChoices):
    """FHIR R4 Appointment.status."""

    PROPOSED = "proposed", "Proposed"
    PENDING = "pending", "Pending"
    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    CHECKED_IN = "checked-in", "Checked in"
    FULFILLED = "fulfilled", "Fulfilled"
    CANCELLED = "cancelled", "Cancelled"
    NOSHOW = "noshow", "No-show"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"
    WAITLIST = "waitlist", "Waitlist"


# Statuses that hold the provider's time.
ACTIVE_STATUSES = (
    AppointmentStatus.PROPOSED,
    AppointmentStatus.PENDING,
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.FULFILLED,
)


class CancelledBy(models.TextChoices):
    PATIENT = "patient", "Patient"
    PROVIDER = "provider", "Provider"
    CLINIC = "clinic", "Clinic"


class AppointmentSeries(models.Model):
    """Appointments booked together (weekly physiotherapy x 8): the rule, with whom, where and
    what, as planned. Each planned occurrence is a `SeriesVisit`."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="series")
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="series")
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="series"
    )
    rrule = models.CharField(max_length=200)  # DTSTART (floating clinic local time) and RRULE
    # As the officer planned it: a number of visits or a last date (clinic local), not both.
    count = models.PositiveSmallIntegerField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(count__isnull=True) | Q(until__isnull=True),
                name="series_count_or_until",
            ),
            models.CheckConstraint(
                condition=Q(count__isnull=True) | Q(count__gte=1), name="series_count_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"series {self.pk}: {self.rrule}"


class SeriesVisitStatus(models.TextChoices):
    PLANNED = "planned", "Planned"  # expanded from the rule, not yet booked
    BOOKED = "booked", "Booked"  # has its appointment (whose own status may change later)
    CONFLICT = "conflict", "Conflict"  # could not be booked as planned; waits for the officer
    SKIPPED = "skipped", "Skipped"  # left out on purpose; never held the provider's time
    CANCELLED = "cancelled", "Cancelled"  # closed with the rest of the series


class SeriesVisit(models.Model):
    """One planned occurrence of a series: its place, its planned time, and what became of it.

    The booked appointment may later move to another time; `planned_start` stays as planned."""

    series = models.ForeignKey(AppointmentSeries, on_delete=models.CASCADE, related_name="visits")
    position = models.PositiveSmallIntegerField()  # 1..N in the order of the rule
    planned_start = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=SeriesVisitStatus.choices, default=SeriesVisitStatus.PLANNED
    )
    appointment = models.OneToOneField(
        "Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="series_visit",
    )
    skip_reason = models.CharField(max_length=200, blank=True)
    conflict_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["series", "position"]
        constraints = [
            models.UniqueConstraint(fields=["series", "position"], name="series_visit_once"),
            models.CheckConstraint(condition=Q(position__gte=1), name="series_visit_position"),
            models.CheckConstraint(
                condition=~Q(status="booked") | Q(appointment__isnull=False),
                name="series_visit_booked_has_appointment",
            ),
            # Only a booked visit, or one cancelled after booking, points at an appointment.
            models.CheckConstraint(
                condition=Q(appointment__isnull=True) | Q(status__in=["booked", "cancelled"]),
                name="series_visit_appointment_when_booked",
            ),
        ]

    def __str__(self) -> str:
        return f"series {self.series_id} visit {self.position} ({self.status})"


class Appointment(models.Model):
    """A booking. The database refuses two active, non-overbooked appointments of one provider
    whose busy intervals overlap: an exclusion constraint on PostgreSQL, triggers on SQLite
    (scheduling/constraints.py, migration 0002)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="appointments"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    # The provider's busy interval: the visit plus the type's buffers before and after.
    busy_start = models.DateTimeField()
    busy_end = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    is_overbook = models.BooleanField(default=False)
    overbook_reason = models.CharField(max_length=200, blank=True)
    series = models.ForeignKey(
        AppointmentSeries,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    # Why the patient comes, in the officer's words, and a note for the desk. Both stay on staff
    # pages: the reason can reveal a diagnosis, so reminders and calendar feeds never carry it.
    reason = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=300, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    late_cancellation = models.BooleanField(default=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["provider", "busy_start"], name="appointment_provider_time"),
            models.Index(fields=["patient", "start"], name="appointment_patient_time"),
            models.Index(fields=["clinic", "start"], name="appointment_clinic_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="appt_positive"),
            models.CheckConstraint(
                condition=Q(busy_start__lte=models.F("start")) & Q(busy_end__gte=models.F("end")),
                name="appt_busy_covers_visit",
            ),
            models.CheckConstraint(
                condition=Q(is_overbook=False) | ~Q(overbook_reason=""),
                name="appt_overbook_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} {self.start:%Y-%m-%d %H:%M} ({self.status})"


class AppointmentHistory(models.Model):
    """Every change of an appointment: who, when, from, to, why."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField()
    by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    from_start = models.DateTimeField(null=True, blank=True)
    to_start = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


# --- Waitlist ---------------------------------------------------------------------------------


class WaitlistPriority(models.IntegerChoices):
    """Lower comes first; within one priority, the longest waiting comes first."""

    URGENT = 1, "Urgent"
    HIGH = 2, "High"
    ROUTINE = 3, "Routine"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    BOOKED = "booked", "Booked from the waitlist"
    REMOVED = "removed", "Removed"


class WaitlistTimeOfDay(models.TextChoices):
    MORNING = "morning", "Morning"
    AFTERNOON = "afternoon", "Afternoon"


class WaitlistEntry(models.Model):
    """A patient waiting for an earlier time: type, provider(s) or any, place, date range.

    With `current_appointment`, the patient keeps that booking until an earlier time is
    accepted; the booking is then moved, never duplicated."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="waitlist")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="waitlist")
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="waitlist"
    )
    # Empty means any provider who sees the type.
    providers = models.ManyToManyField(Provider, blank=True, related_name="waitlist")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="waitlist"
    )
    earliest_date = models.DateField()  # clinic-local dates, both included
    latest_date = models.DateField()
    weekdays = models.CharField(max_length=7, blank=True)  # "024": Mon, Wed, Fri; empty: any
    time_of_day = models.CharField(max_length=10, choices=WaitlistTimeOfDay.choices, blank=True)
    priority = models.PositiveSmallIntegerField(
        choices=WaitlistPriority.choices, default=WaitlistPriority.ROUTINE
    )
    current_appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="waitlist"
    )
    note = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["clinic", "status", "priority", "created_at"], name="waitlist_queue"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latest_date__gte=models.F("earliest_date")),
                name="waitlist_dates_in_order",
            ),
            # One open wait per patient and visit type: a second would only compete with itself.
            models.UniqueConstraint(
                fields=["patient", "appointment_type"],
                condition=Q(status="waiting"),
                name="waitlist_one_open_per_patient_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} {self.earliest_date}..{self.latest_date} ({self.status})"


class WaitlistOfferStatus(models.TextChoices):
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    GONE = "gone", "Taken by someone else"
    EXPIRED = "expired", "Expired"
    DECLINED = "declined", "Declined"
    # Closed by staff removing or changing the entry: the patient did not decline.
    WITHDRAWN = "withdrawn", "Withdrawn by the clinic"


class WaitlistOffer(models.Model):
    """A freed time offered to one waitlisted patient through a signed, expiring link."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=WaitlistOfferStatus.choices, default=WaitlistOfferStatus.OFFERED
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=10, blank=True)  # how the offer reached the patient
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Withdrawn because staff booked the time by hand (not because the entry changed): the
    # patient's link then says the clinic had to give the time away, not that their request
    # changed.
    withdrawn_for_booking = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["schedule", "start"], name="waitlist_offer_slot"),
            models.Index(fields=["status", "expires_at"], name="waitlist_offer_open"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="offer_positive"),
            # However the race between patients goes, one slot is accepted once.
            models.UniqueConstraint(
                fields=["schedule", "start"],
                condition=Q(status="accepted"),
                name="waitlist_offer_one_accepted_per_slot",
            ),
            models.UniqueConstraint(
                fields=["entry", "schedule", "start"], name="waitlist_offer_once_per_entry"
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_for_booking=False) | Q(status="withdrawn"),
                name="offer_withdrawn_for_booking_is_withdrawn",
            ),
        ]

    def __str__(self) -> str:
        return f"offer {self.start:%Y-%m-%d %H:%M} ({self.status})"
