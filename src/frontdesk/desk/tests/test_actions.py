"""Claim, snooze, hand over: the rules, the filters they feed, tenancy and the audit trail."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from conftest import Personas
from frontdesk.accounts.roles import Role
from frontdesk.accounts.services import staff_create
from frontdesk.audit.models import AuditEvent, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.desk import services
from frontdesk.desk.live import desk_version
from frontdesk.desk.models import DeskItem
from frontdesk.desk.pools import Pool
from frontdesk.desk.selectors import DeskFilter, desk_page
from frontdesk.desk.services import DeskItemGoneError, DeskRefusedError
from frontdesk.desk.tests.conftest import MakeAppointment
from frontdesk.scheduling.models import Appointment

pytestmark = pytest.mark.usefixtures("frozen")


def refs(user: object, **extra: object) -> list[int]:
    page = desk_page(user=user, now=timezone.now(), **extra)  # type: ignore[arg-type]
    return [row.ref for row in page.rows]


def claim(user: object, appointment: Appointment) -> DeskItem:
    return services.desk_item_claim(
        context=SYSTEM_CONTEXT,
        user=user,  # type: ignore[arg-type]
        kind="unconfirmed",
        ref=appointment.pk,
    )


def test_claiming_records_who_and_when_is_audited_and_raises_the_desk_version(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    before = desk_version(personas.clinic.pk)
    item = claim(personas.front_desk, appointment)
    assert item.claimed_by == personas.front_desk
    assert item.claimed_at == timezone.now()
    assert desk_version(personas.clinic.pk) == before + 1
    event = AuditEvent.objects.get(object_type=AuditObject.DESK_ITEM)
    assert event.object_id == f"unconfirmed:{appointment.pk}"
    assert event.patient_ids == [appointment.patient_id]
    assert event.detail == {"claimed_by": "alice"}


def test_a_second_officer_is_told_who_has_the_item(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    claim(personas.front_desk, appointment)
    with pytest.raises(
        DeskRefusedError, match=r"^Alice already has this item \(claimed at 10:00\)"
    ):
        claim(personas.supervisor, appointment)


def test_two_officers_claiming_at_once_one_wins_and_the_other_is_told_who(
    transactional_audit: None, personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    second = staff_create(
        clinic=personas.clinic,
        username="bob",
        password="x" * 16,
        role=Role.FRONT_DESK,
        first_name="Bob",
    )
    officers = [personas.front_desk, second, personas.supervisor, personas.front_desk]
    barrier = threading.Barrier(len(officers))
    outcomes: list[str] = []

    def attempt(user: object) -> None:
        try:
            barrier.wait()
            item = claim(user, appointment)
            outcomes.append(f"won:{item.claimed_by_id}")
        except DeskRefusedError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    item = DeskItem.objects.get(kind="unconfirmed", ref=appointment.pk)
    winner = item.claimed_by
    assert winner is not None
    won = [o for o in outcomes if o.startswith("won:")]
    # The winner's second click (alice twice) is not a refusal; everyone else is told who.
    assert set(won) == {f"won:{winner.pk}"}
    refused = [o for o in outcomes if not o.startswith("won:")]
    assert len(refused) == len(officers) - len(won)
    assert refused and all(
        o.startswith(f"{winner.first_name} already has this item") for o in refused
    )
    assert DeskItem.objects.filter(kind="unconfirmed", ref=appointment.pk).count() == 1


def test_snoozing_needs_a_reason_and_a_time_to_come(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()

    def snooze(until: dt.datetime | None, reason: str) -> DeskItem:
        return services.desk_item_snooze(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            kind="unconfirmed",
            ref=appointment.pk,
            until=until,
            reason=reason,
        )

    later = timezone.now() + dt.timedelta(hours=1)
    with pytest.raises(DeskRefusedError, match="Say why you snooze it"):
        snooze(later, "   ")
    with pytest.raises(DeskRefusedError, match="already passed"):
        snooze(timezone.now() - dt.timedelta(minutes=1), "call after lunch")
    with pytest.raises(DeskRefusedError, match="Choose until when"):
        snooze(None, "call after lunch")
    with pytest.raises(DeskRefusedError, match="30 days at most"):
        snooze(timezone.now() + dt.timedelta(days=31), "call after lunch")
    assert not DeskItem.objects.exists()


def test_a_snoozed_item_is_hidden_until_its_time(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    appointment = make_appointment(start=timezone.now() + dt.timedelta(hours=5))
    services.desk_item_snooze(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        kind="unconfirmed",
        ref=appointment.pk,
        until=timezone.now() + dt.timedelta(hours=1),
        reason="Patient asked us to call after 11",
    )
    assert refs(personas.front_desk) == []
    frozen.shift(dt.timedelta(minutes=61))
    assert refs(personas.front_desk) == [appointment.pk]


def test_hand_over_goes_to_a_person_of_the_clinic_whose_role_may_see_the_kind(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()

    def hand(**to: object) -> DeskItem:
        return services.desk_item_hand_over(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            kind="unconfirmed",
            ref=appointment.pk,
            **to,  # type: ignore[arg-type]
        )

    with pytest.raises(DeskRefusedError, match="choose someone of this clinic"):
        hand(to_user_id=personas.outsider.pk)  # another clinic
    with pytest.raises(DeskRefusedError, match="choose someone of this clinic"):
        hand(to_user_id=personas.nurse.pk)  # a role that does not confirm appointments
    with pytest.raises(DeskRefusedError, match="does not work on this kind"):
        hand(to_pool=Pool.NURSE_TRIAGE)
    with pytest.raises(DeskRefusedError, match="one person or one pool"):
        hand()
    claim(personas.front_desk, appointment)
    item = hand(to_user_id=personas.supervisor.pk)
    assert item.handed_to == personas.supervisor
    assert item.claimed_by is None  # the new owner takes it from here
    assert refs(personas.supervisor, view=DeskFilter.MINE) == [appointment.pk]
    assert refs(personas.front_desk, view=DeskFilter.MINE) == []
    assert refs(personas.front_desk, view=DeskFilter.UNASSIGNED) == []


def test_the_filters_mine_pool_unassigned_overdue_and_kind(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    mine = make_appointment(start=timezone.now() + dt.timedelta(hours=4))
    pooled = make_appointment(start=timezone.now() + dt.timedelta(hours=5))
    free = make_appointment(start=timezone.now() + dt.timedelta(hours=6))
    claim(personas.front_desk, mine)
    services.desk_item_hand_over(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        kind="unconfirmed",
        ref=pooled.pk,
        to_pool=Pool.SUPERVISORS,
    )
    user = personas.front_desk
    assert refs(user) == [mine.pk, pooled.pk, free.pk]
    assert refs(user, view=DeskFilter.MINE) == [mine.pk]
    assert refs(user, view=DeskFilter.UNASSIGNED) == [pooled.pk, free.pk]
    # The front desk's pool: the whole desk's work, not what went to the supervisors.
    assert refs(user, view=DeskFilter.POOL) == [mine.pk, free.pk]
    assert refs(personas.supervisor, view=DeskFilter.POOL) == [pooled.pk]
    assert refs(user, kind="unconfirmed") == [mine.pk, pooled.pk, free.pk]
    assert refs(user, kind="walk_in_incomplete") == []
    assert refs(user, view=DeskFilter.OVERDUE) == []
    page = desk_page(user=user, now=timezone.now(), page_size=2)
    assert (len(page.rows), page.total, page.more) == (2, 3, 1)


def test_clinical_roles_see_only_their_pools_work_and_admins_none(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    make_appointment()
    assert refs(personas.nurse) == []
    assert refs(personas.physician) == []
    assert refs(personas.billing) == []
    assert refs(personas.admin) == []


def test_another_clinics_officer_neither_sees_nor_acts_on_the_item(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    assert refs(personas.outsider) == []
    with pytest.raises(DeskItemGoneError):
        claim(personas.outsider, appointment)
    assert not DeskItem.objects.exists()


def test_acting_on_a_resolved_item_says_it_has_gone(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    appointment.confirmed_at = timezone.now()
    appointment.save()
    with pytest.raises(DeskItemGoneError, match="no longer on the desk queue"):
        claim(personas.front_desk, appointment)
