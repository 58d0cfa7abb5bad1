"""A replaced card file leaves the disk once its replacement is committed, never before; files no
coverage refers to are found, and removed on request, by `frontdesk card-images-orphans`."""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.patients import services
from frontdesk.patients.models import Coverage, Patient, Payer
from frontdesk.patients.tests.card_files import jpeg, pdf

Captured = Callable[..., AbstractContextManager[list[Callable[[], object]]]]


@pytest.fixture(autouse=True)
def _media(tmp_path: Path, settings: object) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]


@pytest.fixture
def coverage(personas: Personas, patient: Patient) -> Coverage:
    payer = Payer.objects.create(clinic=personas.clinic, name="Blue Harbor Health")
    return Coverage.objects.create(
        patient=patient,
        payer=payer,
        rank=1,
        member_id="M1",
        card_front=default_storage.save("cards/old-front.jpg", ContentFile(jpeg())),
        card_back=default_storage.save("cards/old-back.pdf", ContentFile(pdf())),
    )


def _change(client: Client, coverage: Coverage, **cards: object) -> int:
    data: dict[str, object] = {
        "rank": "1",
        "payer": str(coverage.payer_id),
        "member_id": "M1",
        "relationship": "self",
        **cards,
    }
    url = f"/patients/{coverage.patient_id}/coverages/{coverage.pk}/"
    return client.post(url, data).status_code


def _aged(*names: str, hours: float = 2) -> None:
    then = (timezone.now() - dt.timedelta(hours=hours)).timestamp()
    for name in names:
        os.utime(default_storage.path(name), (then, then))


def test_it_removes_the_replaced_card_file_only_once_the_change_is_committed(
    personas: Personas,
    coverage: Coverage,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Captured,
) -> None:
    client = client_for(personas.front_desk)
    with django_capture_on_commit_callbacks() as callbacks:
        card = SimpleUploadedFile("new.jpg", jpeg())
        assert _change(client, coverage, card_front=card) == 302
        assert default_storage.exists("cards/old-front.jpg")  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    coverage.refresh_from_db()
    assert not default_storage.exists("cards/old-front.jpg")
    assert default_storage.exists(str(coverage.card_front.name))
    assert coverage.card_back.name == "cards/old-back.pdf"  # not uploaded again: kept
    assert default_storage.exists("cards/old-back.pdf")


def test_it_keeps_every_file_when_a_change_without_new_cards_is_saved(
    personas: Personas,
    coverage: Coverage,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Captured,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert _change(client_for(personas.front_desk), coverage, plan_name="Gold") == 302
    coverage.refresh_from_db()
    assert coverage.plan_name == "Gold"
    assert coverage.card_front.name == "cards/old-front.jpg"
    assert default_storage.exists("cards/old-front.jpg")
    assert default_storage.exists("cards/old-back.pdf")


def test_it_keeps_the_old_card_file_when_the_change_rolls_back(
    coverage: Coverage, django_capture_on_commit_callbacks: Captured
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        coverage.card_front = ContentFile(jpeg(), name="card.jpg")
        services.coverage_save(
            context=SYSTEM_CONTEXT, patient=coverage.patient, coverage=coverage, is_new=False
        )
        raise RuntimeError("the commit failed")
    assert default_storage.exists("cards/old-front.jpg")
    coverage.refresh_from_db()
    assert coverage.card_front.name == "cards/old-front.jpg"


def test_it_lists_orphaned_card_files_and_removes_them_only_when_asked(
    coverage: Coverage,
) -> None:
    orphan = default_storage.save("cards/orphan.jpg", ContentFile(b"x" * 10))
    recent = default_storage.save("cards/recent.jpg", ContentFile(b"y"))
    _aged(orphan, "cards/old-front.jpg", "cards/old-back.pdf")
    _aged(recent, hours=0.5)  # a save may still be writing its row

    out = io.StringIO()
    call_command("card-images-orphans", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("cards/orphan.jpg\t10 bytes\t")
    assert lines[1:] == ["1 orphaned card files (10 bytes); run with --delete to remove them."]
    assert default_storage.exists(orphan)

    out = io.StringIO()
    call_command("card-images-orphans", "--delete", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Removed 1 orphaned card files (10 bytes)."
    assert not default_storage.exists(orphan)
    assert default_storage.exists(recent)
    assert default_storage.exists("cards/old-front.jpg")
    assert default_storage.exists("cards/old-back.pdf")
    event = AuditEvent.objects.get(object_type="card_files_orphaned")
    assert event.detail == {"removed": [orphan]}


def test_it_says_so_when_there_are_no_orphaned_card_files(db: None) -> None:
    out = io.StringIO()
    call_command("card-images-orphans", "--delete", stdout=out)
    assert out.getvalue() == "No orphaned card files.\n"
    assert not AuditEvent.objects.filter(object_type="card_files_orphaned").exists()
