from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import time_machine
from django.test import Client

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.patients.models import BreakGlassGrant, SupervisorNotice


def test_a_restricted_record_asks_for_a_reason_before_it_opens(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    secret = make_patient(personas.clinic, family_name="Vance", confidentiality="restricted")
    client = client_for(personas.nurse)
    response = client.get(f"/patients/{secret.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/patients/{secret.pk}/break-glass/")
    page = client.get(response["Location"])
    assert "Vance" not in page.content.decode() and secret.mrn in page.content.decode()
    assert not AuditEvent.objects.filter(object_type="patient", action="view").exists()


def test_breaking_the_glass_opens_the_record_audits_it_and_tells_supervisors(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    secret = make_patient(personas.clinic, family_name="Vance", confidentiality="restricted")
    client = client_for(personas.nurse)
    short = client.post(f"/patients/{secret.pk}/break-glass/", {"reason": "need it"})
    assert short.status_code == 400 and "at least 10 characters" in short.content.decode()
    opened = client.post(
        f"/patients/{secret.pk}/break-glass/",
        {"reason": "Patient collapsed in the waiting room", "next": f"/patients/{secret.pk}/"},
    )
    assert opened["Location"] == f"/patients/{secret.pk}/"
    assert "Vance" in client.get(f"/patients/{secret.pk}/").content.decode()
    event = AuditEvent.objects.get(action=AuditAction.BREAK_GLASS)
    assert event.high_priority
    assert event.purpose == "break the glass: Patient collapsed in the waiting room"
    notice = SupervisorNotice.objects.get()
    assert secret.mrn in notice.text
    home = client_for(personas.supervisor).get("/").content.decode()
    assert "collapsed in the waiting room" in home


def test_the_grant_expires_after_the_configured_time(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    secret = make_patient(personas.clinic, confidentiality="restricted")
    start = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client = client_for(personas.front_desk)
        client.post(f"/patients/{secret.pk}/break-glass/", {"reason": "checking in for a visit"})
        assert client.get(f"/patients/{secret.pk}/").status_code == 200
        traveller.shift(dt.timedelta(minutes=14))
        client.get("/")  # stays active
        traveller.shift(dt.timedelta(minutes=14))
        client.get("/")
        traveller.shift(dt.timedelta(minutes=14))
        client.get("/")
        traveller.shift(dt.timedelta(minutes=14))
        client.get("/")
        traveller.shift(dt.timedelta(minutes=5))
        assert client.get(f"/patients/{secret.pk}/").status_code == 302
    assert BreakGlassGrant.objects.count() == 1


def test_a_grant_is_for_one_person_only(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    secret = make_patient(personas.clinic, confidentiality="restricted")
    client_for(personas.nurse).post(
        f"/patients/{secret.pk}/break-glass/", {"reason": "triage in the waiting room"}
    )
    assert client_for(personas.physician).get(f"/patients/{secret.pk}/").status_code == 302


def test_restricted_patients_show_nothing_but_name_and_mrn_in_search(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    make_patient(
        personas.clinic, family_name="Vance", phone="+12025550188", confidentiality="restricted"
    )
    html = client_for(personas.front_desk).get("/patients/", {"q": "vance"}).content.decode()
    assert "Restricted" in html and "0188" not in html and "1980" not in html


def test_search_masks_birth_dates_and_phones_until_revealed_and_audits_each_reveal(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    patient = make_patient(personas.clinic, family_name="Ortiz", phone="+12025550143")
    client = client_for(personas.front_desk)
    html = client.get("/patients/", {"q": "ortiz"}).content.decode()
    assert "Jan 2, 1980" not in html and "••/••/1980" in html
    assert "(202)" not in html and "0143" in html
    shown = client.post(f"/patients/{patient.pk}/reveal/birth_date/").content.decode()
    assert "Jan 2, 1980" in shown
    assert "+12025550143" in client.post(f"/patients/{patient.pk}/reveal/phone/").content.decode()
    reveals = AuditEvent.objects.filter(action=AuditAction.REVEAL).order_by("seq")
    assert [e.detail["field"] for e in reveals] == ["birth_date", "phone"]
    assert client.post(f"/patients/{patient.pk}/reveal/email/").status_code == 404


def test_a_supervisor_acknowledges_a_notice(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    secret = make_patient(personas.clinic, confidentiality="restricted")
    client_for(personas.nurse).post(
        f"/patients/{secret.pk}/break-glass/", {"reason": "triage in the waiting room"}
    )
    notice = SupervisorNotice.objects.get()
    supervisor = client_for(personas.supervisor)
    supervisor.post(f"/patients/notices/{notice.pk}/acknowledge/")
    notice.refresh_from_db()
    assert notice.acknowledged_by == personas.supervisor
    assert "triage" not in supervisor.get("/").content.decode()
