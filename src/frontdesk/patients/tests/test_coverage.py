from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import escape

from conftest import Personas, watchdog
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.patients.models import Coverage, Patient, Payer
from frontdesk.patients.tests.card_files import png

PNG = png()


@pytest.fixture(autouse=True)
def _media(tmp_path: Path, settings: object) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    yield


@pytest.fixture
def payer(personas: Personas) -> Payer:
    return Payer.objects.create(
        clinic=personas.clinic,
        name="Blue Harbor Health",
        member_id_pattern=r"BHH\d{6}",
        member_id_example="BHH123456",
    )


def _coverage(payer: Payer, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "rank": "1",
        "payer": str(payer.pk),
        "plan_name": "Silver PPO",
        "member_id": "bhh 123456",
        "group_number": "G-77",
        "subscriber_name": "John Smith",
        "relationship": "self",
        "effective_date": "01/01/2026",
        "end_date": "",
    }
    data.update(overrides)
    return data


def test_it_adds_a_coverage_with_card_images_and_audits_it(
    personas: Personas, patient: Patient, payer: Payer, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.front_desk)
    data = _coverage(payer, card_front=SimpleUploadedFile("smith-card.png", PNG, "image/png"))
    response = client.post(f"/patients/{patient.pk}/coverages/new/", data)
    assert response.status_code == 302, response.content.decode()
    coverage = Coverage.objects.get()
    assert coverage.member_id == "BHH123456"
    assert "smith" not in str(coverage.card_front.name)  # stored under a random name
    assert AuditEvent.objects.filter(object_type="coverage", action="create").exists()

    card = client.get(f"/patients/{patient.pk}/coverages/{coverage.pk}/card/front/")
    assert card.status_code == 200
    # Stored re-encoded (lib/uploads.py), so the PNG comes back as a JPEG.
    assert b"".join(card.streaming_content).startswith(b"\xff\xd8\xff")  # type: ignore[attr-defined]
    assert card["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(object_type="coverage_card").exists()


def test_a_member_id_that_does_not_fit_the_payer_is_refused_and_kept(
    personas: Personas, patient: Patient, payer: Payer, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).post(
        f"/patients/{patient.pk}/coverages/new/", _coverage(payer, member_id="XYZ1")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "member IDs look different such as BHH123456" in html
    assert 'value="XYZ1"' in html and 'value="Silver PPO"' in html
    assert not Coverage.objects.exists()


def test_a_card_that_is_not_an_image_or_pdf_is_refused(
    personas: Personas, patient: Patient, payer: Payer, client_for: Callable[[User], Client]
) -> None:
    data = _coverage(payer, card_back=SimpleUploadedFile("card.exe", b"MZ\x90\x00", "image/png"))
    response = client_for(personas.front_desk).post(f"/patients/{patient.pk}/coverages/new/", data)
    assert response.status_code == 400
    assert "JPEG, PNG or PDF" in response.content.decode()


def test_two_coverages_cannot_share_an_order(
    personas: Personas, patient: Patient, payer: Payer, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.billing)
    client.post(f"/patients/{patient.pk}/coverages/new/", _coverage(payer))
    response = client.post(f"/patients/{patient.pk}/coverages/new/", _coverage(payer))
    assert response.status_code == 400
    assert "already has coverage in that order" in response.content.decode()
    assert Coverage.objects.count() == 1


def test_an_end_date_before_the_start_is_refused(
    personas: Personas, patient: Patient, payer: Payer, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).post(
        f"/patients/{patient.pk}/coverages/new/", _coverage(payer, end_date="12/31/2025")
    )
    assert "end date is before the start" in response.content.decode()


def test_admins_keep_the_payer_table_with_a_checked_pattern(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.admin)
    bad = client.post("/patients/payers/new/", {"name": "Acme", "member_id_pattern": "[A-Z"})
    assert bad.status_code == 400
    assert "That pattern cannot be used: a [ has no closing ]" in bad.content.decode()
    mismatch = client.post(
        "/patients/payers/new/",
        {"name": "Acme", "member_id_pattern": r"A\d{3}", "member_id_example": "B123"},
    )
    assert "does not match the pattern" in mismatch.content.decode()
    good = client.post(
        "/patients/payers/new/",
        {"name": "Acme", "member_id_pattern": r"A\d{3}", "member_id_example": "A123"},
    )
    assert good.status_code == 302
    assert Payer.objects.get(clinic=personas.clinic).name == "Acme"
    assert "Acme" in client.get("/patients/payers/").content.decode()


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"(A)\1\d+", r"referring back to a group (such as \1) is not supported"),
        (r"(?!X)[A-Z]\d+", "looking ahead with (?! is not supported"),
    ],
)
def test_it_refuses_a_payer_pattern_that_cannot_be_matched_in_linear_time(
    personas: Personas, client_for: Callable[[User], Client], pattern: str, words: str
) -> None:
    response = client_for(personas.admin).post(
        "/patients/payers/new/", {"name": "Acme", "member_id_pattern": pattern}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "That pattern cannot be used" in html and escape(words) in html
    assert escape(pattern) in html  # what was typed is kept
    assert not Payer.objects.filter(name="Acme").exists()


def test_a_catastrophic_payer_pattern_does_not_stall_the_coverage_form(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    admin = client_for(personas.admin)
    saved = admin.post("/patients/payers/new/", {"name": "Slow", "member_id_pattern": "(A+)+B"})
    assert saved.status_code == 302
    payer = Payer.objects.get(name="Slow")
    client = client_for(personas.front_desk)
    with watchdog(2.0):
        response = client.post(
            f"/patients/{patient.pk}/coverages/new/", _coverage(payer, member_id="A" * 50)
        )
    assert response.status_code == 400
    assert "Slow member IDs look different" in response.content.decode()


def test_a_saved_pattern_re2_cannot_use_neither_blocks_the_desk_nor_hides_from_the_admin(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    # Saved before patterns were checked by RE2 (a backreference): the ID is taken unchecked.
    payer = Payer.objects.create(
        clinic=personas.clinic, name="Old Mutual", member_id_pattern=r"(\d)\1\d{4}"
    )
    response = client_for(personas.front_desk).post(
        f"/patients/{patient.pk}/coverages/new/", _coverage(payer, member_id="123456")
    )
    assert response.status_code == 302, response.content.decode()
    assert Coverage.objects.get().member_id == "123456"
    listing = client_for(personas.admin).get("/patients/payers/").content.decode()
    assert "That pattern cannot be used: referring back to a group" in listing
    assert "Member IDs are not checked until it is changed." in listing


def test_payers_of_another_clinic_are_not_offered(
    personas: Personas, patient: Patient, payer: Payer, client_for: Callable[[User], Client]
) -> None:
    Payer.objects.create(clinic=personas.other_clinic, name="Elsewhere Mutual")
    html = client_for(personas.front_desk).get(f"/patients/{patient.pk}/coverages/new/")
    assert "Elsewhere Mutual" not in html.content.decode()
