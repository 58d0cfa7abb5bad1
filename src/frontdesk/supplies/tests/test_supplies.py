"""Office supplies: counts and changes logged with who and when, below par on the desk queue
until restocked, and a reorder list to print or export."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import Personas, login_client
from frontdesk.audit.services import AuditContext
from frontdesk.desk.live import desk_version
from frontdesk.desk.pools import Pool
from frontdesk.desk.sources import ROW_FIELDS, desk_sources
from frontdesk.supplies.models import LogKind, SupplyItem, SupplyLogEntry
from frontdesk.supplies.services import (
    SupplyRefusedError,
    supply_adjust,
    supply_count,
    supply_item_save,
)


def _context(personas: Personas) -> AuditContext:
    user = personas.front_desk
    return AuditContext(user.pk, user.username, user.role, user.clinic_id, None, "", "test")


@pytest.fixture
def paper(personas: Personas) -> SupplyItem:
    return supply_item_save(
        context=_context(personas),
        user=personas.supervisor,
        item=None,
        name="Printer paper",
        unit="ream",
        par_level=10,
        supplier='=HYPERLINK("http://x")',  # a supplier typed as a spreadsheet formula
        on_hand=4,
    )


def _queue(clinic_id: int) -> list[dict[str, object]]:
    return list(desk_sources()["supply"].rows(clinic_id=clinic_id, now=timezone.now()))


def test_an_item_below_par_is_on_the_desk_queue_until_a_delivery_restocks_it(
    personas: Personas, paper: SupplyItem
) -> None:
    (row,) = _queue(personas.clinic.pk)
    assert tuple(row) == ROW_FIELDS
    assert row["ref"] == paper.pk
    assert row["pool"] == Pool.DESK
    assert row["since"] is not None
    entry = desk_sources()["supply"].describe([paper.pk], now=timezone.now())[paper.pk]
    assert entry.title == "Reorder Printer paper"
    assert "4 of 10 ream" in entry.detail

    before = desk_version(personas.clinic.pk)
    supply_adjust(
        context=_context(personas),
        user=personas.front_desk,
        item=paper,
        kind=LogKind.RECEIVED,
        quantity=6,
    )
    assert _queue(personas.clinic.pk) == []
    assert desk_version(personas.clinic.pk) > before
    paper.refresh_from_db()
    assert paper.on_hand == 10 and paper.below_par_since is None


def test_a_count_below_par_puts_it_back_on_the_queue(personas: Personas, paper: SupplyItem) -> None:
    supply_count(context=_context(personas), user=personas.front_desk, item=paper, counted=12)
    assert _queue(personas.clinic.pk) == []
    supply_count(context=_context(personas), user=personas.front_desk, item=paper, counted=3)
    assert [r["ref"] for r in _queue(personas.clinic.pk)] == [paper.pk]
    assert _queue(personas.other_clinic.pk) == []


def test_every_count_and_change_is_logged_with_who_and_when(
    personas: Personas, paper: SupplyItem, client: Client
) -> None:
    officer = login_client(client, personas.front_desk)
    url = reverse("supplies:count", args=[paper.pk])
    assert officer.post(url, {"form": "count", "counted": "7"}).status_code == 302
    assert officer.post(url, {"form": "adjust", "kind": "used", "quantity": "2"}).status_code == 302
    log = list(SupplyLogEntry.objects.filter(item=paper).order_by("at", "pk"))
    assert [(e.kind, e.change, e.on_hand_after, e.by) for e in log] == [
        (LogKind.ADDED, 4, 4, personas.supervisor),
        (LogKind.COUNTED, 3, 7, personas.front_desk),
        (LogKind.USED, -2, 5, personas.front_desk),
    ]
    assert all(e.at is not None for e in log)
    page = officer.get(url).content.decode()
    assert "Taken for use" in page and "Alice" in page


def test_the_log_refuses_to_be_rewritten(personas: Personas, paper: SupplyItem) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        SupplyLogEntry.objects.filter(item=paper).update(change=400)
    assert SupplyLogEntry.objects.get(item=paper).change == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"form": "count", "counted": ""}, "Type a number."),
        ({"form": "count", "counted": "-3"}, "Type a number of 0 or more."),
        ({"form": "count", "counted": "4000000"}, "looks like a typo"),
        ({"form": "count", "counted": "ten"}, "Type a whole number."),
        ({"form": "adjust", "kind": "used", "quantity": "50"}, "Only 4 ream on file"),
        ({"form": "adjust", "kind": "used", "quantity": "0"}, "more than zero"),
        ({"form": "adjust", "kind": "corrected", "quantity": "2"}, "Say why"),
        ({"form": "adjust", "kind": "stolen", "quantity": "2"}, "from the list"),
    ],
)
def test_bad_counts_are_refused_in_words_and_change_nothing(
    personas: Personas, paper: SupplyItem, client: Client, data: dict[str, str], message: str
) -> None:
    officer = login_client(client, personas.front_desk)
    response = officer.post(reverse("supplies:count", args=[paper.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    paper.refresh_from_db()
    assert paper.on_hand == 4
    assert SupplyLogEntry.objects.filter(item=paper).count() == 1


def test_the_reorder_list_prints_and_exports_what_to_order(
    personas: Personas, paper: SupplyItem, client: Client
) -> None:
    supply_item_save(
        context=_context(personas),
        user=personas.supervisor,
        item=None,
        name="Pens",
        unit="box",
        par_level=2,
        supplier="Staples",
        on_hand=5,
    )
    officer = login_client(client, personas.front_desk)
    page = officer.get(reverse("supplies:reorder")).content.decode()
    assert "Printer paper" in page and "6 ream" in page
    assert "Pens" not in page
    export = officer.get(reverse("supplies:reorder_csv"))
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == ["Supplier", "Item", "Unit", "On hand", "Par level", "To order"]
    assert rows[1:] == [['\'=HYPERLINK("http://x")', "Printer paper", "ream", "4", "10", "6"]]


def test_a_second_item_of_the_same_name_is_refused(personas: Personas, paper: SupplyItem) -> None:
    with pytest.raises(SupplyRefusedError, match="already"):
        supply_item_save(
            context=_context(personas),
            user=personas.supervisor,
            item=None,
            name="Printer paper",
            unit="ream",
            par_level=3,
            supplier="",
        )


def test_another_clinics_item_is_a_404(personas: Personas, paper: SupplyItem) -> None:
    outsider = login_client(Client(), personas.outsider)
    assert outsider.get(reverse("supplies:count", args=[paper.pk])).status_code == 404
    assert "Printer paper" not in outsider.get(reverse("supplies:reorder")).content.decode()


def test_supervisors_keep_the_item_list(personas: Personas, client: Client) -> None:
    supervisor = login_client(client, personas.supervisor)
    response = supervisor.post(
        reverse("supplies:new"),
        {"name": "Hand sanitiser", "unit": "bottle", "par_level": "6", "on_hand": "2"},
    )
    assert response.status_code == 302
    item = SupplyItem.objects.get(name="Hand sanitiser")
    assert item.below_par and item.below_par_since is not None
    desk = login_client(Client(), personas.front_desk)
    assert desk.get(reverse("supplies:new")).status_code == 403
