"""Cash drawers: opened with a counted float, every payment in its officer's open drawer by
method, closed once with the cash counted by denomination; a variance beyond the clinic's
tolerance needs a reason and waits on the supervisors' desk queue."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client, make_patient, open_drawer
from frontdesk.audit.models import AuditEvent, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing import drawer, reversals, services
from frontdesk.billing.desk import DrawerVarianceSource
from frontdesk.billing.drawer_selectors import drawer_totals
from frontdesk.billing.models import (
    CashDrawer,
    DrawerCloseOut,
    DrawerRules,
    DrawerStatus,
    EntryKind,
    LedgerEntry,
)
from frontdesk.desk.live import desk_version
from frontdesk.desk.sources import ROW_FIELDS, desk_sources
from frontdesk.flow.tests.conftest import NOW
from frontdesk.patients.models import Patient

pytestmark = pytest.mark.usefixtures("frozen")


def _take(user: object, patient: Patient, amount: str, method: str) -> LedgerEntry:
    return services.account_payment_record(
        context=SYSTEM_CONTEXT,
        user=user,  # type: ignore[arg-type]
        patient=patient,
        amount=Decimal(amount),
        method=method,
        request_key=uuid.uuid4(),
    )


def _close(
    user: object, drawer_id: int, counts: dict[str, int], reason: str = ""
) -> DrawerCloseOut:
    return drawer.drawer_close(
        context=SYSTEM_CONTEXT,
        user=user,  # type: ignore[arg-type]
        drawer_id=drawer_id,
        counts=counts,
        reason=reason,
        now=timezone.now(),
    )


# --- Opening -----------------------------------------------------------------------------------


def test_an_officer_opens_one_drawer_with_a_counted_float_and_it_is_audited(
    personas: Personas,
) -> None:
    opened = open_drawer(personas.front_desk, opening_float="150.25")
    assert opened.status == DrawerStatus.OPEN and opened.opening_float == Decimal("150.25")
    # The clinic's day in New York, not the UTC date.
    assert opened.business_day == dt.date(2026, 11, 23)
    assert AuditEvent.objects.filter(
        object_type=AuditObject.CASH_DRAWER, object_id=str(opened.pk)
    ).exists()
    with pytest.raises(services.BillingRefusedError, match="open already"):
        open_drawer(personas.front_desk)
    assert CashDrawer.objects.count() == 1


def test_the_database_keeps_at_most_one_open_drawer_per_officer(personas: Personas) -> None:
    held = open_drawer(personas.front_desk)
    with pytest.raises(IntegrityError), transaction.atomic():
        CashDrawer.objects.create(
            clinic=personas.clinic,
            location=held.location,
            officer=personas.front_desk,
            business_day=held.business_day,
            opening_float=Decimal("0"),
            opened_at=timezone.now(),
        )
    # Another officer has their own.
    assert open_drawer(personas.billing).officer == personas.billing


def test_the_business_day_is_the_clinics_date_late_in_the_evening(personas: Personas) -> None:
    # 03:30 UTC on the 24th is still the 23rd in New York.
    with time_machine.travel(dt.datetime(2026, 11, 24, 3, 30, tzinfo=dt.UTC), tick=False):
        opened = open_drawer(personas.front_desk)
    assert opened.business_day == dt.date(2026, 11, 23)


# --- Payments need an open drawer ----------------------------------------------------------------


def test_a_payment_without_an_open_drawer_is_refused_and_nothing_is_written(
    personas: Personas, patient: Patient
) -> None:
    with pytest.raises(services.DrawerRequiredError, match="Open your cash drawer first"):
        _take(personas.front_desk, patient, "20.00", "cash")
    assert not LedgerEntry.objects.exists()


def test_the_chart_payment_refused_for_want_of_a_drawer_keeps_what_was_typed_and_links_to_it(
    personas: Personas, patient: Patient
) -> None:
    desk = login_client(Client(), personas.front_desk)
    form = {"amount": "20.00", "method": "card", "request_key": str(uuid.uuid4())}
    response = desk.post(f"/billing/patients/{patient.pk}/payments/new/", form)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Open your cash drawer first" in html and 'value="20.00"' in html
    assert 'href="/billing/drawer/"' in html
    assert not LedgerEntry.objects.exists()
    # Once the drawer is open, the same form (same key) goes through.
    open_drawer(personas.front_desk)
    assert desk.post(f"/billing/patients/{patient.pk}/payments/new/", form).status_code == 302
    assert LedgerEntry.objects.get().drawer is not None


def test_a_drawer_left_open_from_yesterday_takes_no_payment_today(
    personas: Personas, patient: Patient
) -> None:
    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        open_drawer(personas.front_desk)
    with pytest.raises(services.DrawerRequiredError, match="still open: close it"):
        _take(personas.front_desk, patient, "20.00", "cash")


def test_each_payment_goes_into_its_officers_drawer_by_method(
    personas: Personas, patient: Patient
) -> None:
    desk_drawer = open_drawer(personas.front_desk, opening_float="100.00")
    billing_drawer = open_drawer(personas.billing, opening_float="0.00")
    _take(personas.front_desk, patient, "25.10", "cash")
    _take(personas.front_desk, patient, "0.20", "cash")
    _take(personas.front_desk, patient, "40.00", "card")
    _take(personas.front_desk, patient, "15.00", "cheque")
    _take(personas.billing, patient, "9.99", "cash")
    totals = drawer_totals([desk_drawer, billing_drawer])
    mine = totals[desk_drawer.pk]
    assert mine.net("cash") == Decimal("25.30") and mine.net("card") == Decimal("40.00")
    assert mine.net("cheque") == Decimal("15.00")
    assert mine.expected_cash == Decimal("125.30")
    assert totals[billing_drawer.pk].expected_cash == Decimal("9.99")


# --- Arithmetic: Decimal from end to end -------------------------------------------------------


def test_the_drawer_arithmetic_is_exact_in_decimal(personas: Personas, patient: Patient) -> None:
    opened = open_drawer(personas.front_desk, opening_float="0.30")
    # Ten payments of 0.10: in binary floating point 0.1 * 10 + 0.3 is not 1.3.
    payments = [_take(personas.front_desk, patient, "0.10", "cash") for _ in range(10)]
    reversals.payment_void(
        context=SYSTEM_CONTEXT,
        user=personas.billing,
        payment_id=payments[0].pk,
        reason="Taken twice",
        now=timezone.now(),
    )
    totals = drawer_totals([opened])[opened.pk]
    assert totals.expected_cash == Decimal("1.20")
    assert isinstance(totals.expected_cash, Decimal)
    close_out = _close(personas.front_desk, opened.pk, {"d1": 1, "d0_10": 2})
    assert close_out.counted_cash == Decimal("1.20")
    assert close_out.variance == Decimal("0.00")
    assert not close_out.beyond_tolerance


# --- Closing -----------------------------------------------------------------------------------


def test_a_close_out_counts_by_denomination_and_records_expected_and_variance(
    personas: Personas, patient: Patient
) -> None:
    opened = open_drawer(personas.front_desk, opening_float="50.00")
    _take(personas.front_desk, patient, "25.00", "cash")
    _take(personas.front_desk, patient, "30.00", "card")
    # 3 x $20 + 1 x $10 + 4 x $1 + 3 x 25c = $74.75: $0.25 short of $75.00.
    close_out = _close(personas.front_desk, opened.pk, {"d20": 3, "d10": 1, "d1": 4, "d0_25": 3})
    assert close_out.counted_cash == Decimal("74.75")
    assert close_out.expected_cash == Decimal("75.00")
    assert close_out.expected_card == Decimal("30.00")
    assert close_out.variance == Decimal("-0.25")
    assert close_out.tolerance == Decimal("5.00") and not close_out.beyond_tolerance
    assert close_out.denomination_counts == {"d20": 3, "d10": 1, "d1": 4, "d0_25": 3}
    opened.refresh_from_db()
    assert opened.status == DrawerStatus.CLOSED
    event = AuditEvent.objects.filter(
        object_type=AuditObject.CASH_DRAWER, object_id=str(opened.pk)
    ).latest("seq")
    assert event.detail["variance"] == "-0.25"
    # Closed: the next payment needs a new drawer.
    with pytest.raises(services.DrawerRequiredError):
        _take(personas.front_desk, patient, "5.00", "cash")


def test_a_variance_beyond_tolerance_needs_a_reason_and_goes_to_the_supervisors_queue(
    personas: Personas, patient: Patient
) -> None:
    DrawerRules.objects.create(clinic=personas.clinic, variance_tolerance=Decimal("2.00"))
    opened = open_drawer(personas.front_desk, opening_float="100.00")
    _take(personas.front_desk, patient, "25.00", "cash")
    with pytest.raises(drawer.VarianceReasonRequiredError, match=r"\$5.00 short") as refused:
        _close(personas.front_desk, opened.pk, {"d20": 6})
    assert refused.value.preview.variance == Decimal("-5.00")
    assert not DrawerCloseOut.objects.exists()
    assert CashDrawer.objects.get().status == DrawerStatus.OPEN
    before = desk_version(personas.clinic.pk)

    close_out = _close(personas.front_desk, opened.pk, {"d20": 6}, reason="Change given twice")
    assert close_out.beyond_tolerance and close_out.reason == "Change given twice"
    assert desk_version(personas.clinic.pk) == before + 1
    source = desk_sources()["drawer_variance"]
    assert isinstance(source, DrawerVarianceSource)
    rows = list(source.rows(clinic_id=personas.clinic.pk, now=timezone.now()))
    assert len(rows) == 1 and set(rows[0]) == set(ROW_FIELDS)
    assert rows[0]["ref"] == opened.pk and rows[0]["pool"] == "supervisors"
    assert rows[0]["patient_id"] is None
    assert not list(source.rows(clinic_id=personas.other_clinic.pk, now=timezone.now()))
    described = source.describe([opened.pk], now=timezone.now())[opened.pk]
    assert "$5.00 short" in described.detail and described.url == f"/billing/drawers/{opened.pk}/"

    drawer.drawer_variance_review(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        drawer_id=opened.pk,
        note="Counted with Alice; the change was given twice.",
        now=timezone.now(),
    )
    assert not list(source.rows(clinic_id=personas.clinic.pk, now=timezone.now()))
    assert desk_version(personas.clinic.pk) == before + 2


def test_a_variance_within_tolerance_needs_no_reason_and_nothing_for_the_supervisor(
    personas: Personas,
) -> None:
    opened = open_drawer(personas.front_desk, opening_float="20.00")
    close_out = _close(personas.front_desk, opened.pk, {"d20": 1, "d1": 5})
    assert close_out.variance == Decimal("5.00") and not close_out.beyond_tolerance
    source = desk_sources()["drawer_variance"]
    assert not list(source.rows(clinic_id=personas.clinic.pk, now=timezone.now()))


def test_a_drawer_cannot_be_closed_twice(personas: Personas) -> None:
    opened = open_drawer(personas.front_desk, opening_float="10.00")
    _close(personas.front_desk, opened.pk, {"d10": 1})
    with pytest.raises(drawer.DrawerAlreadyClosedError):
        _close(personas.front_desk, opened.pk, {"d10": 1})
    # The database refuses a second close-out whatever the code does.
    first = DrawerCloseOut.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        DrawerCloseOut.objects.create(
            drawer=opened,
            closed_by=personas.front_desk,
            closed_at=timezone.now(),
            counted_cash=Decimal("10.00"),
            expected_cash=Decimal("10.00"),
            expected_card=Decimal("0"),
            expected_cheque=Decimal("0"),
            variance=Decimal("0"),
            tolerance=Decimal("5"),
        )
    assert DrawerCloseOut.objects.get() == first


def test_only_the_officer_or_a_supervisor_closes_a_drawer(personas: Personas) -> None:
    opened = open_drawer(personas.front_desk, opening_float="0.00")
    with pytest.raises(services.BillingRefusedError, match="No such drawer"):
        _close(personas.billing, opened.pk, {})
    with pytest.raises(services.BillingRefusedError, match="No such drawer"):
        _close(personas.outsider, opened.pk, {})
    assert _close(personas.supervisor, opened.pk, {}).closed_by == personas.supervisor


@pytest.mark.parametrize(
    ("counts", "message"),
    [({"d20": -1}, "cannot be negative"), ({"d3": 1}, "not one of"), ({"d1": 10**9}, "too large")],
)
def test_the_service_refuses_a_count_that_cannot_be(
    personas: Personas, counts: dict[str, int], message: str
) -> None:
    opened = open_drawer(personas.front_desk)
    with pytest.raises(services.BillingRefusedError, match=message):
        _close(personas.front_desk, opened.pk, counts)
    assert not DrawerCloseOut.objects.exists()


def test_a_negative_float_is_refused_by_the_service_and_the_database(personas: Personas) -> None:
    with pytest.raises(services.BillingRefusedError, match="cannot be negative"):
        open_drawer(personas.front_desk, opening_float="-1.00")
    location = open_drawer(personas.billing).location
    with pytest.raises(IntegrityError), transaction.atomic():
        CashDrawer.objects.create(
            clinic=personas.clinic,
            location=location,
            officer=personas.front_desk,
            business_day=dt.date(2026, 11, 23),
            opening_float=Decimal("-1.00"),
            opened_at=timezone.now(),
        )


# --- Races ---------------------------------------------------------------------------------------


def _race(attempts: list[object]) -> list[str]:
    """Run each callable in its own thread, released together; their outcomes in words."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []

    def run(attempt: object) -> None:
        try:
            barrier.wait()
            attempt()  # type: ignore[operator]
            outcomes.append("done")
        except services.BillingRefusedError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_close_outs_of_one_drawer_at_once_close_it_once(
    transactional_ledger: None, personas: Personas, frozen: time_machine.Traveller
) -> None:
    opened = open_drawer(personas.front_desk, opening_float="40.00")
    tries = 4 if connection.vendor == "postgresql" else 2
    outcomes = _race(
        [
            lambda: _close(personas.front_desk, opened.pk, {"d20": 2}),
            *[lambda: _close(personas.supervisor, opened.pk, {"d20": 2})] * (tries - 1),
        ]
    )
    assert outcomes.count("done") == 1, outcomes
    assert all("closed already" in o for o in outcomes if o != "done"), outcomes
    assert DrawerCloseOut.objects.count() == 1
    assert CashDrawer.objects.get().status == DrawerStatus.CLOSED


