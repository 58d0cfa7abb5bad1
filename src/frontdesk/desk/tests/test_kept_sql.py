"""The desk keeps each source's SQL per clinic and fills in each load's time: what it keeps must
hold nothing of the time it was built at, and each load must see the clinic as it is now."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import DateTimeField
from django.test import override_settings
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.desk import selectors
from frontdesk.desk.sources import Moment, desk_keeping, desk_sources
from frontdesk.flow.models import FlowStatus
from frontdesk.records.services import records_settings_save
from frontdesk.records.tests.test_records import _log

pytestmark = pytest.mark.django_db

# A winter evening and a summer morning, on either side of a change of the clocks.
WINTER = dt.datetime(2026, 1, 9, 23, 30, tzinfo=dt.UTC)
SUMMER = dt.datetime(2027, 7, 15, 12, 5, tzinfo=dt.UTC)


def compiled(source: Any, clinic_id: int, now: dt.datetime) -> tuple[str, list[Any]]:
    """The source's rows at `now` as SQL and parameters, moments kept as parameters."""
    with desk_keeping():
        query = source.rows(clinic_id=clinic_id, now=now).query
        sql, params = query.get_compiler(using=connection.alias).as_sql()
    return sql, list(params)


def plain(source: Any, clinic_id: int, now: dt.datetime) -> list[Any]:
    """The parameters of the source's rows at `now`, every value worked out by the source."""
    query = source.rows(clinic_id=clinic_id, now=now).query
    return list(query.get_compiler(using=connection.alias).as_sql()[1])


def test_every_source_keeps_nothing_of_the_time_it_was_built_at(personas: Personas) -> None:
    clinic_id = personas.clinic.pk
    sources = desk_sources()
    assert len(sources) >= 10
    moments = 0
    for kind, source in sources.items():
        winter_sql, winter_params = compiled(source, clinic_id, WINTER)
        summer_sql, summer_params = compiled(source, clinic_id, SUMMER)
        assert winter_sql == summer_sql, kind

        def shape(params: list[Any]) -> list[Any]:
            return ["moment" if isinstance(p, Moment) else p for p in params]

        assert shape(winter_params) == shape(summer_params), kind
        moments += sum(isinstance(p, Moment) for p in winter_params)
        # Filled in with a load's time, the kept parameters are the source's own at that time.
        for now in (WINTER, SUMMER):
            assert selectors._bound(winter_params, now) == plain(source, clinic_id, now), kind
    # The sources that follow the clock do so through moments (not a vacuous check).
    assert moments >= 8


def test_a_moment_is_worked_out_once_per_load_however_often_the_query_names_it(
    personas: Personas,
) -> None:
    calls: list[dt.datetime] = []

    def counted(t: dt.datetime) -> dt.datetime:
        calls.append(t)
        return t

    once = Moment(WINTER, counted, DateTimeField())
    bound = selectors._bound(["a", once, 3, once], SUMMER)
    assert calls == [SUMMER]
    assert bound[0] == "a" and bound[2] == 3 and bound[1] == bound[3]


def test_the_records_warning_days_saved_after_a_load_count_on_the_next(
    personas: Personas,
) -> None:
    patient = make_patient(personas.clinic, given_name="Maria", family_name="Lopez")
    request = _log(personas, patient, now=timezone.now())
    now = request.due_at - dt.timedelta(days=12)

    def shown() -> list[int]:
        page = selectors.desk_page(user=personas.front_desk, now=now, kind="records_request_due")
        return [row.ref for row in page.rows]

    assert shown() == []  # warned a week ahead by default
    records_settings_save(
        context=SYSTEM_CONTEXT,
        clinic=personas.clinic,
        electronic_fee=Decimal("6.50"),
        paper_fee_per_page=Decimal("0.25"),
        warn_days=14,
    )
    assert shown() == [request.pk]


def test_a_changed_setting_is_read_on_the_next_load(personas: Personas) -> None:
    clinic_id = personas.clinic.pk
    source = desk_sources()["waiting_red"]
    before = selectors._source_sql(source, clinic_id)
    assert selectors._source_sql(source, clinic_id) == before  # kept
    with override_settings(FLOW_THRESHOLDS={FlowStatus.WAITING: (5, 45)}):
        during = selectors._source_sql(source, clinic_id)
    assert during != before


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps no prepared statement to look for"
)
def test_the_desk_query_is_prepared_once_on_the_connection_and_reused(
    personas: Personas,
) -> None:
    # Django turns prepared statements off unless the settings ask for them; the desk query's
    # plan is then made again on every load.
    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements ORDER BY name")
            return [row[0] for row in cursor.fetchall()]

    make_patient(personas.clinic)
    selectors.desk_rows(user=personas.front_desk, now=timezone.now())
    first = prepared()
    assert any("UNION ALL" in s and "desk_deskitem" in s for s in first)
    for _ in range(2):
        selectors.desk_rows(user=personas.front_desk, now=timezone.now())
    assert prepared() == first  # the same statement again, not a new one
