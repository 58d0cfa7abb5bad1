"""Documents filed to a patient: scans, letters, outside records, uploaded pictures.

The file lives on disk under a random name (`DOCUMENT_DIRECTORY`, outside the web root); the
row says whose it is, what kind, and how it came. A document without a patient is unfiled: it
waits in the desk's filing inbox (and on the desk queue) until someone files it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from frontdesk.clinic.models import Clinic
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment

DOCUMENT_DIRECTORY = "documents"
THUMBNAIL_DIRECTORY = "documents/thumbnails"


def document_storage_name(extension: str, *, thumbnail: bool = False) -> str:
    # Random names: an uploaded file's name can itself be PHI ("smith-john-referral.pdf").
    directory = THUMBNAIL_DIRECTORY if thumbnail else DOCUMENT_DIRECTORY
    return f"{directory}/{uuid.uuid4().hex}.{extension}"


class DocumentKind(models.TextChoices):
    IDENTIFICATION = "identification", "Identification"
    INSURANCE_CARD = "insurance_card", "Insurance card"
    REFERRAL = "referral", "Referral"
    CONSENT = "consent", "Consent"
    OUTSIDE_RECORDS = "outside_records", "Outside records"
    CORRESPONDENCE = "correspondence", "Correspondence"
    OTHER = "other", "Other"


class DocumentSource(models.TextChoices):
    UPLOAD = "upload", "Uploaded"
    SCAN = "scan", "Scanned"
    # A letter Frontdesk wrote and printed to PDF (letters/).
    LETTER = "letter", "Written by Frontdesk"


class Document(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="documents")
    # None: not filed yet (the filing inbox).
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="filed_documents"
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=DocumentKind.choices, blank=True)
    title = models.CharField(max_length=200, blank=True)
    source = models.CharField(
        max_length=10, choices=DocumentSource.choices, default=DocumentSource.UPLOAD
    )
    # The name it came with, shown to staff (it may be PHI: never in a path or a log line).
    original_name = models.CharField(max_length=200, blank=True)
    file = models.CharField(max_length=100)  # storage name, random
    thumbnail = models.CharField(max_length=100, blank=True)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_at = models.DateTimeField(null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            # The chart's list: one patient's documents by kind and date.
            models.Index(fields=["patient", "kind", "-received_at"], name="document_chart"),
            # The filing inbox: the clinic's unfiled documents, oldest first.
            models.Index(
                fields=["clinic", "received_at"],
                name="document_unfiled",
                condition=models.Q(patient__isnull=True),
            ),
        ]
        constraints = [
            # Filed means filed to someone, as something.
            models.CheckConstraint(
                condition=models.Q(patient__isnull=True) | ~models.Q(kind=""),
                name="document_filed_has_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"document {self.pk} ({self.kind or 'unfiled'})"

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"


class DocumentMove(models.Model):
    """A misfiled document moved to the right patient: who, when, from whom, why."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="moves")
    from_patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    to_patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    moved_at = models.DateTimeField()
    moved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    reason = models.CharField(max_length=300)

    def __str__(self) -> str:
        return f"document {self.document_id} moved {self.moved_at:%Y-%m-%d}"
