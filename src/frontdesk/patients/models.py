"""The patient index: one record per person, with insurance coverages."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Value
from django.db.models.functions import Replace, Upper

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


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", "Mobile"
    HOME = "home", "Home"
    WORK = "work", "Work"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone call"
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"
    MAIL = "mail", "Letter"


class PatientAlertKind(models.TextChoices):
    WHEELCHAIR = "wheelchair", "Uses a wheelchair"
    INTERPRETER = "interpreter", "Needs an interpreter"
    HEARING = "hearing", "Hard of hearing"
    SIGHT = "sight", "Low vision"
    SERVICE_ANIMAL = "service_animal", "Service animal"
    FALL_RISK = "fall_risk", "Fall risk"
    BEHAVIOUR = "behaviour", "Behavioural alert"
    LATEX = "latex", "Latex allergy"


class GuarantorRelationship(models.TextChoices):
    SELF = "self", "Self"
    PARENT = "parent", "Parent"
    SPOUSE = "spouse", "Spouse / partner"
    GUARDIAN = "guardian", "Legal guardian"
    OTHER = "other", "Other"


class Patient(models.Model):
    # No index of its own: every patient query also filters on an indexed column, and SQLite
    # without fresh statistics would otherwise pick this one and read the whole clinic.
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="patients", db_index=False
    )
    mrn = models.CharField("MRN", max_length=12, unique=True)
    given_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100)
    suffix = models.CharField(max_length=20, blank=True)
    preferred_name = models.CharField(max_length=100, blank=True)
    birth_date = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    gender_identity = models.CharField(max_length=60, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    phone = models.CharField(max_length=20, blank=True)  # E.164, the main number
    phone_kind = models.CharField(
        max_length=10, choices=PhoneKind.choices, default=PhoneKind.MOBILE, blank=True
    )
    phone_alt = models.CharField(max_length=20, blank=True)  # E.164
    phone_alt_kind = models.CharField(max_length=10, choices=PhoneKind.choices, blank=True)
    email = models.EmailField(blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    address_confirmed_on = models.DateField(null=True, blank=True)
    preferred_language = models.CharField(max_length=40, default="English", blank=True)
    interpreter_needed = models.BooleanField(default=False)
    preferred_contact = models.CharField(
        max_length=10, choices=ContactChannel.choices, default=ContactChannel.PHONE
    )
    consent_sms = models.BooleanField(default=False)
    consent_email = models.BooleanField(default=False)
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=20, blank=True)  # E.164
    guarantor_relationship = models.CharField(
        max_length=10, choices=GuarantorRelationship.choices, default=GuarantorRelationship.SELF
    )
    guarantor_name = models.CharField(max_length=200, blank=True)
    guarantor_phone = models.CharField(max_length=20, blank=True)
    alerts = models.JSONField(default=list, blank=True)  # PatientAlertKind values
    alert_note = models.CharField(max_length=300, blank=True)
    confidentiality = models.CharField(
        max_length=12, choices=Confidentiality.choices, default=Confidentiality.NORMAL
    )
    is_active = models.BooleanField(default=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_records"
    )
    last_visit_on = models.DateField(null=True, blank=True)
    # Phonetic blocking keys for the duplicate check (patients/duplicates.py), kept in step by
    # the services that write names.
    family_key = models.CharField(max_length=16, blank=True)
    given_key = models.CharField(max_length=16, blank=True)
    # Search columns (patients/indexing.py): names folded to lowercase ASCII, and the phone's
    # last four digits, so every search is an index range scan.
    family_norm = models.CharField(max_length=100, blank=True)
    given_norm = models.CharField(max_length=100, blank=True)
    preferred_norm = models.CharField(max_length=100, blank=True)
    phone_last4 = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                fields=["family_key", "given_key", "birth_date"], name="patient_match_key_idx"
            ),
            models.Index(fields=["email"], name="patient_email_idx"),
            models.Index(fields=["family_norm", "given_norm"], name="patient_family_norm_idx"),
            models.Index(fields=["given_norm", "family_norm"], name="patient_given_norm_idx"),
            models.Index(fields=["preferred_norm"], name="patient_preferred_norm_idx"),
            models.Index(fields=["phone_last4"], name="patient_phone_last4_idx"),
            models.Index(fields=["phone_alt"], name="patient_phone_alt_idx"),
            models.Index(fields=["birth_date"], name="patient_birth_date_idx"),
            models.Index(fields=["phone"], name="patient_phone_idx"),
            # How common a value is in the clinic's own index (the duplicate check's term
            # frequencies): counted on these without reading the table. The value comes
            # first, so that no plan takes them to read a whole clinic.
            models.Index(fields=["given_norm", "clinic"], name="patient_given_clinic_idx"),
            models.Index(fields=["family_norm", "clinic"], name="patient_family_clinic_idx"),
            models.Index(fields=["birth_date", "clinic"], name="patient_birth_clinic_idx"),
            models.Index(fields=["postal_code", "clinic"], name="patient_postal_clinic_idx"),
            # The registration check's block for a married name with a birth-year typo.
            models.Index(fields=["given_key", "birth_date"], name="patient_given_key_birth_idx"),
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
            # A merged record is inactive and points at its survivor; nothing else may point.
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True)
                | models.Q(is_active=False) & ~models.Q(merged_into=models.F("id")),
                name="patient_merged_is_inactive",
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

    @property
    def alert_labels(self) -> list[str]:
        labels = dict(PatientAlertKind.choices)
        return [str(labels.get(code, code)) for code in self.alerts]


class PatientAlias(models.Model):
    """A previous or other name the patient has been known by (maiden name, alias)."""

    class Kind(models.TextChoices):
        PREVIOUS = "previous", "Previous name"
        ALIAS = "alias", "Also known as"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="aliases")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PREVIOUS)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100)
    family_norm = models.CharField(max_length=100, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}".strip(", ")


class FamilyName(models.Model):
    """Every distinct folded family name in the index: the dictionary that one-typo search
    looks names up in (patients/indexing.py). Rows are only added; a stale one is harmless."""

    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class Payer(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="payers")
    name = models.CharField(max_length=200)
    payer_id = models.CharField("payer ID", max_length=20, blank=True)
    member_id_pattern = models.CharField(max_length=200, blank=True)
    member_id_example = models.CharField(max_length=50, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="payer_unique")]

    def __str__(self) -> str:
        return self.name


class CoverageRank(models.IntegerChoices):
    PRIMARY = 1, "Primary"
    SECONDARY = 2, "Secondary"
    TERTIARY = 3, "Tertiary"


class SubscriberRelationship(models.TextChoices):
    SELF = "self", "Self"
    SPOUSE = "spouse", "Spouse / partner"
    CHILD = "child", "Child"
    OTHER = "other", "Other"


CARD_DIRECTORY = "cards"
# The extensions CoverageForm gives the files it checked (lib/uploads.py); nothing else is
# ever named after what someone uploaded.
CARD_EXTENSIONS = ("jpg", "pdf")
CARD_FIELDS = ("card_front", "card_back")


def card_upload_path(instance: Coverage, filename: str) -> str:
    # Random names: an uploaded file name can itself be PHI ("smith-john-card.jpg").
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f"{CARD_DIRECTORY}/{uuid.uuid4().hex}.{suffix if suffix in CARD_EXTENSIONS else 'bin'}"


class Coverage(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    rank = models.PositiveSmallIntegerField(choices=CoverageRank.choices)
    plan_name = models.CharField(max_length=200, blank=True)
    member_id = models.CharField(max_length=50)
    # The member ID as the search box compares it (capitals, no spaces, hyphens, dots or
    # slashes), kept by the database itself so every writer (forms, imports, the demo loader)
    # agrees with the index; patients.selectors normalises a typed query the same way.
    member_id_norm = models.GeneratedField(
        expression=Upper(
            Replace(
                Replace(
                    Replace(Replace("member_id", Value(" "), Value("")), Value("-"), Value("")),
                    Value("."),
                    Value(""),
                ),
                Value("/"),
                Value(""),
            )
        ),
        output_field=models.CharField(max_length=50),
        db_persist=True,
    )
    group_number = models.CharField(max_length=50, blank=True)
    subscriber_name = models.CharField(max_length=200, blank=True)
    subscriber_birth_date = models.DateField(null=True, blank=True)
    relationship = models.CharField(
        max_length=20, choices=SubscriberRelationship.choices, default=SubscriberRelationship.SELF
    )
    effective_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    card_front = models.FileField(upload_to=card_upload_path, blank=True)
    card_back = models.FileField(upload_to=card_upload_path, blank=True)
    # What the plan asks the patient to pay at each visit; taken at check-in.
    copay = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["rank"]
        indexes = [models.Index(fields=["member_id_norm"], name="coverage_member_id_norm")]
        constraints = [
            models.UniqueConstraint(fields=["patient", "rank"], name="coverage_one_per_rank"),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(effective_date__isnull=True)
                | models.Q(end_date__gte=models.F("effective_date")),
                name="coverage_dates_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(copay__isnull=True) | models.Q(copay__gte=0),
                name="coverage_copay_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rank_display()}: {self.payer} {self.member_id}"


class BreakGlassGrant(models.Model):
    """Time-limited access to a restricted record, given to one user for a stated reason."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="glass_grants")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="glass_grants")
    reason = models.CharField(max_length=300)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "patient", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("granted_at")),
                name="glass_grant_expires_after_granted",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="glass_grant_has_reason"),
        ]

    def __str__(self) -> str:
        return f"grant {self.pk} for patient {self.patient_id}"


