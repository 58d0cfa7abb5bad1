"""Calls and desk inquiries, callbacks, the patient's contacts and representatives, medical
questions for clinicians, and the clinic's settings for them.

A callback and a medical question have a life of their own, so each is a row shaped like FHIR
Task: `status`, `priority`, `owner`, `pool` (Task.performerType), `due`
(Task.restriction.period.end), `focus` (the call that asked for it) and `for` (the patient).
The desk queue reads their open rows (inquiries/desk.py); nothing about them is stored twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from frontdesk.clinic.models import Clinic, Provider
from frontdesk.patients.models import Patient

MESSAGE_MAX = 4000  # a call's message or a question, in the caller's words
ANSWER_MAX = 4000
NAME_MAX = 200


class Category(models.TextChoices):
    APPOINTMENT = "appointment", "Appointment"
    BILLING = "billing", "Billing"
    RECORDS = "records", "Records"
    MEDICAL_QUESTION = "medical_question", "Medical question"
    COMPLAINT = "complaint", "Complaint"
    OTHER = "other", "Other"


class Channel(models.TextChoices):
    PHONE = "phone", "Phone call"
    DESK = "desk", "At the desk"


class CallerKind(models.TextChoices):
    PATIENT = "patient", "The patient"
    CONTACT = "contact", "A recorded contact"
    OTHER = "other", "Someone else"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"


class TaskStatus(models.TextChoices):
    """FHIR Task.status, the values Frontdesk uses."""

    REQUESTED = "requested", "Waiting"
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Done"
    CANCELLED = "cancelled", "Cancelled"


class TaskPriority(models.TextChoices):
    """FHIR request priority: stat is a red flag ("now")."""

    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    STAT = "stat", "Now"


class Disclosure(models.TextChoices):
    """What a contact may be told about the patient."""

    NOTHING = "nothing", "Nothing"
    APPOINTMENTS = "appointments", "Appointments only"
    BILLING = "billing", "Billing and appointments"
    EVERYTHING = "everything", "Everything"


class ContactRelationship(models.TextChoices):
    PARENT = "parent", "Parent of a minor"
    GUARDIAN = "guardian", "Legal guardian"
    POWER_OF_ATTORNEY = "power_of_attorney", "Power of attorney"
    CARER = "carer", "Named carer"
    SPOUSE = "spouse", "Spouse or partner"
    OTHER = "other", "Other"


class InquirySettings(models.Model):
    """The clinic's own rules for calls and questions (one row per clinic, made on first use)."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="+")
    callback_max_attempts = models.PositiveSmallIntegerField(default=3)
    callback_retry_minutes = models.PositiveSmallIntegerField(default=60)
    callback_routine_hours = models.PositiveSmallIntegerField(default=4)
    callback_urgent_minutes = models.PositiveSmallIntegerField(default=30)
    question_urgent_minutes = models.PositiveSmallIntegerField(default=60)
    question_routine_business_days = models.PositiveSmallIntegerField(default=1)
    # One phrase a line, matched tolerant of typos, plurals and capitals (inquiries/red_flags.py);
    # a line starting "re:" is a pattern, matched by RE2 (lib/patterns.py).
    red_flag_phrases = models.TextField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"inquiry settings of clinic {self.clinic_id}"


class PatientContact(models.Model):
    """A person the patient (or the law) allows us to talk to about them, and how much."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=NAME_MAX)
    relationship = models.CharField(max_length=20, choices=ContactRelationship.choices)
    phone = models.CharField(max_length=20, blank=True)  # E.164
    may_hear = models.CharField(max_length=20, choices=Disclosure.choices)
    valid_until = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return f"contact {self.pk} of patient {self.patient_id}"


class UsualProvider(models.Model):
    """The provider a patient usually sees: their medical questions go to that provider."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"usual provider of patient {self.patient_id}"


class Inquiry(models.Model):
    """One call or conversation at the desk, as logged."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="inquiries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PHONE)
    caller_kind = models.CharField(max_length=10, choices=CallerKind.choices)
    contact = models.ForeignKey(
        PatientContact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    caller_name = models.CharField(max_length=NAME_MAX, blank=True)
    caller_relationship = models.CharField(max_length=100, blank=True)
    # What the desk was told it may discuss with this caller, when the call was logged.
    disclosure = models.CharField(max_length=20, choices=Disclosure.choices)
    category = models.CharField(max_length=20, choices=Category.choices)
    message = models.TextField()
    callback_phone = models.CharField(max_length=20, blank=True)  # E.164
    preferred_time = models.CharField(max_length=100, blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["clinic", "created_at"])]

    def __str__(self) -> str:
        return f"inquiry {self.pk}"


class Callback(models.Model):
    """A call the clinic owes someone: FHIR Task (focus: the inquiry; for: the patient)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    inquiry = models.OneToOneField(Inquiry, on_delete=models.PROTECT, related_name="callback")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=TaskStatus.choices)
    priority = models.CharField(max_length=10, choices=TaskPriority.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    pool = models.CharField(max_length=20)  # desk.pools.Pool
    phone = models.CharField(max_length=20)  # E.164
    preferred_time = models.CharField(max_length=100, blank=True)
    due = models.DateTimeField()  # the next attempt
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "status", "due"])]

    def __str__(self) -> str:
        return f"callback {self.pk}"


class AttemptOutcome(models.TextChoices):
    NO_ANSWER = "no_answer", "No answer"
    VOICEMAIL = "voicemail", "Left a voicemail (no details)"
    REACHED = "reached", "Reached"


class CallbackAttempt(models.Model):
    callback = models.ForeignKey(Callback, on_delete=models.PROTECT, related_name="attempt_log")
    outcome = models.CharField(max_length=12, choices=AttemptOutcome.choices)
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    next_due = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("at", "pk")

    def __str__(self) -> str:
        return f"attempt {self.pk} on callback {self.callback_id}"


class AnswerRoute(models.TextChoices):
    DESK = "desk", "The desk reads it to the patient"
    MESSAGE = "message", "Send it to the patient by their agreed channel"
    CALLED = "called", "I called the patient myself"


class MedicalQuestion(models.Model):
    """A patient's medical question for a clinician: FHIR Task, and the whole thread (question,
    routing, answer, relay) in one row, shown on the chart."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    inquiry = models.OneToOneField(
        Inquiry, on_delete=models.PROTECT, null=True, blank=True, related_name="question"
    )
    question = models.TextField()  # the patient's own words
    status = models.CharField(max_length=12, choices=TaskStatus.choices)
    priority = models.CharField(max_length=10, choices=TaskPriority.choices)
    red_flag = models.BooleanField(default=False)
    red_flag_phrases = models.JSONField(default=list, blank=True)
    pool = models.CharField(max_length=20)  # desk.pools.Pool
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    routed_to = models.CharField(max_length=200)  # in words: "Nurse triage", "Dr Rivera"
    due = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answer_route = models.CharField(max_length=10, choices=AnswerRoute.choices, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    relayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    relayed_at = models.DateTimeField(null=True, blank=True)
    relay_note = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "status", "due"])]
        constraints = [
            # Only a clinician's answer moves a question on; the database holds the thread whole.
            models.CheckConstraint(
                condition=models.Q(status__in=["requested", "cancelled"]) | ~models.Q(answer=""),
                name="inquiries_question_answered_has_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"medical question {self.pk}"
