from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from frontdesk.accounts.models import User
from frontdesk.clinic.models import Clinic


@pytest.mark.django_db
def test_it_creates_a_member_of_staff_with_a_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough pass phrase\n"))
    call_command("add-staff", "maria", "--role", "nurse", "--clinic", "Eastside", "--create-clinic")
    user = User.objects.get(username="maria")
    assert user.role == "nurse" and user.clinic == Clinic.objects.get(name="Eastside")
    assert user.check_password("a long enough pass phrase")


@pytest.mark.django_db
def test_it_refuses_a_weak_password_in_plain_words(monkeypatch: pytest.MonkeyPatch) -> None:
    Clinic.objects.create(name="Eastside")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("add-staff", "maria", "--role", "nurse", "--clinic", "Eastside")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_names_a_missing_clinic() -> None:
    with pytest.raises(CommandError, match="No clinic is called 'Nowhere'"):
        call_command("add-staff", "maria", "--role", "nurse", "--clinic", "Nowhere")