class SupervisorNotice(models.Model):
    """Something a supervisor must see (a broken glass, an escalation)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="notices")
    created_at = models.DateTimeField()
    text = models.CharField(max_length=300)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["clinic", "acknowledged_at", "created_at"])]

    def __str__(self) -> str:
        return self.text


class PatientMerge(models.Model):
    """One merge of a duplicate into its survivor, with what is needed to undo it exactly."""

    survivor = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_folded")
    merged_at = models.DateTimeField()
    merged_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    survivor_before = models.JSONField()  # the survivor's chosen fields before the merge
    moved = models.JSONField(default=dict)  # {"app.Model:field": [[pk, extra], ...]}
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(survivor=models.F("merged")), name="merge_two_records"
            ),
        ]

    def __str__(self) -> str:
        return f"merge {self.merged_id} into {self.survivor_id}"


class AddressKind(models.TextChoices):
    MAILING = "mailing", "Mailing"
    TEMPORARY = "temporary", "Temporary"
    PREVIOUS = "previous", "Previous"
    WORK = "work", "Work"


class PatientAddress(models.Model):
    """An address besides the home address. The home address stays on Patient as the primary
    one: the duplicate check, search and letters read it there."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=10, choices=AddressKind.choices)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    confirmed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=AddressKind.values), name="patient_address_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(address_line1=""), name="patient_address_has_first_line"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="patient_address_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} address of patient {self.patient_id}"


