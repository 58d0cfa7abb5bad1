"""Requests for a patient's records (release of information) and the disclosures they lead to.

A request is received → verified (the requester's identity, and for a third party a complete
authorisation) → in progress → sent (what, how, the fee) or denied (the reason, in a letter).
It is due 30 days after receipt (45 CFR 164.524(b)(2)); one 30-day extension is allowed, only
when the requester is told in writing why. Every release is kept as a `Disclosure`, the rows
the patient's accounting of disclosures is printed from (45 CFR 164.528: six years back).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from frontdesk.clinic.models import Clinic
from frontdesk.documents.models import Document
from frontdesk.patients.models import Patient


class RequestStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    VERIFIED = "verified", "Verified"
    IN_PROGRESS = "in_progress", "In progress"
    SENT = "sent", "Sent"
    DENIED = "denied", "Denied"


# The one table of what may follow what; the services refuse anything else.
TRANSITIONS: dict[str, frozenset[str]] = {
    RequestStatus.RECEIVED: frozenset({RequestStatus.VERIFIED, RequestStatus.DENIED}),
    RequestStatus.VERIFIED: frozenset({RequestStatus.IN_PROGRESS, RequestStatus.DENIED}),
    RequestStatus.IN_PROGRESS: frozenset({RequestStatus.SENT, RequestStatus.DENIED}),
    RequestStatus.SENT: frozenset(),
    RequestStatus.DENIED: frozenset(),
}
OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.VERIFIED, RequestStatus.IN_PROGRESS)


class Requester(models.TextChoices):
    PATIENT = "patient", "The patient"
    THIRD_PARTY = "third_party", "A third party"


class RecordKind(models.TextChoices):
    COMPLETE = "complete", "The complete record"
    VISIT_NOTES = "visit_notes", "Visit notes"
    LAB_RESULTS = "lab_results", "Laboratory results"
    IMAGING = "imaging", "Imaging reports"
    MEDICATIONS = "medications", "Medications and allergies"
    IMMUNISATIONS = "immunisations", "Immunisations"
    BILLING = "billing", "Billing records"
    OTHER = "other", "Other (described)"


class Delivery(models.TextChoices):
    MAIL = "mail", "By mail"
    EMAIL = "email", "By secure email"
    FAX = "fax", "By fax"
    PICKUP = "pickup", "Picked up at the desk"
    PORTAL = "portal", "Electronic copy (download)"


class IdentityMethod(models.TextChoices):
    PHOTO_ID = "photo_id", "Photo identification seen"
    BIRTH_DATE_ADDRESS = "birth_date_address", "Date of birth and address confirmed"
    NOTARISED = "notarised", "Notarised signature"
    KNOWN = "known", "Known to the clinic in person"
    ORGANISATION = "organisation", "Organisation confirmed by call-back"


class AuthorisationElement(models.TextChoices):
    """What a valid HIPAA authorisation must hold: the core elements of 45 CFR 164.508(c)(1)
    and the required statements of 164.508(c)(2)."""

    DESCRIPTION = "description", "A specific description of the information to be disclosed"
    DISCLOSER = "discloser", "Who may disclose it (this clinic)"
    RECIPIENT = "recipient", "Who is to receive it"
    PURPOSE = "purpose", "The purpose of the disclosure"
    EXPIRY = "expiry", "An expiry date or event"
    SIGNATURE = "signature", "The patient's (or representative's) signature and date"
    REVOKE = "revoke", "Statement: the right to revoke it in writing"
    CONDITIONING = "conditioning", "Statement: treatment is not conditioned on signing"
    REDISCLOSURE = "redisclosure", "Statement: information may be redisclosed by the recipient"


class RecordsSettings(models.Model):
    """The clinic's fee schedule and how early an open request shows on the desk queue."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="+")
    # A flat fee for an electronic copy (HHS's safe harbour is $6.50), and per page on paper.
    electronic_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("6.50"))
    paper_fee_per_page = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("0.25")
    )
    warn_days = models.PositiveSmallIntegerField(default=5)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(electronic_fee__gte=0) & Q(paper_fee_per_page__gte=0),
                name="records_settings_fees_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"records settings of clinic {self.clinic_id}"


