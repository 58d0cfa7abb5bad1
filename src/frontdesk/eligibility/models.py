"""Eligibility: each question asked of a payer (a 270) and its answer (the 271), the clinic's
connection to its clearinghouse, the service types asked per appointment type, and the
"verify later" items a failed check leaves on the desk."""

from __future__ import annotations

from django.db import models

from frontdesk.accounts.models import User
from frontdesk.clinic.models import AppointmentType, Clinic
from frontdesk.patients.models import Coverage, Patient
from frontdesk.scheduling.models import Appointment


class TransportKind(models.TextChoices):
    CORE_SOAP = "core_soap", "Real time (CAQH CORE SOAP over HTTPS)"
    FILE_DROP = "file_drop", "Batch file drop"


class EligibilityConnection(models.Model):
    """How one clinic reaches its clearinghouse (or, labelled so, the payer simulator)."""

    clinic = models.OneToOneField(
        Clinic, on_delete=models.CASCADE, related_name="eligibility_connection"
    )
    kind = models.CharField(max_length=20, choices=TransportKind.choices)
    url = models.CharField(max_length=300, blank=True)  # CORE endpoint
    drop_directory = models.CharField(max_length=300, blank=True)  # FILE_DROP
    # A simulator answers from its own table: every answer it gives is labelled as such.
    is_simulator = models.BooleanField(default=False)
    sender_id = models.CharField(max_length=15)
    receiver_id = models.CharField(max_length=15)
    username = models.CharField(max_length=100, blank=True)
    # The secret itself is read from the environment variable named here, never stored.
    password_env = models.CharField(max_length=100, blank=True)
    provider_name = models.CharField(max_length=60)
    provider_npi = models.CharField(max_length=10)
    timeout_seconds = models.PositiveSmallIntegerField(default=10)
    retries = models.PositiveSmallIntegerField(default=2)
    concurrency = models.PositiveSmallIntegerField(default=8)
    production = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(timeout_seconds__gte=1, timeout_seconds__lte=120),
                name="eligibility_timeout_range",
            ),
            models.CheckConstraint(
                condition=models.Q(concurrency__gte=1, concurrency__lte=64),
                name="eligibility_concurrency_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}{' (payer simulator)' if self.is_simulator else ''}"


class AppointmentTypeServices(models.Model):
    """The X12 service type codes asked for a type of visit (30, general, when none is set)."""

    appointment_type = models.OneToOneField(
        AppointmentType, on_delete=models.CASCADE, related_name="eligibility_services"
    )
    codes = models.CharField(max_length=60, default="30")  # "98 30": space separated

    def __str__(self) -> str:
        return self.codes


class CheckReason(models.TextChoices):
    COVERAGE = "coverage", "Coverage entered or changed"
    BOOKING = "booking", "Visit booked"
    BATCH = "batch", "Nightly batch"
    CHECK_IN = "check_in", "At check-in"


class CheckStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sent, waiting for the payer"
    ANSWERED = "answered", "Answered"
    FAILED = "failed", "Could not verify"


class Outcome(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Not active"
    REJECTED = "rejected", "Refused by the payer"
    # The three below are not answers about the coverage: they never replace the last good one.
    MALFORMED = "malformed", "Answer not understood"
    OTHER_MEMBER = "other_member", "Answer about another member"
    NO_ANSWER = "no_answer", "Payer did not answer"


GOOD_OUTCOMES = (Outcome.ACTIVE, Outcome.INACTIVE, Outcome.REJECTED)
OPEN_STATUSES = (CheckStatus.PENDING, CheckStatus.SENDING)


class EligibilityCheck(models.Model):
    """One question to the payer: this coverage, for this date of service, these services.

    Written in the transaction of its cause (a coverage saved, a visit booked, the batch, the
    desk) and sent by the worker. At most one is open per coverage and date of service. The
    raw 271 is kept as received (read only through an audited selector) beside what was read
    from it; an answer that is malformed or about another member is kept too, but marked so,
    and never counts as the coverage's last answer."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    coverage = models.ForeignKey(
        Coverage, on_delete=models.CASCADE, related_name="eligibility_checks"
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    date_of_service = models.DateField()
    service_types = models.CharField(max_length=60, default="30")
    reason = models.CharField(max_length=20, choices=CheckReason.choices)
    status = models.CharField(
        max_length=20, choices=CheckStatus.choices, default=CheckStatus.PENDING
    )
    trace = models.CharField(max_length=30, unique=True)  # TRN02 and the CORE PayloadID
    requested_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    words = models.CharField(max_length=300, blank=True)  # why, for the desk
    from_simulator = models.BooleanField(default=False)
    request_x12 = models.TextField(blank=True)
    response_x12 = models.TextField(blank=True)
    parsed = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="elig_check_due"),
            models.Index(fields=["coverage", "answered_at"], name="elig_check_coverage"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["coverage", "date_of_service"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="elig_check_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"eligibility check {self.pk} ({self.status})"


class VerifyLater(models.Model):
    """A coverage the payer did not confirm: on the desk queue until a later answer arrives
    or someone marks it done."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    coverage = models.ForeignKey(Coverage, on_delete=models.CASCADE, related_name="+")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_check = models.ForeignKey(EligibilityCheck, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    due = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["coverage"],
                condition=models.Q(closed_at__isnull=True),
                name="elig_verify_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"verify coverage {self.coverage_id}"


class VisitFee(models.Model):
    """The clinic's fee schedule: what a type of visit is charged, for the patient's estimate."""

    appointment_type = models.OneToOneField(
        AppointmentType, on_delete=models.CASCADE, related_name="visit_fee"
    )
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    # The code the visit is billed under (CPT/HCPCS, "99213"), itemised on a good-faith estimate.
    service_code = models.CharField(max_length=10, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="visit_fee_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type_id}: {self.amount}"


class EstimateIdentity(models.Model):
    """What a good-faith estimate names beside the clinic and its providers: the facility's
    NPI and the taxpayer identification number the clinic bills under (45 CFR 149.610)."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="+")
    facility_npi = models.CharField("facility NPI", max_length=10, blank=True)
    tin = models.CharField("TIN", max_length=11, blank=True)  # an EIN, "12-3456789"

    def __str__(self) -> str:
        return f"estimate identity of clinic {self.clinic_id}"


class SlidingFeeScale(models.Model):
    """The clinic's sliding-fee scale: the poverty guideline it is measured against (for one
    person, and what each further person adds) and its bands, a JSON list of
    `{"up_to": percent or null, "nominal": "20.00"}` or `{"up_to": ..., "pays": percent}`
    (checked by `assistance.bands_check`). Clinics without one use `assistance.DEFAULT_SCALE`."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="+")
    guideline_year = models.PositiveSmallIntegerField()
    guideline_label = models.CharField(max_length=120)
    first_person = models.DecimalField(max_digits=9, decimal_places=2)
    each_further_person = models.DecimalField(max_digits=9, decimal_places=2)
    bands = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(first_person__gt=0, each_further_person__gte=0),
                name="sliding_fee_guideline_positive",
            )
        ]

    def __str__(self) -> str:
        return f"sliding fee of clinic {self.clinic_id} ({self.guideline_year})"


class AssistanceOutcome(models.TextChoices):
    OFFERED = "offered", "Offered, patient will decide"
    DECLINED = "declined", "Declined by the patient"
    APPLIED = "applied", "Applied"


class AssistanceDecision(models.Model):
    """Financial assistance offered to a self-pay patient and what came of it: the household
    and income they gave, the band of the sliding-fee scale and the fee it makes."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=AssistanceOutcome.choices)
    household_size = models.PositiveSmallIntegerField(null=True, blank=True)
    income = models.DecimalField(max_digits=11, decimal_places=2, null=True, blank=True)
    percent_of_guideline = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True
    )
    band = models.CharField(max_length=120, blank=True)  # in words, as the scale said then
    guideline_year = models.PositiveSmallIntegerField(null=True, blank=True)
    fee = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    discounted_fee = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["patient", "recorded_at"], name="assistance_patient")]

    def __str__(self) -> str:
        return f"assistance {self.outcome} for patient {self.patient_id}"