def test_a_payment_racing_the_close_out_is_counted_or_refused_never_lost(
    transactional_ledger: None, personas: Personas, frozen: time_machine.Traveller
) -> None:
    patient = make_patient(personas.clinic)
    opened = open_drawer(personas.front_desk, opening_float="0.00")
    outcomes = _race(
        [
            lambda: _close(personas.front_desk, opened.pk, {}, reason="Counting"),
            lambda: _take(personas.front_desk, patient, "30.00", "cash"),
        ]
    )
    close_out = DrawerCloseOut.objects.get()
    paid = LedgerEntry.objects.filter(kind=EntryKind.PAYMENT)
    if paid.exists():
        # Taken before the count: the count expected it.
        assert paid.get().drawer_id == opened.pk
        assert close_out.expected_cash == Decimal("30.00"), outcomes
    else:
        # Refused after the count: the officer was told to open a drawer.
        assert any("Open your cash drawer" in o for o in outcomes), outcomes
        assert close_out.expected_cash == Decimal("0.00")


def test_one_officer_opening_a_drawer_from_two_windows_at_once_opens_one(
    transactional_ledger: None, personas: Personas, frozen: time_machine.Traveller
) -> None:
    tries = 4 if connection.vendor == "postgresql" else 2
    outcomes = _race([lambda: open_drawer(personas.front_desk)] * tries)
    assert outcomes.count("done") == 1, outcomes
    assert all("open already" in o or "a moment ago" in o for o in outcomes if o != "done")
    assert CashDrawer.objects.filter(status=DrawerStatus.OPEN).count() == 1


