"""Clinical roles see only their pools' work and what is handed to them (minimum necessary);
the desk sees all of a kind it may see. Proven with a source of the test's own, since the
existing apps' derived kinds are the desk's alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    CharField,
    F,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.accounts.roles import Role
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.desk import services, sources
from frontdesk.desk.pools import Pool
from frontdesk.desk.selectors import DeskFilter, desk_page
from frontdesk.desk.sources import ROW_FIELDS, DeskEntry
from frontdesk.patients.models import Patient


class TriageSource:
    """Patients whose given name is "Triage" are nurse triage's work; the rest the desk's."""

    kind = "test_triage"
    label = "Test triage"
    roles = frozenset({Role.FRONT_DESK, Role.NURSE, Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            Patient.objects.filter(clinic_id=clinic_id)
            .annotate(
                ref=F("pk"),
                patient_id=F("pk"),
                due=F("created_at"),
                since=F("created_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=BigIntegerField()),
                pool=Case(
                    When(given_name="Triage", then=Value(Pool.NURSE_TRIAGE.value)),
                    default=Value(""),
                    output_field=CharField(),
                ),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        return {ref: DeskEntry(title="Triage", url="") for ref in refs}


@pytest.fixture
def triage() -> Iterator[None]:
    sources.desk_source_register(TriageSource())
    yield
    sources._sources.pop("test_triage")


def refs(user: object, **extra: object) -> set[int]:
    page = desk_page(user=user, now=timezone.now(), **extra)  # type: ignore[arg-type]
    return {row.ref for row in page.rows}


def test_a_nurse_sees_nurse_triage_work_and_what_is_handed_to_them_and_nothing_else(
    triage: None, personas: Personas
) -> None:
    nurses = make_patient(personas.clinic, given_name="Triage", family_name="Ames")
    desk_one = make_patient(personas.clinic, given_name="Desk", family_name="Baker")
    desk_two = make_patient(personas.clinic, given_name="Desk", family_name="Cole")
    make_patient(personas.other_clinic, given_name="Triage", family_name="Dunn")

    assert refs(personas.front_desk) == {nurses.pk, desk_one.pk, desk_two.pk}
    assert refs(personas.nurse) == {nurses.pk}
    assert refs(personas.nurse, view=DeskFilter.POOL) == {nurses.pk}
    assert refs(personas.physician) == set()  # the kind is not a physician's

    services.desk_item_hand_over(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        kind="test_triage",
        ref=desk_one.pk,
        to_pool=Pool.NURSE_TRIAGE,
    )
    services.desk_item_hand_over(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        kind="test_triage",
        ref=desk_two.pk,
        to_user_id=personas.nurse.pk,
    )
    assert refs(personas.nurse) == {nurses.pk, desk_one.pk, desk_two.pk}
    assert refs(personas.nurse, view=DeskFilter.MINE) == {desk_two.pk}
    assert refs(personas.front_desk, view=DeskFilter.POOL) == set()
    with pytest.raises(services.DeskRefusedError, match="does not work on this kind"):
        services.desk_item_hand_over(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            kind="test_triage",
            ref=nurses.pk,
            to_pool=Pool.BILLING,
        )
