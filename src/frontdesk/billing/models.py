"""A patient's account: an append-only ledger of charges, payments and credits.

A mistake is corrected by a new entry (a credit against a wrong charge), never by changing or
removing one: the database refuses UPDATE and DELETE (billing.triggers), except for moving
entries to the surviving record when two patient records are merged.
"""

from __future__ import annotations

from django.db import models

from frontdesk.clinic.models import Clinic
from frontdesk.lib.money import cheque_word
from frontdesk.patients.models import Patient


class EntryKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    PAYMENT = "payment", "Payment"
    CREDIT = "credit", "Adjustment credit"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CARD = "card", "Card"
    CHEQUE = "cheque", "Cheque"
    OTHER = "other", "Other"


def payment_method_label(method: str) -> str:
    """The method's words at this clinic: the stored labels are fixed, the spelling of
    "cheque" follows the clinic's currency (CLINIC_CURRENCY)."""
    if method == PaymentMethod.CHEQUE:
        return cheque_word()
    return str(PaymentMethod(method).label) if method in PaymentMethod.values else method


def payment_method_choices() -> list[tuple[str, str]]:
    return [(value, payment_method_label(value)) for value in PaymentMethod.values]


class LedgerEntry(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="ledger_entries")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    description = models.CharField(max_length=200)
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    method = models.CharField(max_length=10, choices=PaymentMethod.choices, blank=True)
    # The visit's co-pay, charged at most once per appointment (see the unique constraint).
    is_copay = models.BooleanField(default=False)
    # The one-time key of the payment form that wrote the entry: pressing the button twice
    # cannot record the same payment twice.
    request_key = models.UUIDField(null=True, blank=True, unique=True)
    # Empty for entries Frontdesk wrote itself (the demo clinic's opening balances).
    created_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["patient", "created_at"], name="ledger_patient_time")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ledger_amount_positive"),
            # A payment says how it was paid; charges and credits have no method.
            models.CheckConstraint(
                condition=(models.Q(kind=EntryKind.PAYMENT) & ~models.Q(method=""))
                | (~models.Q(kind=EntryKind.PAYMENT) & models.Q(method="")),
                name="ledger_payment_has_method",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=EntryKind.values), name="ledger_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(is_copay=False)
                | (models.Q(kind=EntryKind.CHARGE) & models.Q(appointment__isnull=False)),
                name="ledger_copay_is_a_visit_charge",
            ),
            models.UniqueConstraint(
                fields=["appointment"],
                condition=models.Q(is_copay=True),
                name="ledger_one_copay_per_appointment",
            ),
            models.CheckConstraint(
                condition=~models.Q(description=""), name="ledger_entry_has_description"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} for patient {self.patient_id}"
