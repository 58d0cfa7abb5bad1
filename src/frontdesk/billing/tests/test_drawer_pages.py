"""The drawer pages: the officer opens and closes their own drawer, bad input is explained in
words and kept; billing and supervisors see the day's drawers and the deposit report."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Personas, login_client, open_drawer
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing import drawer, services
from frontdesk.billing.models import CashDrawer, DrawerCloseOut, DrawerStatus, LedgerEntry
from frontdesk.clinic.models import Location
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.patients.models import Patient

pytestmark = pytest.mark.usefixtures("frozen")


def _desk(personas: Personas) -> Client:
    return login_client(Client(), personas.front_desk)


def test_the_officer_opens_the_drawer_from_the_page(personas: Personas) -> None:
    location = Location.objects.create(clinic=personas.clinic, name="North desk")
    Location.objects.create(clinic=personas.other_clinic, name="Elsewhere")
    desk = _desk(personas)
    page = desk.get("/billing/drawer/").content.decode()
    assert "Open a drawer" in page and "North desk" in page and "Elsewhere" not in page
    response = desk.post(
        "/billing/drawer/open/", {"location": location.pk, "opening_float": "$150.00"}
    )
    assert response.status_code == 302
    opened = CashDrawer.objects.get()
    assert opened.opening_float == Decimal("150.00") and opened.location == location
    page = desk.get("/billing/drawer/").content.decode()
    assert "Close the drawer" in page and "$150.00" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12,50", "Use a point for cents, like 12.50."),
        ("1e3", "Type the amount in numbers, like 25.00."),
        ("-20", "The amount cannot be negative."),
        ("ten", "Type the amount in numbers, like 25.00."),
        ("", "Type the float you counted (0 if the drawer is empty)."),
    ],
)
def test_a_float_typed_wrong_is_explained_and_kept(
    personas: Personas, typed: str, message: str
) -> None:
    location = Location.objects.create(clinic=personas.clinic, name="North desk")
    response = _desk(personas).post(
        "/billing/drawer/open/", {"location": location.pk, "opening_float": typed}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html and f'value="{typed}"' in html if typed else message in html
    assert not CashDrawer.objects.exists()


def test_a_location_of_another_clinic_is_not_in_the_list(personas: Personas) -> None:
    elsewhere = Location.objects.create(clinic=personas.other_clinic, name="Elsewhere")
    response = _desk(personas).post(
        "/billing/drawer/open/", {"location": elsewhere.pk, "opening_float": "10"}
    )
    assert response.status_code == 400
    assert "Choose a location from the list." in response.content.decode()
    assert not CashDrawer.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-2", "A count cannot be negative."),
        ("1e3", "Type how many, in whole numbers, like 3."),
        ("2.5", "Type how many, in whole numbers, like 3."),
        ("٣", "Type how many, in whole numbers, like 3."),
    ],
)
def test_a_count_typed_wrong_is_explained_and_every_count_is_kept(
    personas: Personas, typed: str, message: str
) -> None:
    opened = open_drawer(personas.front_desk)
    response = _desk(personas).post(
        f"/billing/drawer/{opened.pk}/close/", {"d20": typed, "d10": "4", "d1": "7"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html and f'value="{typed}"' in html and 'value="7"' in html
    assert not DrawerCloseOut.objects.exists()


def test_a_count_beyond_tolerance_asks_for_a_reason_then_closes_with_it(
    personas: Personas,
) -> None:
    opened = open_drawer(personas.front_desk, opening_float="100.00")
    desk = _desk(personas)
    counts = {"d20": "4", "d10": "1"}  # $90.00 of $100.00
    response = desk.post(f"/billing/drawer/{opened.pk}/close/", counts)
    html = response.content.decode()
    assert response.status_code == 400
    assert "$10.00 short" in html and "say what happened" in html and 'value="4"' in html
    assert not DrawerCloseOut.objects.exists()
    response = desk.post(
        f"/billing/drawer/{opened.pk}/close/", {**counts, "reason": "A note went missing"}
    )
    assert response.status_code == 302
    assert DrawerCloseOut.objects.get().reason == "A note went missing"
    page = desk.get("/billing/drawer/").content.decode()
    assert "$10.00 short" in page and "supervisor" in page
    # Sent again (a second tab): refused in words, counted once.
    again = desk.post(f"/billing/drawer/{opened.pk}/close/", {**counts, "reason": "x"})
    assert again.status_code == 400 and "closed already" in again.content.decode()
    assert DrawerCloseOut.objects.count() == 1


def test_the_check_in_page_says_how_to_open_a_drawer_and_keeps_the_payment_typed(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    desk = _desk(personas)
    LedgerEntry.objects.create(
        clinic=personas.clinic,
        patient=appointment.patient,
        kind="charge",
        amount=Decimal("40.00"),
        description="Earlier visit",
        created_at=timezone.now(),
    )
    page = desk.get(f"/flow/check-in/{appointment.pk}/").content.decode()
    assert "You have no open cash drawer" in page and 'href="/billing/drawer/"' in page
    sent = {
        "identity_confirmed": "on",
        "priority": "normal",
        "consent_signed": "on",
        "amount": "33.00",
        "method": "cash",
        "request_key": str(uuid.uuid4()),
    }
    response = desk.post(f"/flow/check-in/{appointment.pk}/", sent)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Open your cash drawer first" in html and 'value="33.00"' in html
    # Paid and checked in, or neither.
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    assert LedgerEntry.objects.filter(kind="payment").count() == 0
    open_drawer(personas.front_desk)
    assert desk.post(f"/flow/check-in/{appointment.pk}/", sent).status_code == 302
    assert LedgerEntry.objects.get(kind="payment").amount == Decimal("33.00")


def _day_of_drawers(personas: Personas, patient: Patient) -> tuple[CashDrawer, CashDrawer]:
    north = Location.objects.create(clinic=personas.clinic, name="North")
    south = Location.objects.create(clinic=personas.clinic, name="South")
    first = open_drawer(personas.front_desk, opening_float="100.00", location_name="North")
    second = open_drawer(personas.billing, opening_float="50.00", location_name="South")
    assert first.location == north and second.location == south
    for user, amount, method in [
        (personas.front_desk, "25.00", "cash"),
        (personas.front_desk, "60.00", "card"),
        (personas.front_desk, "15.00", "cheque"),
        (personas.front_desk, "20.00", "cheque"),
        (personas.billing, "10.00", "cash"),
    ]:
        services.account_payment_record(
            context=SYSTEM_CONTEXT,
            user=user,
            patient=patient,
            amount=Decimal(amount),
            method=method,
            request_key=uuid.uuid4(),
        )
    drawer.drawer_close(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        drawer_id=first.pk,
        counts={"d20": 6, "d5": 1},  # $125.00 of $125.00
        reason="",
        now=timezone.now(),
    )
    return first, second


def test_the_deposit_report_gives_cash_and_cheques_to_bank_and_card_totals_per_location(
    personas: Personas, patient: Patient
) -> None:
    _day_of_drawers(personas, patient)
    client = login_client(Client(), personas.billing)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/billing/deposits/?day=2026-11-23").content.decode()
    assert len(queries) <= 12, len(queries)
    north = html[html.index(">North<") : html.index(">South<")]
    # Counted $125.00 less the $100.00 float that stays in the drawer.
    assert "$25.00" in north and "$35.00 (2)" in north and "$60.00" in north
    south = html[html.index(">South<") :]
    assert "1 drawer still open" in south
    assert "data-print" in html
    # Another day has no drawers.
    assert (
        "No drawer was opened" in client.get("/billing/deposits/?day=2026-11-20").content.decode()
    )


def test_the_days_drawers_show_each_variance_and_link_to_the_close_out(
    personas: Personas, patient: Patient
) -> None:
    first, _ = _day_of_drawers(personas, patient)
    client = login_client(Client(), personas.supervisor)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/billing/drawers/").content.decode()
    assert len(queries) <= 14, len(queries)
    assert f'href="/billing/drawers/{first.pk}/"' in html and "balanced" in html
    detail = client.get(f"/billing/drawers/{first.pk}/").content.decode()
    assert "$20.00 notes" in detail and "balanced" in detail
    assert patient.family_name not in detail  # drawer pages show no patients


def test_a_supervisor_reviews_a_variance_from_its_page(personas: Personas) -> None:
    opened = open_drawer(personas.front_desk, opening_float="50.00")
    drawer.drawer_close(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        drawer_id=opened.pk,
        counts={"d20": 2},
        reason="Short; not sure why",
        now=timezone.now(),
    )
    supervisor = login_client(Client(), personas.supervisor)
    page = supervisor.get(f"/billing/drawers/{opened.pk}/").content.decode()
    assert "$10.00 short" in page and "Record the review" in page
    billing_page = login_client(Client(), personas.billing).get(f"/billing/drawers/{opened.pk}/")
    assert "Record the review" not in billing_page.content.decode()
    empty = supervisor.post(f"/billing/drawers/{opened.pk}/review/", {"note": " "})
    assert empty.status_code == 400 and "Say what you found" in empty.content.decode()
    done = supervisor.post(
        f"/billing/drawers/{opened.pk}/review/", {"note": "Found under the till"}
    )
    assert done.status_code == 302
    page = supervisor.get(f"/billing/drawers/{opened.pk}/").content.decode()
    assert "Found under the till" in page and "Record the review" not in page
    assert CashDrawer.objects.get().status == DrawerStatus.CLOSED


def test_another_clinics_drawer_is_not_found(personas: Personas) -> None:
    opened = open_drawer(personas.front_desk)
    olga_boss = personas.outsider
    assert (
        login_client(Client(), olga_boss).get(f"/billing/drawers/{opened.pk}/").status_code == 403
    )
    from conftest import PASSWORD
    from frontdesk.accounts.roles import Role
    from frontdesk.accounts.services import staff_create

    other_supervisor = staff_create(
        clinic=personas.other_clinic,
        username="otto",
        password=PASSWORD,
        role=Role.SUPERVISOR,
        first_name="Otto",
    )
    client = login_client(Client(), other_supervisor)
    assert client.get(f"/billing/drawers/{opened.pk}/").status_code == 404
    assert client.post(f"/billing/drawer/{opened.pk}/close/", {}).status_code == 400
    assert CashDrawer.objects.get().status == DrawerStatus.OPEN


def test_the_payment_button_alone_refused_for_want_of_a_drawer_keeps_what_was_typed(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    LedgerEntry.objects.create(
        clinic=personas.clinic,
        patient=appointment.patient,
        kind="charge",
        amount=Decimal("40.00"),
        description="Earlier visit",
        created_at=timezone.now(),
    )
    sent = {
        "record_payment": "1",
        "amount": "18.75",
        "method": "cheque",
        "request_key": str(uuid.uuid4()),
    }
    response = _desk(personas).post(f"/flow/check-in/{appointment.pk}/", sent)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Open your cash drawer first" in html and 'value="18.75"' in html
    assert '<option value="cheque" selected>' in html
    assert not LedgerEntry.objects.filter(kind="payment").exists()
