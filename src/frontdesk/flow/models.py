"""Patient flow: the queue is kept apart from the appointment (a walk-in has none), and every
move of a queue entry is a QueueEvent, so waits and forecasts come from real timestamps."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from frontdesk.clinic.models import Clinic, Provider
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment


class Queue(models.Model):
    """One line of patients: a provider's, or a service's (walk-ins, vaccinations)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="queues")
    name = models.CharField(max_length=100)
    # The ticket prefix: A-023 is the 23rd ticket of queue A today.
    code = models.CharField(max_length=2)
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="queues"
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "code"], name="queue_code_once_per_clinic"),
            models.UniqueConstraint(
                fields=["clinic", "provider"],
                condition=Q(provider__isnull=False),
                name="queue_one_per_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Priority(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent"
    NORMAL = "normal", "Normal"


# Lower goes first.
PRIORITY_RANK = {Priority.EMERGENCY: 0, Priority.URGENT: 1, Priority.NORMAL: 2}


class FlowStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    CALLED = "called", "Called"
    IN_ROOM = "in_room", "In room"
    WITH_PROVIDER = "with_provider", "With provider"
    DONE = "done", "Done"
    LEFT = "left", "Left without being seen"


# Still in the clinic's hands: not yet done and not gone.
OPEN_STATUSES = (
    FlowStatus.WAITING,
    FlowStatus.CALLED,
    FlowStatus.IN_ROOM,
    FlowStatus.WITH_PROVIDER,
)


class QueueEntry(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="queue_entries")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="entries")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="queue_entries")
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="queue_entries",
    )
    day = models.DateField(help_text="The clinic-local day of the check-in.")
    number = models.PositiveIntegerField()
    ticket = models.CharField(max_length=8)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    priority_rank = models.PositiveSmallIntegerField(default=PRIORITY_RANK[Priority.NORMAL])
    priority_reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=15, choices=FlowStatus.choices, default=FlowStatus.WAITING)
    room = models.CharField(max_length=40, blank=True)
    checked_in_at = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    # What the patient was told at the desk, kept to compare with the wait they had.
    told_wait_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    told_at = models.DateTimeField(null=True, blank=True)
    # Still in the queue when the day was closed: flagged for a supervisor to follow up.
    open_at_close = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "day", "status"], name="queue_entry_board"),
            models.Index(fields=["queue", "status", "priority_rank", "checked_in_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "day", "ticket"], name="queue_ticket_once_per_day"
            ),
            # One appointment is checked in once; a second check-in is refused by the database.
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(appointment__isnull=False),
                name="queue_entry_one_per_appointment",
            ),
            models.CheckConstraint(
                condition=Q(priority=Priority.NORMAL) | ~Q(priority_reason=""),
                name="queue_entry_priority_has_reason",
            ),
            # A walk-in is in one queue at a time. Entries for appointments stay outside it: a
            # patient with two appointments on one day is checked in for each.
            models.UniqueConstraint(
                fields=["patient", "day"],
                condition=Q(appointment__isnull=True, status__in=OPEN_STATUSES),
                name="queue_entry_one_open_walk_in_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket} ({self.status})"


class QueueEvent(models.Model):
    """One transition of a queue entry: who moved it, from what, to what, when."""

    entry = models.ForeignKey(QueueEntry, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15, choices=FlowStatus.choices)
    room = models.CharField(max_length=40, blank=True)
    by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["entry", "at"])]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class TicketCounter(models.Model):
    """The last ticket number per queue and clinic-local day; locked while a ticket is issued."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["queue", "day"], name="ticket_counter_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.queue.code} {self.day}: {self.last}"


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", "Consent to treatment"
    PRIVACY = "privacy", "Privacy notice acknowledged"


class PatientConsent(models.Model):
    """A signed consent form; one older than CONSENT_VALID_DAYS is due again at check-in."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=12, choices=ConsentKind.choices)
    signed_on = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["patient", "kind", "signed_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.signed_on}"


class FlowVersion(models.Model):
    """A counter per clinic, raised in the same transaction as every change to the flow, so a
    board can ask "anything new since N?" cheaply (the polling fallback of the live board)."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="+")
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.clinic_id}: {self.version}"


class WaitingRoomDisplay(models.Model):
    """A screen in the waiting room, opened with a signed link and no staff sign-in. It shows
    ticket numbers only. Replacing the link raises `version`, which revokes every earlier one."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="displays")
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="display_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class IncompleteRegistration(models.Model):
    """A walk-in registered at the desk with minimal fields; the rest is to be completed later
    (address, insurance, contacts). Cleared when someone completes the record."""

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, related_name="incomplete_registration"
    )
    registered_at = models.DateTimeField()
    registered_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["completed_at", "registered_at"])]

    def __str__(self) -> str:
        return f"incomplete registration of patient {self.patient_id}"


class LateChoice(models.TextChoices):
    SEE_WITH_DELAY = "see_with_delay", "Seen with delay"
    RESCHEDULE = "reschedule", "Rescheduled"


class LateArrival(models.Model):
    """A patient who arrived after their appointment type's grace period, what that did to the
    provider's following appointments, and what the desk chose; clinical staff see it."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="late_arrival"
    )
    arrived_at = models.DateTimeField()
    late_minutes = models.PositiveIntegerField()
    choice = models.CharField(max_length=15, choices=LateChoice.choices)
    # [{"appointment": id, "start": iso, "delay_minutes": n}, ...] as shown at the desk.
    impact = models.JSONField(default=list)
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.late_minutes} min late: {self.choice}"


class DelayAnnouncement(models.Model):
    """A delay told to the waiting room on its screens, for one provider's queue or for all."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, null=True, blank=True)
    minutes = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ends_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["clinic", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1, minutes__lte=240), name="delay_minutes_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min delay"


class EmergencyAlert(models.Model):
    """An emergency in the queue, alerting the clinical staff on duty until a nurse or physician
    acknowledges it ("I am going"); unacknowledged past EMERGENCY_ESCALATE_MINUTES it is
    escalated to the supervisor. Raised in the transaction that queues the emergency."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(QueueEntry, on_delete=models.CASCADE, related_name="alerts")
    raised_at = models.DateTimeField()
    raised_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Every clinical page asks for its clinic's open alerts (and the desk's recent ones).
        indexes = [models.Index(fields=["clinic", "acknowledged_at"], name="emergency_alert_open")]
        constraints = [
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(acknowledged_at__isnull=True),
                name="emergency_alert_one_open_per_entry",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="emergency_alert_acknowledged_by_someone",
            ),
            models.CheckConstraint(
                condition=Q(escalated_at__isnull=True) | Q(escalated_at__gte=models.F("raised_at")),
                name="emergency_alert_escalated_after_raised",
            ),
        ]

    def __str__(self) -> str:
        state = "open" if self.acknowledged_at is None else "acknowledged"
        return f"emergency alert {self.pk} ({state})"