def test_a_void_and_a_refund_of_one_payment_at_once_reverse_it_once(
    transactional_ledger: None, personas: Personas, frozen: time_machine.Traveller
) -> None:
    patient = make_patient(personas.clinic)
    open_drawer(personas.front_desk)
    open_drawer(personas.billing, opening_float="100.00")
    payment = _take(personas.front_desk, patient, "30.00", "cash")
    outcomes = _race(
        [
            lambda: reversals.payment_void(
                context=SYSTEM_CONTEXT,
                user=personas.supervisor,
                payment_id=payment.pk,
                reason="Wrong patient",
                now=timezone.now(),
            ),
            lambda: reversals.payment_refund(
                context=SYSTEM_CONTEXT,
                user=personas.billing,
                payment_id=payment.pk,
                amount=Decimal("30.00"),
                method="cash",
                reason="Overpaid",
                now=timezone.now(),
            ),
        ]
    )
    assert outcomes.count("done") == 1, outcomes
    assert LedgerEntry.objects.filter(reverses=payment).count() == 1


def test_the_clinics_tolerance_is_set_by_command_and_typed_wrong_is_refused(
    personas: Personas,
) -> None:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command("drawer-rules", "--clinic", personas.clinic.name, stdout=out)
    assert "off by up to $5.00" in out.getvalue()
    call_command("drawer-rules", "--clinic", personas.clinic.name, "--tolerance", "2", stdout=out)
    assert "off by up to $2.00" in out.getvalue()
    assert DrawerRules.objects.get().variance_tolerance == Decimal("2.00")
    for typed, message in [("1e3", "in numbers"), ("-1", "negative"), ("500", "at most")]:
        with pytest.raises(CommandError, match=message):
            call_command("drawer-rules", "--clinic", personas.clinic.name, "--tolerance", typed)
    assert DrawerRules.objects.get().variance_tolerance == Decimal("2.00")
    opened = open_drawer(personas.front_desk, opening_float="10.00")
    with pytest.raises(drawer.VarianceReasonRequiredError):
        _close(personas.front_desk, opened.pk, {"d5": 1, "d1": 2})
