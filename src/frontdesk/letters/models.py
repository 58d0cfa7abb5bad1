"""Letters: the clinic's templates per kind of letter, and every letter issued to a patient's
chart (the PDF itself is a correspondence `Document`; the row says what it was and how it went).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from frontdesk.clinic.models import Clinic
from frontdesk.documents.models import Document
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment

SUBJECT_MAX = 200
BODY_MAX = 8000


class LetterKind(models.TextChoices):
    APPOINTMENT_CONFIRMATION = "appointment_confirmation", "Appointment confirmation"
    MISSED_APPOINTMENT = "missed_appointment", "Missed appointment"
    REFERRAL_ACCEPTED = "referral_accepted", "Referral accepted"
    REFERRAL_DECLINED = "referral_declined", "Referral declined"
    RECORDS_RELEASE_COVER = "records_release_cover", "Records release cover letter"
    RECORDS_REQUEST_EXTENSION = "records_request_extension", "Records request extension"
    RECORDS_REQUEST_DENIAL = "records_request_denial", "Records request denial"
    COMPLAINT_ACKNOWLEDGEMENT = "complaint_acknowledgement", "Complaint acknowledgement"
    COMPLAINT_RESPONSE = "complaint_response", "Complaint response"


class LetterTemplate(models.Model):
    """One clinic's own words for one kind of letter. A kind without a row is written with the
    built-in default (letters/fields.py) until a supervisor or administrator saves their own."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="letter_templates")
    kind = models.CharField(max_length=40, choices=LetterKind.choices)
    subject = models.CharField(max_length=SUBJECT_MAX)
    body = models.TextField()
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "kind"], name="letter_template_once"),
            models.CheckConstraint(
                condition=models.Q(kind__in=LetterKind.values), name="letter_template_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} letter of clinic {self.clinic_id}"


class LetterDelivery(models.TextChoices):
    FILED = "filed", "Filed to the chart"
    PRINT = "print", "Printed"
    MESSAGE = "message", "Sent by the patient's agreed channel"


class Letter(models.Model):
    """A letter issued: filed to the patient's chart as `document` (kind correspondence), and
    printed or queued to the patient through the outbox (kind "letter", object id this row)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    # A named reverse relation: merging records moves the letters with the rest.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(max_length=40, choices=LetterKind.choices)
    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="letter")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who it is addressed to (the patient, or the referrer for a referral letter).
    addressee = models.CharField(max_length=200)
    subject = models.CharField(max_length=SUBJECT_MAX)
    delivery = models.CharField(max_length=10, choices=LetterDelivery.choices)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["patient", "-issued_at"], name="letter_patient")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=LetterKind.values), name="letter_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(delivery__in=LetterDelivery.values),
                name="letter_delivery_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} letter {self.pk}"
