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
    # Reversing entries: money given back (a refund) or a payment taken by mistake undone (a
    # void). Each names the payment it reverses and moves money out of a drawer.
    REFUND = "refund", "Refund"
    VOID = "void", "Void"


# Entries that move money through a drawer, and so say by which method.
MONEY_KINDS = (EntryKind.PAYMENT, EntryKind.REFUND, EntryKind.VOID)
# Entries that raise what the patient owes.
DEBIT_KINDS = (EntryKind.CHARGE, EntryKind.REFUND, EntryKind.VOID)


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
    # The officer's drawer the money went into or came out of (billing/drawer.py). Empty for
    # charges and credits, and for payments written before drawers were kept.
    drawer = models.ForeignKey(
        "billing.CashDrawer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
    )
    # A refund or void: the payment it reverses.
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )

    class Meta:
        indexes = [models.Index(fields=["patient", "created_at"], name="ledger_patient_time")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ledger_amount_positive"),
            # Money moves say how it moved; charges and credits have no method.
            models.CheckConstraint(
                condition=(models.Q(kind__in=MONEY_KINDS) & ~models.Q(method=""))
                | (~models.Q(kind__in=MONEY_KINDS) & models.Q(method="")),
                name="ledger_money_has_method",
            ),
            # A refund or void always names the payment it reverses; nothing else does.
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=(EntryKind.REFUND, EntryKind.VOID))
                    & models.Q(reverses__isnull=False)
                )
                | (
                    ~models.Q(kind__in=(EntryKind.REFUND, EntryKind.VOID))
                    & models.Q(reverses__isnull=True)
                ),
                name="ledger_reversal_names_its_payment",
            ),
            # A payment is voided once.
            models.UniqueConstraint(
                fields=["reverses"],
                condition=models.Q(kind=EntryKind.VOID),
                name="ledger_one_void_per_payment",
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


class DrawerStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class CashDrawer(models.Model):
    """One officer's cash drawer at one location, from the counted float to the close-out.

    Every payment the officer takes while it is open goes into it (`LedgerEntry.drawer`). The
    database keeps at most one open drawer per officer; the close-out is its own row, one per
    drawer, so a drawer cannot be closed twice even by two requests at once.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="cash_drawers")
    location = models.ForeignKey(
        "clinic.Location", on_delete=models.PROTECT, related_name="cash_drawers"
    )
    officer = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="cash_drawers"
    )
    # The clinic's local date the drawer was opened: the deposit report's day.
    business_day = models.DateField()
    opening_float = models.DecimalField(max_digits=10, decimal_places=2)
    opened_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=DrawerStatus.choices, default=DrawerStatus.OPEN
    )

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "business_day"], name="drawer_clinic_day"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["officer"],
                condition=models.Q(status=DrawerStatus.OPEN),
                name="drawer_one_open_per_officer",
            ),
            models.CheckConstraint(
                condition=models.Q(opening_float__gte=0), name="drawer_float_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DrawerStatus.values), name="drawer_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"Drawer {self.pk} of {self.officer_id} on {self.business_day}"


class DrawerCloseOut(models.Model):
    """The count at the end of the day: cash by denomination, what was expected by method,
    and the variance. One per drawer (the primary key is the drawer): a second close-out is
    refused by the database."""

    drawer = models.OneToOneField(
        CashDrawer, on_delete=models.PROTECT, primary_key=True, related_name="close_out"
    )
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="drawer_close_outs"
    )
    closed_at = models.DateTimeField()
    # {"d20": 3, "d0_25": 4, ...}: how many of each note and coin were counted.
    denomination_counts = models.JSONField(default=dict)
    counted_cash = models.DecimalField(max_digits=12, decimal_places=2)
    expected_cash = models.DecimalField(max_digits=12, decimal_places=2)
    expected_card = models.DecimalField(max_digits=12, decimal_places=2)
    expected_cheque = models.DecimalField(max_digits=12, decimal_places=2)
    expected_other = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # Counted minus expected: negative is cash missing, positive is cash over.
    variance = models.DecimalField(max_digits=12, decimal_places=2)
    # The clinic's tolerance at the time of closing, and whether the variance went beyond it.
    tolerance = models.DecimalField(max_digits=10, decimal_places=2)
    beyond_tolerance = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(counted_cash__gte=0), name="drawer_count_not_negative"
            ),
            # A variance beyond the tolerance is explained.
            models.CheckConstraint(
                condition=models.Q(beyond_tolerance=False) | ~models.Q(reason=""),
                name="drawer_variance_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Close-out of drawer {self.drawer_id}"


class DrawerVarianceReview(models.Model):
    """A supervisor's look at a variance beyond tolerance: what was found or done. Until it is
    written, the variance is on the supervisors' desk queue."""

    close_out = models.OneToOneField(
        DrawerCloseOut, on_delete=models.PROTECT, primary_key=True, related_name="review"
    )
    reviewed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="drawer_reviews"
    )
    reviewed_at = models.DateTimeField()
    note = models.CharField(max_length=500)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(note=""), name="drawer_review_has_note")
        ]

    def __str__(self) -> str:
        return f"Review of drawer {self.close_out_id}"


class DrawerRules(models.Model):
    """A clinic's drawer rules. A clinic without a row uses `DEFAULT_TOLERANCE`."""

    clinic = models.OneToOneField(
        Clinic, on_delete=models.CASCADE, primary_key=True, related_name="drawer_rules"
    )
    # How far the counted cash may be from the expected cash, either way, without a reason.
    variance_tolerance = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(variance_tolerance__gte=0),
                name="drawer_tolerance_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"Drawer rules of clinic {self.clinic_id}"


DEFAULT_TOLERANCE = "5.00"
