"""The patient index: one record per person, with insurance coverages."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from frontdesk.clinic.models import Clinic


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Confidentiality(models.TextChoices):
    NORMAL = "normal", "Normal"
    RESTRICTED = "restricted", "Restricted"


class MrnCounter(models.Model):
    """Hands out MRN serial numbers; the row is locked while a block is taken."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    next_serial = models.BigIntegerField(default=1000000)

    def __str__(self) -> str:
        return f"next MRN serial {self.next_serial}"


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("MRN", max_length=12, unique=True)
    given_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100)
    suffix = models.CharField(max_length=20, blank=True)
    preferred_name = models.CharField(max_length=100, blank=True)
    birth_date = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=20, blank=True)  # E.164
    email = models.EmailField(blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    confidentiality = models.CharField(
        max_length=12, choices=Confidentiality.choices, default=Confidentiality.NORMAL
    )
    is_active = models.BooleanField(default=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_records"
    )
    last_visit_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(Lower("family_name"), Lower("given_name"), name="patient_name_idx"),
            models.Index(fields=["birth_date"], name="patient_birth_date_idx"),
            models.Index(fields=["phone"], name="patient_phone_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidentiality__in=Confidentiality.values),
                name="patient_confidentiality_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(given_name="") & ~models.Q(family_name=""),
                name="patient_names_present",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        preferred = f" “{self.preferred_name}”" if self.preferred_name else ""
        middle = f" {self.middle_name}" if self.middle_name else ""
        suffix = f" {self.suffix}" if self.suffix else ""
        return f"{self.family_name}{suffix}, {self.given_name}{middle}{preferred}"


class Payer(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="payers")
    name = models.CharField(max_length=200)
    payer_id = models.CharField("payer ID", max_length=20, blank=True)
    member_id_pattern = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="payer_unique")]

    def __str__(self) -> str:
        return self.name


class CoverageRank(models.IntegerChoices):
    PRIMARY = 1, "Primary"
    SECONDARY = 2, "Secondary"
    TERTIARY = 3, "Tertiary"


class Coverage(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    rank = models.PositiveSmallIntegerField(choices=CoverageRank.choices)
    plan_name = models.CharField(max_length=200, blank=True)
    member_id = models.CharField(max_length=50)
    group_number = models.CharField(max_length=50, blank=True)
    subscriber_name = models.CharField(max_length=200, blank=True)
    relationship = models.CharField(max_length=20, default="self")
    effective_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "rank"], name="coverage_one_per_rank"),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(effective_date__isnull=True)
                | models.Q(end_date__gte=models.F("effective_date")),
                name="coverage_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rank_display()}: {self.payer} {self.member_id}"