class RecordsRequest(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="records_requests")
    status = models.CharField(max_length=20, choices=RequestStatus.choices)
    requester = models.CharField(max_length=20, choices=Requester.choices)
    # A third party (or the patient's own details for where to send).
    requester_name = models.CharField(max_length=200, blank=True)
    requester_organisation = models.CharField(max_length=200, blank=True)
    requester_relationship = models.CharField(max_length=100, blank=True)
    requester_address = models.CharField(max_length=400, blank=True)
    records_from = models.DateField(null=True, blank=True)
    records_to = models.DateField(null=True, blank=True)
    record_kinds = models.JSONField(default=list)  # RecordKind values
    records_note = models.CharField(max_length=300, blank=True)
    delivery = models.CharField(max_length=10, choices=Delivery.choices)
    delivery_to = models.CharField(max_length=400, blank=True)  # address, email or fax number
    purpose = models.CharField(max_length=300, blank=True)
    authorisation_elements = models.JSONField(default=list)  # AuthorisationElement values
    authorisation_expires = models.DateField(null=True, blank=True)
    authorisation_document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    identity_method = models.CharField(max_length=20, choices=IdentityMethod.choices, blank=True)
    identity_note = models.CharField(max_length=200, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    # The one extension: when, why, and the letter that told the requester.
    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.CharField(max_length=500, blank=True)
    extension_letter = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_what = models.CharField(max_length=500, blank=True)
    sent_how = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    fee = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    cover_letter = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    denied_at = models.DateTimeField(null=True, blank=True)
    denial_reason = models.CharField(max_length=500, blank=True)
    denial_letter = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "status", "due_at"], name="records_request_open"),
            models.Index(fields=["patient", "-received_at"], name="records_request_patient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="records_request_status"
            ),
            models.CheckConstraint(
                condition=Q(requester__in=Requester.values), name="records_request_requester"
            ),
            models.CheckConstraint(
                condition=Q(due_at__gt=models.F("received_at")), name="records_request_due_after"
            ),
            # A third party is answered only on a signed authorisation, kept as a document.
            models.CheckConstraint(
                condition=~Q(requester=Requester.THIRD_PARTY)
                | Q(authorisation_document__isnull=False),
                name="records_request_third_party_authorised",
            ),
            # One extension at most (one set of columns), and never without its reason and letter.
            models.CheckConstraint(
                condition=Q(extended_at__isnull=True, extension_letter__isnull=True)
                | (
                    Q(extended_at__isnull=False, extension_letter__isnull=False)
                    & ~Q(extension_reason="")
                ),
                name="records_request_extension_in_writing",
            ),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.SENT)
                | Q(sent_at__isnull=False, cover_letter__isnull=False),
                name="records_request_sent_recorded",
            ),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.DENIED)
                | (Q(denied_at__isnull=False, denial_letter__isnull=False) & ~Q(denial_reason="")),
                name="records_request_denial_explained",
            ),
            models.CheckConstraint(
                condition=Q(records_from__isnull=True)
                | Q(records_to__isnull=True)
                | Q(records_from__lte=models.F("records_to")),
                name="records_request_range_forwards",
            ),
        ]

    def __str__(self) -> str:
        return f"records request {self.pk} ({self.status})"

    @property
    def recipient(self) -> str:
        if self.requester == Requester.PATIENT:
            return "The patient"
        return ", ".join(p for p in (self.requester_name, self.requester_organisation) if p)

    def kinds_display(self) -> list[str]:
        labels = dict(RecordKind.choices)
        return [str(labels.get(kind, kind)) for kind in self.record_kinds]


class Disclosure(models.Model):
    """One release of a patient's information outside the clinic: what the accounting lists."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="disclosures")
    request = models.OneToOneField(
        RecordsRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="disclosure"
    )
    disclosed_at = models.DateTimeField()
    recipient = models.CharField(max_length=400)
    recipient_address = models.CharField(max_length=400, blank=True)
    what = models.CharField(max_length=500)
    purpose = models.CharField(max_length=300)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["patient", "-disclosed_at"], name="disclosure_patient"),
        ]

    def __str__(self) -> str:
        return f"disclosure {self.pk} of patient {self.patient_id}"
