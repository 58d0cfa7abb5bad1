"""The duplicates report as a page: supervisors review their clinic's likely duplicates."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from unittest import mock

from django.test import Client

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.patients import duplicates_report
from frontdesk.patients.tests.test_duplicates_report import bob_again, robert, strangers

URL = "/patients/duplicates/"


def _last_event() -> AuditEvent | None:
    return AuditEvent.objects.order_by("-pk").first()


def test_a_supervisor_sees_the_likely_pairs_with_a_merge_link(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    original = robert(personas.clinic)
    again = bob_again(personas.clinic)
    strangers(personas.clinic)
    response = client_for(personas.supervisor).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert original.mrn in html and again.mrn in html
    assert "Fitzgerald, Robert" in html and "Fitzgerlad, Bob" in html
    assert "1 pair found among the clinic's 6 active patients" in html
    assert "nickname Bob = Robert" in html  # the reasons, as the report gives them
    assert f'href="/patients/merge/{original.pk}/{again.pk}/"' in html
    assert "Nwosu" not in html
    assert "1984" not in html  # birth dates stay off the list, as on every list


def test_the_merge_link_opens_the_comparison_of_both_records(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    original = robert(personas.clinic)
    again = bob_again(personas.clinic)
    client = client_for(personas.supervisor)
    html = client.get(URL).content.decode()
    link = re.search(r'href="(/patients/merge/\d+/\d+/)"', html)
    assert link is not None
    compare = client.get(link.group(1))
    assert compare.status_code == 200
    assert original.mrn in compare.content.decode() and again.mrn in compare.content.decode()


def test_the_desk_and_administrators_may_not_open_the_page(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    robert(personas.clinic)
    bob_again(personas.clinic)
    for user in (personas.front_desk, personas.admin, personas.billing, personas.nurse):
        assert client_for(user).get(URL).status_code == 403, user.role


def test_another_clinics_patients_are_never_shown(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    theirs = robert(personas.other_clinic)
    theirs_again = bob_again(personas.other_clinic)
    html = client_for(personas.supervisor).get(URL).content.decode()
    assert theirs.mrn not in html and theirs_again.mrn not in html
    assert "Fitzgerald" not in html and "No likely duplicates" in html
    event = _last_event()
    assert event is not None and list(event.patient_ids) == []


def test_the_page_is_audited_as_the_export_is_naming_the_patients_shown(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    original = robert(personas.clinic)
    again = bob_again(personas.clinic)
    strangers(personas.clinic)
    before = AuditEvent.objects.filter(action=AuditAction.EXPORT).count()
    client_for(personas.supervisor).get(URL)
    events = list(AuditEvent.objects.filter(action=AuditAction.EXPORT).order_by("pk")[before:])
    assert len(events) == 1
    (event,) = events
    assert event.object_type == duplicates_report.AUDIT_OBJECT_TYPE
    assert sorted(event.patient_ids) == sorted([original.pk, again.pk])
    assert event.actor_username == personas.supervisor.username
    assert event.clinic_id_value == personas.clinic.pk
    assert event.detail["pairs"] == 1 and event.detail["shown"] == 1


def test_pairs_come_a_page_at_a_time_and_each_page_names_only_its_own(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    pairs = [(robert(personas.clinic), bob_again(personas.clinic))]
    katherine = {
        "family_name": "Lindqvist",
        "birth_date": dt.date(1991, 4, 12),
        "sex": "female",
        "phone": "+16085550143",
        "email": "",
        "address_line1": "8 Harbour Street",
    }
    pairs.append(
        (
            robert(personas.clinic, given_name="Katherine", **katherine),
            robert(personas.clinic, given_name="Kate", **katherine),
        )
    )
    client = client_for(personas.supervisor)
    named: list[frozenset[int]] = []
    with mock.patch.object(duplicates_report, "PAGE_PAIRS", 1):
        for page in ("1", "2"):
            html = client.get(URL, {"page": page}).content.decode()
            assert f"Page {page} of 2" in html
            event = _last_event()
            assert event is not None
            named.append(frozenset(event.patient_ids))
    assert sorted(named, key=min) == sorted(
        (frozenset(p.pk for p in pair) for pair in pairs), key=min
    )
    assert client.get(URL, {"page": "abc"}).status_code == 200
    assert client.get(URL, {"page": "99"}).status_code == 200


def test_a_clinic_too_big_to_scan_while_waiting_is_told_so_not_shown_a_partial_list(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    robert(personas.clinic)
    bob_again(personas.clinic)
    before = AuditEvent.objects.count()
    with mock.patch.object(duplicates_report, "PAGE_MAX_PATIENTS", 1):
        html = client_for(personas.supervisor).get(URL).content.decode()
    assert "2 active patients: too many to compare while you wait" in html
    assert "Fitzgerald" not in html
    assert AuditEvent.objects.count() == before  # nothing shown, no export recorded


def test_supervisors_find_the_page_in_the_navigation(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    assert f'href="{URL}"' in client_for(personas.supervisor).get("/").content.decode()
    assert f'href="{URL}"' not in client_for(personas.front_desk).get("/").content.decode()
