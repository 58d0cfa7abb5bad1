"""The `demo` command on an empty database (test_demo.py shares one built demo between its
tests, so these, which build their own or must be refused, are here)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.accounts.services import staff_create
from frontdesk.clinic.models import Clinic
from frontdesk.patients.models import Patient


@pytest.mark.django_db
def test_the_command_prints_the_sign_ins_and_then_says_it_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "credentials.txt"
    arguments = ["--seed", "3", "--patients", "40", "--credentials", str(path)]
    out = io.StringIO()
    call_command("demo", *arguments, "--as-of", "2025-06-15", stdout=out, stderr=io.StringIO())
    first = out.getvalue()
    assert "Built the demo clinic" in first and "40 patients" in first
    lines = path.read_text().splitlines()
    assert len(lines) == 6 and all(line in first for line in lines)

    out = io.StringIO()
    call_command("demo", *arguments, stdout=out, stderr=io.StringIO())
    assert "already loaded" in out.getvalue()
    assert all(line in out.getvalue() for line in lines)
    assert Patient.objects.count() == 40


@pytest.mark.django_db
def test_it_refuses_a_clinic_of_that_name_it_did_not_build(tmp_path: Path, settings: Any) -> None:
    Clinic.objects.create(name=settings.CLINIC_NAME)
    path = tmp_path / "credentials.txt"
    with pytest.raises(CommandError, match="not built by the demo"):
        call_command("demo", "--patients", "10", "--credentials", str(path), verbosity=0)
    assert not Patient.objects.exists()
    assert not User.objects.exists()
    assert not path.exists()


@pytest.mark.django_db
def test_it_refuses_when_a_demo_username_is_taken(tmp_path: Path) -> None:
    elsewhere = Clinic.objects.create(name="Hilltop Medical Group")
    staff_create(clinic=elsewhere, username="admin", password="x" * 16, role=Role.ADMIN)
    path = tmp_path / "credentials.txt"
    with pytest.raises(CommandError, match="usernames are taken already: admin"):
        call_command("demo", "--patients", "10", "--credentials", str(path), verbosity=0)
    assert list(Clinic.objects.values_list("name", flat=True)) == ["Hilltop Medical Group"]
    assert not path.exists()
