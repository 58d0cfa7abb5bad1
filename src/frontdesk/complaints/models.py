"""Complaints and grievances (Q4, Q21).

A complaint is taken in the officer's words while the patient is there. Resolved at the desk
(an apology, an explanation, something done), it is closed at once and counts in the trends.
Otherwise it is a grievance, shaped like a FHIR Task: a status, a priority (the severity), an
owner (a supervisor, or the supervisors' pool until one takes it), two deadlines (the
acknowledgement, in business days; the written response, in calendar days as CMS asks of
hospitals, §482.13(a)(2)), the patient it is for, a history of every change, and a response
letter kept as a PDF. A privacy complaint also opens a review for the privacy officer.
"""

from __future__ import annotations

from django.db import models

from frontdesk.accounts.models import User
from frontdesk.clinic.models import Clinic
from frontdesk.patients.models import Patient

# The longest text an officer types into one box: a page and a half, enough for any account
# of what happened, and small enough that a pasted document is refused rather than kept.
TEXT_MAX = 4000


class Category(models.TextChoices):
    WAITING = "waiting", "Waiting"
    STAFF_CONDUCT = "staff_conduct", "Staff conduct"
    BILLING = "billing", "Billing"
    CLINICAL_CARE = "clinical_care", "Clinical care"
    PRIVACY = "privacy", "Privacy"
    ACCESS = "access", "Access"
    FACILITIES = "facilities", "Facilities"


class Severity(models.TextChoices):
    LOW = "low", "Low: an inconvenience"
    MEDIUM = "medium", "Medium: the patient is upset"
    HIGH = "high", "High: harm, or a risk of harm"


class ComplaintStatus(models.TextChoices):
    RESOLVED_AT_DESK = "resolved_at_desk", "Resolved at the desk"
    AWAITING_ACKNOWLEDGEMENT = "awaiting_acknowledgement", "Waiting for acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Acknowledged, response due"
    RESPONDED = "responded", "Responded in writing"


OPEN_STATUSES = (ComplaintStatus.AWAITING_ACKNOWLEDGEMENT, ComplaintStatus.ACKNOWLEDGED)


class ComplaintSettings(models.Model):
    """A clinic's own deadlines and privacy officer; a clinic without a row has the defaults."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="+")
    acknowledge_business_days = models.PositiveSmallIntegerField(default=2)
    response_days = models.PositiveSmallIntegerField(default=7)
    # Unset: the supervisors' pool reviews privacy complaints.
    privacy_officer = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"complaint settings of clinic {self.clinic_id}"


class Complaint(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="complaints")
    # Optional: a visitor who gives no name may complain about the waiting room.
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    # Who complained when it is not the patient on file (a relative, an anonymous visitor).
    complainant = models.CharField(max_length=200, blank=True)
    logged_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    occurred_on = models.DateField()
    category = models.CharField(max_length=20, choices=Category.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    what_happened = models.TextField()
    patient_wants = models.TextField(blank=True)
    # Staff named in the complaint never see it (complaints/selectors.py).
    staff_involved = models.ManyToManyField(User, blank=True, related_name="complaints_naming")
    # At the desk: what was done there.
    apologised = models.BooleanField(default=False)
    explained = models.BooleanField(default=False)
    desk_action = models.TextField(blank=True)
    status = models.CharField(max_length=30, choices=ComplaintStatus.choices)
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints_owned"
    )
    acknowledge_due = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    response_due = models.DateTimeField(null=True, blank=True)
    # Resolved at the desk: when it was logged; a grievance: when the response was sent.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "status"]),
            models.Index(fields=["clinic", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ComplaintStatus.values),
                name="complaint_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=Category.values),
                name="complaint_category_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"complaint {self.pk}"

    @property
    def is_grievance(self) -> bool:
        return self.status != ComplaintStatus.RESOLVED_AT_DESK

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class EventKind(models.TextChoices):
    LOGGED = "logged", "Logged"
    ESCALATED = "escalated", "Escalated as a grievance"
    OWNER = "owner", "Owner or deadline changed"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    NOTE = "note", "Note"
    RESPONDED = "responded", "Responded in writing"
    PRIVACY_REVIEWED = "privacy_reviewed", "Privacy review closed"


class ComplaintEvent(models.Model):
    """The complaint's history and notes: only ever added to."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} on complaint {self.complaint_id}"


class ComplaintLetter(models.Model):
    """The written response, kept as the PDF that was sent (a few tens of kilobytes, so in the
    database with the complaint: it commits or rolls back with the response, and no file on a
    disk can be orphaned or served by mistake)."""

    complaint = models.OneToOneField(Complaint, on_delete=models.CASCADE, related_name="letter")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    pdf = models.BinaryField()

    def __str__(self) -> str:
        return f"letter for complaint {self.complaint_id}"


class PrivacyReview(models.Model):
    """A privacy complaint's review by the clinic's privacy officer (or the supervisors)."""

    complaint = models.OneToOneField(
        Complaint, on_delete=models.CASCADE, related_name="privacy_review"
    )
    reviewer = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField()
    due = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    finding = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"privacy review of complaint {self.complaint_id}"