class IdentityDocumentKind(models.TextChoices):
    DRIVERS_LICENCE = "drivers_licence", "Driver's licence"
    PASSPORT = "passport", "Passport"
    NATIONAL_ID = "national_id", "National ID"
    OTHER = "other", "Other"


class IdentityDocument(models.Model):
    """An identity document the patient showed. The number is stored normalised (capital
    letters and digits only), so the same document typed twice is one row: the unique index
    refuses it on a second patient of the clinic, and search finds it by equality."""

    # The clinic is the patient's; it is repeated here so the database can hold the rule
    # "one document, one patient per clinic". No index of its own: the unique one leads with it.
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="identity_documents"
    )
    kind = models.CharField(max_length=20, choices=IdentityDocumentKind.choices)
    number = models.CharField(max_length=30)
    issuing_country = models.CharField(max_length=2)
    issuing_state = models.CharField(max_length=50, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "pk"]
        constraints = [
            # Number second, so the same index answers "who holds document number X?".
            models.UniqueConstraint(
                fields=["clinic", "number", "kind", "issuing_country", "issuing_state"],
                name="identity_document_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=IdentityDocumentKind.values),
                name="identity_document_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(number="") & ~models.Q(issuing_country=""),
                name="identity_document_number_and_issuer_present",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of patient {self.patient_id}"

    @property
    def reveal_field(self) -> str:
        """The field name the reveal view takes for this document's number."""
        return f"document-{self.pk}"

    @property
    def issuer(self) -> str:
        return (
            f"{self.issuing_state}, {self.issuing_country}"
            if self.issuing_state
            else (self.issuing_country)
        )


class HouseholdLinkSource(models.TextChoices):
    REGISTRATION = "registration", "At registration"
    BY_HAND = "by_hand", "By hand"


class HouseholdLink(models.Model):
    """Two patients of one household (a twin, a parent, a flatmate): not duplicates, but
    useful for the guarantor and contact details. The pair is stored once, the smaller id
    first. A wrong link is removed; its audit event keeps the reason."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient_low = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="household_links_low"
    )
    patient_high = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="household_links_high"
    )
    found_by = models.CharField(max_length=20, choices=HouseholdLinkSource.choices)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(patient_low__lt=models.F("patient_high")),
                name="household_link_pair_ordered",
            ),
            models.UniqueConstraint(
                fields=["patient_low", "patient_high"], name="household_link_unique_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"household link {self.patient_low_id} - {self.patient_high_id}"

    def other(self, patient_id: int) -> Patient:
        """The member of the pair who is not `patient_id`."""
        return self.patient_high if self.patient_low_id == patient_id else self.patient_low
