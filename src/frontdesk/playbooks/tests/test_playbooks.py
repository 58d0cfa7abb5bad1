"""Playbooks: defaults for the seven desk scenarios, edits and resets by editors only (audited),
text shown as written (never as HTML), shown in context, and one clinic's text is its own."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PASSWORD, Personas, login_client
from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.accounts.services import staff_create
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.patients.models import Patient
from frontdesk.playbooks import services
from frontdesk.playbooks.defaults import DEFAULT_PLAYBOOKS
from frontdesk.playbooks.models import Playbook, PlaybookKey
from frontdesk.playbooks.selectors import playbooks_of_clinic
from frontdesk.playbooks.text import step_count, steps_parse
from frontdesk.scheduling.models import Appointment, Schedule

EDIT = "/playbooks/late_patient/edit/"
RESET = "/playbooks/late_patient/reset/"


def _appointment(personas: Personas, patient: Patient) -> Appointment:
    location = Location.objects.create(clinic=personas.clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Mei", family_name="Lee", specialty="Family"
    )
    schedule = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)
    kind = AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=20
    )
    start = timezone.now() + dt.timedelta(days=1)
    end = start + dt.timedelta(minutes=20)
    return Appointment.objects.create(
        clinic=personas.clinic,
        patient=patient,
        schedule=schedule,
        provider=provider,
        appointment_type=kind,
        start=start,
        end=end,
        busy_start=start,
        busy_end=end,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _edit(client: Client, *, title: str, steps: str, version: int) -> object:
    return client.post(EDIT, {"title": title, "steps": steps, "version": str(version)})


def _playbook_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type="playbook").order_by("seq"))


def test_every_scenario_has_a_default_playbook_with_numbered_steps(personas: Personas) -> None:
    assert set(DEFAULT_PLAYBOOKS) == set(PlaybookKey.values) and len(PlaybookKey.values) == 7
    shown = playbooks_of_clinic(personas.clinic.pk)
    for key in PlaybookKey.values:
        title, steps = DEFAULT_PLAYBOOKS[key]
        assert shown[key].title == title and shown[key].is_default
        assert step_count(steps) >= 5, key
    # The desk never gives medical advice; the default says whom to pass a question to.
    assert "nurse" in DEFAULT_PLAYBOOKS[PlaybookKey.MEDICAL_QUESTION][1]
    assert "supervisor" in DEFAULT_PLAYBOOKS[PlaybookKey.UPSET_PATIENT][1]
    assert "Never tell the patient a waiting time." in DEFAULT_PLAYBOOKS[PlaybookKey.EMERGENCY][1]


def test_a_clinic_without_playbooks_gets_every_default_once_and_audited(
    personas: Personas,
) -> None:
    assert not Playbook.objects.filter(clinic=personas.clinic).exists()
    created = services.playbooks_ensure(context=SYSTEM_CONTEXT, clinic=personas.clinic)
    assert sorted(created) == sorted(PlaybookKey.values)
    rows = Playbook.objects.filter(clinic=personas.clinic)
    assert sorted(rows.values_list("key", flat=True)) == sorted(PlaybookKey.values)
    assert all(step_count(row.steps) >= 5 for row in rows)
    assert services.playbooks_ensure(context=SYSTEM_CONTEXT, clinic=personas.clinic) == []
    (event,) = _playbook_events()
    assert event.action == AuditAction.CREATE and event.patient_ids == []
    assert sorted(event.detail["defaults_created"]) == sorted(PlaybookKey.values)


def test_the_data_migration_gives_every_existing_clinic_the_defaults_of_defaults_py(
    personas: Personas,
) -> None:
    migration = importlib.import_module(
        "frontdesk.playbooks.migrations.0002_default_playbooks_for_every_clinic"
    )
    # The migration holds a copy; it must say what defaults.py says. The emergency scenario
    # came later: clinics are shown its default until an editor stores it.
    assert {
        str(key): (title, steps.strip())
        for key, (title, steps) in DEFAULT_PLAYBOOKS.items()
        if key != PlaybookKey.EMERGENCY
    } == migration.DEFAULTS
    migration.add_default_playbooks(django_apps, None)
    migration.add_default_playbooks(django_apps, None)  # running twice adds nothing
    for clinic in (personas.clinic, personas.other_clinic):
        assert Playbook.objects.filter(clinic=clinic).count() == 6
    assert playbooks_of_clinic(personas.clinic.pk)[PlaybookKey.EMERGENCY].is_default


def test_an_administrator_edits_a_playbook_and_the_change_is_audited(
    personas: Personas,
) -> None:
    admin = login_client(Client(), personas.admin)
    page = admin.get(EDIT)
    assert page.status_code == 200 and "Greet the patient" in page.content.decode()
    response = _edit(
        admin,
        title="Patient arrives late",
        steps='1. Check them in.\n2. Ask the nurse.\n   - Say: "One moment please."',
        version=1,
    )
    assert response.status_code == 302  # type: ignore[attr-defined]
    row = Playbook.objects.get(clinic=personas.clinic, key="late_patient")
    assert row.title == "Patient arrives late" and row.version == 2
    assert row.updated_by == personas.admin
    created, updated = _playbook_events()
    assert created.action == AuditAction.CREATE
    assert updated.action == AuditAction.UPDATE and updated.actor_username == "adam"
    assert updated.patient_ids == [] and updated.detail["changed"] == ["title", "steps"]
    assert updated.detail["before"]["title"] == "Late patient"
    listing = login_client(Client(), personas.front_desk).get("/playbooks/").content.decode()
    assert "Patient arrives late" in listing and "One moment please." in listing


def test_a_supervisor_resets_a_playbook_to_the_default_and_the_old_text_stays_in_the_audit(
    personas: Personas,
) -> None:
    supervisor = login_client(Client(), personas.supervisor)
    supervisor.get(EDIT)
    _edit(supervisor, title="Our late rule", steps="1. Ring the bell.", version=1)
    response = supervisor.post(RESET)
    assert response.status_code == 302
    row = Playbook.objects.get(clinic=personas.clinic, key="late_patient")
    assert row.title == "Late patient" and row.steps == DEFAULT_PLAYBOOKS["late_patient"][1].strip()
    reset = _playbook_events()[-1]
    assert reset.action == AuditAction.UPDATE and reset.detail["reset_to_default"] is True
    assert reset.detail["before"] == {"title": "Our late rule", "steps": "1. Ring the bell."}
    assert playbooks_of_clinic(personas.clinic.pk)["late_patient"].is_default
    # A second reset changes nothing and records nothing.
    supervisor.post(RESET)
    assert _playbook_events()[-1].pk == reset.pk


@pytest.mark.parametrize("role", ["front_desk", "nurse", "physician", "billing"])
def test_staff_who_do_not_run_the_desk_cannot_edit_or_reset_a_playbook(
    personas: Personas, role: str
) -> None:
    user: User = getattr(personas, role)
    client = login_client(Client(), user)
    assert client.get("/playbooks/").status_code == 200
    assert client.get(EDIT).status_code == 403
    assert _edit(client, title="Mine", steps="1. Mine.", version=1).status_code == 403  # type: ignore[attr-defined]
    assert client.post(RESET).status_code == 403
    assert not Playbook.objects.exists() and _playbook_events() == []
    assert "Change this playbook" not in client.get("/").content.decode()


def test_html_typed_into_a_playbook_is_shown_as_text_everywhere(
    personas: Personas, patient: Patient
) -> None:
    admin = login_client(Client(), personas.admin)
    admin.get(EDIT)
    _edit(
        admin,
        title="<img src=x onerror=alert(1)>",
        steps=(
            "1. <script>alert('desk')</script> then <b>bold</b>\n- <a href=\"javascript:x\">x</a>"
        ),
        version=1,
    )
    appointment = _appointment(personas, patient)
    desk = login_client(Client(), personas.front_desk)
    for url in ("/playbooks/", f"/schedule/appointments/{appointment.pk}/"):
        html = desk.get(url).content.decode()
        assert "<script>alert(" not in html and "<b>bold</b>" not in html, url
        assert "<img src=x" not in html and '<a href="javascript' not in html, url
        assert "&lt;script&gt;alert(&#x27;desk&#x27;)&lt;/script&gt;" in html, url
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, url


def test_the_chart_shows_the_confidentiality_playbook_and_the_appointment_the_late_and_upset_ones(
    personas: Personas, patient: Patient
) -> None:
    appointment = _appointment(personas, patient)
    desk = login_client(Client(), personas.front_desk)
    chart = desk.get(f"/patients/{patient.pk}/").content.decode()
    assert '<details class="playbook panel" data-playbook="confidentiality">' in chart
    assert "Confidentiality at the desk" in chart and "Speak quietly" in chart
    page = desk.get(f"/schedule/appointments/{appointment.pk}/").content.decode()
    assert 'data-playbook="late_patient"' in page and 'data-playbook="upset_patient"' in page
    assert "The clinical team decides, not the desk." in page
    assert "Change this playbook" not in page  # the desk reads, it does not edit
    home = desk.get("/").content.decode()
    assert 'data-playbook="system_outage"' in home and "/playbooks/downtime/" in home


def test_a_page_with_several_playbooks_reads_them_in_one_query(personas: Personas) -> None:
    request = RequestFactory().get("/")
    request.user = personas.front_desk
    template = Template(
        '{% load playbooks %}{% playbook "late_patient" %}{% playbook "upset_patient" %}'
        '{% playbook "busy_waiting_room" %}'
    )
    with CaptureQueriesContext(connection) as queries:
        html = template.render(Context({"request": request}))
    assert len(queries) == 1
    assert html.count("<details") == 3


def test_a_folded_panel_costs_its_page_no_query_and_loads_the_text_when_opened(
    personas: Personas,
) -> None:
    request = RequestFactory().get("/")
    request.user = personas.nurse
    template = Template('{% load playbooks %}{% playbook "busy_waiting_room" lazy=True %}')
    with CaptureQueriesContext(connection) as queries:
        html = template.render(Context({"request": request}))
    assert len(queries) == 0
    assert 'hx-get="/playbooks/busy_waiting_room/panel/"' in html and "Busy waiting room" in html
    nurse = login_client(Client(), personas.nurse)
    body = nurse.get("/playbooks/busy_waiting_room/panel/").content.decode()
    assert "Make sure everyone waiting is checked in." in body
    today = login_client(Client(), personas.front_desk).get("/flow/").content.decode()
    assert 'data-playbook="busy_waiting_room"' in today and 'data-playbook="late_patient"' in today


def test_each_clinic_keeps_its_own_playbooks(personas: Personas) -> None:
    admin = login_client(Client(), personas.admin)
    admin.get(EDIT)
    _edit(admin, title="Riverside late rule", steps="1. Ring Riverside's bell.", version=1)
    outsider = login_client(Client(), personas.outsider)
    theirs = outsider.get("/playbooks/").content.decode()
    assert "Riverside late rule" not in theirs and "Ring Riverside" not in theirs
    assert "Greet the patient and check them in as usual." in theirs
    assert not Playbook.objects.filter(clinic=personas.other_clinic).exists()
    other_admin = login_client(
        Client(),
        staff_create(
            clinic=personas.other_clinic, username="hank", password=PASSWORD, role=Role.ADMIN
        ),
    )
    other_admin.get(EDIT)
    _edit(other_admin, title="Hilltop late rule", steps="1. Hilltop way.", version=1)
    ours = Playbook.objects.get(clinic=personas.clinic, key="late_patient")
    assert ours.title == "Riverside late rule"
    assert Playbook.objects.get(clinic=personas.other_clinic, key="late_patient").title == (
        "Hilltop late rule"
    )


def test_an_edit_made_from_an_older_copy_is_refused_and_the_typed_text_kept(
    personas: Personas,
) -> None:
    first = login_client(Client(), personas.admin)
    second = login_client(Client(), personas.supervisor)
    first.get(EDIT)
    second.get(EDIT)
    _edit(first, title="Late patient", steps="1. The first editor's step.", version=1)
    response = _edit(second, title="Late patient", steps="1. The second editor's step.", version=1)
    html = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "Someone else changed this playbook" in html
    assert "The second editor&#x27;s step." in html  # still in the form
    assert "The first editor&#x27;s step." in html  # shown beside it
    assert 'name="version" value="2"' in html  # saving again replaces deliberately
    row = Playbook.objects.get(clinic=personas.clinic, key="late_patient")
    assert row.steps == "1. The first editor's step." and row.version == 2


def test_a_playbook_needs_a_title_and_a_numbered_step_and_nothing_typed_is_lost(
    personas: Personas,
) -> None:
    admin = login_client(Client(), personas.admin)
    admin.get(EDIT)
    response = _edit(admin, title="   ", steps="Just some words", version=1)
    html = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "Give the playbook a title." in html
    response = _edit(admin, title="Late", steps="Just some words", version=1)
    html = response.content.decode()  # type: ignore[attr-defined]
    assert "Write at least one numbered step" in html and "Just some words" in html
    assert not Playbook.objects.filter(clinic=personas.clinic, key="late_patient").exists()


def test_opening_the_editor_changes_nothing_and_the_first_save_stores_the_playbook(
    personas: Personas,
) -> None:
    admin = login_client(Client(), personas.admin)
    before = AuditEvent.objects.count()
    assert admin.get(EDIT).status_code == 200
    assert not Playbook.objects.filter(clinic=personas.clinic).exists()
    assert AuditEvent.objects.count() == before
    _edit(admin, title="Late patient", steps="1. Greet them.", version=1)
    stored = Playbook.objects.get(clinic=personas.clinic, key="late_patient")
    assert stored.steps == "1. Greet them." and stored.version == 2


def test_an_unknown_playbook_is_not_found(personas: Personas) -> None:
    admin = login_client(Client(), personas.admin)
    assert admin.get("/playbooks/no_such_thing/edit/").status_code == 404
    assert admin.post("/playbooks/no_such_thing/reset/").status_code == 404


def test_the_downtime_pack_prints_the_procedure_and_blank_paper_forms(personas: Personas) -> None:
    for user in personas.by_role().values():
        response = login_client(Client(), user).get("/playbooks/downtime/")
        assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/static/playbooks/print.css" media="print"' in html
    assert "Paper check-in sheet" in html and "Paper registration" in html
    assert html.count("<tr><td>") == 18
    assert "Tell the supervisor at once" in html


def test_the_text_format_reads_steps_points_and_paragraphs() -> None:
    blocks = steps_parse(
        "Before you start.\n\n3. Greet.\n   - Say: hello\n   and smile\n"
        "4) Check in.\n\n- loose point"
    )
    assert [b.kind for b in blocks] == ["text", "steps", "points"]
    steps = blocks[1]
    assert steps.start == 3 and [s.text for s in steps.steps] == ["Greet. and smile", "Check in."]
    assert steps.steps[0].points == ["Say: hello"]
    assert blocks[2].points == ["loose point"]


TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=400)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=TEXT, steps=TEXT, version=st.one_of(TEXT, st.integers().map(str)))
def test_any_input_to_the_playbook_editor_is_answered_without_a_server_error(
    personas: Personas, title: str, steps: str, version: str
) -> None:
    admin = login_client(Client(), personas.admin)
    response = admin.post(EDIT, {"title": title, "steps": steps, "version": version})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert "<form" in response.content.decode()
    listing = admin.get("/playbooks/")
    assert listing.status_code == 200


def test_any_text_renders_and_parses_without_error() -> None:
    @given(source=TEXT)
    @settings(max_examples=200, deadline=None)
    def check(source: str) -> None:
        blocks = steps_parse(source)
        for block in blocks:
            assert block.kind in {"steps", "points", "text"}
            assert all(step.text for step in block.steps)

    check()
