"""Sign-in throttling: nobody can lock anyone out, and guessing is still stopped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.http import HttpResponse
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, Personas, login_client
from frontdesk.accounts.models import SignInAlert, SignInThrottle
from frontdesk.accounts.throttle import KNOWN_DEVICE_COOKIE
from frontdesk.audit.models import AuditEvent

LOGIN = "/accounts/login/"
TWO_STEP = "/accounts/two-factor/"
LOCKS = "/accounts/staff/locks/"
UNLOCK = "/accounts/staff/locks/unlock/"
ATTACKER = "10.0.0.66"
DESK = "10.0.0.5"
WRONG = "not the password at all"
START = dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)
EVERY_USERNAME = ["alice", "nora", "phil", "bill", "sue", "adam", "olga"]


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _sign_in(
    client: Client, username: str, password: str = PASSWORD, address: str = DESK
) -> HttpResponse:
    data = {"username": username, "password": password}
    return client.post(LOGIN, data, REMOTE_ADDR=address)  # type: ignore[return-value]


def _code(client: Client, token: str, address: str = DESK) -> HttpResponse:
    return client.post(TWO_STEP, {"token": token}, REMOTE_ADDR=address)  # type: ignore[return-value]


def _attacker_cycles_every_username(times: int = 6) -> None:
    attacker = Client()
    for username in EVERY_USERNAME:
        for _ in range(times):
            _sign_in(attacker, username, WRONG, address=ATTACKER)


def _known_desk_computer(username: str, address: str = DESK) -> Client:
    """A browser where `username` signed in fully before (it holds the known-device cookie)."""
    desk = Client()
    assert _sign_in(desk, username, address=address).status_code == 302
    assert KNOWN_DEVICE_COOKIE in desk.cookies
    desk.post("/accounts/logout/")
    return desk


def _fill_the_address_limit(address: str = ATTACKER) -> None:
    attacker = Client()
    for number in range(50):
        _sign_in(attacker, f"guess{number}", WRONG, address=address)


# --- Passwords: the abuse case ------------------------------------------------------------------


def test_an_attacker_cycling_every_username_does_not_lock_the_desk_out(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    _attacker_cycles_every_username()
    assert _sign_in(Client(), "alice").status_code == 302
    assert _sign_in(Client(), "nora").status_code == 302


def test_a_known_desk_computer_signs_in_even_from_the_attackers_address(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    # The clinic's desks and the attacker share one public address (NAT).
    desk = _known_desk_computer("alice", address=ATTACKER)
    _attacker_cycles_every_username()
    _fill_the_address_limit()
    assert _sign_in(Client(), "alice", address=ATTACKER).status_code == 429
    assert _sign_in(desk, "alice", address=ATTACKER).status_code == 302


def test_an_unknown_username_gets_the_same_answers_as_a_real_one(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    real, unknown = Client(), Client()
    for _ in range(4):
        wrong_real = _sign_in(real, "alice", WRONG, address=ATTACKER)
        wrong_unknown = _sign_in(unknown, "alise", WRONG, address=ATTACKER)
        assert wrong_real.status_code == wrong_unknown.status_code == 400
        assert b"do not match" in wrong_real.content and b"do not match" in wrong_unknown.content
    refused_real = _sign_in(real, "alice", WRONG, address=ATTACKER)
    refused_unknown = _sign_in(unknown, "alise", WRONG, address=ATTACKER)
    assert refused_real.status_code == refused_unknown.status_code == 429
    message = b"Too many attempts: try again in 1 minute."
    assert message in refused_real.content and message in refused_unknown.content


# --- Passwords: a real brute force is still stopped ---------------------------------------------


def test_a_brute_force_on_one_user_is_refused_even_with_the_right_password(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    attacker = Client()
    for _ in range(4):
        assert _sign_in(attacker, "alice", WRONG, address=ATTACKER).status_code == 400
    fifth = _sign_in(attacker, "alice", WRONG, address=ATTACKER)
    assert fifth.status_code == 429
    assert b"Too many attempts: try again in 1 minute." in fifth.content
    assert b'value="alice"' in fifth.content  # what was typed is kept
    assert _sign_in(attacker, "alice", address=ATTACKER).status_code == 429
    clock.shift(dt.timedelta(seconds=50))
    assert _sign_in(attacker, "alice", address=ATTACKER).status_code == 429


def test_the_delay_doubles_with_each_further_failure_up_to_half_an_hour(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    attacker = Client()
    for _ in range(4):
        _sign_in(attacker, "alice", WRONG, address=ATTACKER)
    waits = []
    for _ in range(7):
        refused = _sign_in(attacker, "alice", WRONG, address=ATTACKER)
        assert refused.status_code == 429
        waits.append(refused.content.decode().split("try again in ")[1].split(".")[0])
        minutes = int(waits[-1].split()[0])
        clock.shift(dt.timedelta(minutes=minutes) - dt.timedelta(seconds=1))
        assert _sign_in(attacker, "alice", address=ATTACKER).status_code == 429
        clock.shift(dt.timedelta(seconds=2))
    assert waits == [
        "1 minute",
        "2 minutes",
        "4 minutes",
        "8 minutes",
        "16 minutes",
        "30 minutes",
        "30 minutes",
    ]


def test_username_cycling_from_one_address_hits_the_per_address_limit(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    _fill_the_address_limit()
    refused = _sign_in(Client(), "alice", address=ATTACKER)  # the right password, too
    assert refused.status_code == 429
    assert b"Too many attempts: try again in 60 minutes." in refused.content
    assert _sign_in(Client(), "alice", address=DESK).status_code == 302
    clock.shift(dt.timedelta(hours=1, minutes=1))
    assert _sign_in(Client(), "nora", address=ATTACKER).status_code == 302


def test_a_known_device_still_counts_its_own_failures(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    desk = _known_desk_computer("alice")
    for _ in range(4):
        assert _sign_in(desk, "alice", WRONG).status_code == 400
    assert _sign_in(desk, "alice", WRONG).status_code == 429
    assert _sign_in(desk, "alice").status_code == 429


def test_a_forged_known_device_cookie_counts_for_nothing(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    _fill_the_address_limit()
    forged = Client()
    forged.cookies[KNOWN_DEVICE_COOKIE] = '{"d":"x","u":{"alice":1}}'
    assert _sign_in(forged, "alice", address=ATTACKER).status_code == 429


def test_the_known_device_cookie_is_http_only_and_only_for_its_username(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    desk = _known_desk_computer("alice", address=ATTACKER)
    cookie = desk.cookies[KNOWN_DEVICE_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["path"] == "/accounts/"
    _fill_the_address_limit()
    # Alice's computer does not exempt someone else's username from the address limit.
    assert _sign_in(desk, "nora", address=ATTACKER).status_code == 429


# --- Two-step codes -----------------------------------------------------------------------------


@pytest.fixture
def authenticator(personas: Personas) -> TOTPDevice:
    device: TOTPDevice = TOTPDevice.objects.create(
        user=personas.supervisor, name="Authenticator app", confirmed=True
    )
    return device


def _right(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def _wrong(device: TOTPDevice) -> str:
    return f"{(int(_right(device)) + 500_000) % 1_000_000:06d}"


def _supervisors_known_computer(device: TOTPDevice, clock: time_machine.Traveller) -> Client:
    desk = Client()
    _sign_in(desk, "sue")
    assert _code(desk, _right(device)).status_code == 302
    desk.post("/accounts/logout/")
    clock.shift(dt.timedelta(minutes=2))  # a code is used once only
    return desk


def test_wrong_codes_from_elsewhere_do_not_keep_the_supervisor_out(
    personas: Personas, authenticator: TOTPDevice, clock: time_machine.Traveller
) -> None:
    desk = _supervisors_known_computer(authenticator, clock)
    attacker = Client()  # knows the password, not the authenticator
    assert _sign_in(attacker, "sue", address=ATTACKER).status_code == 302
    for _ in range(10):
        _code(attacker, _wrong(authenticator), address=ATTACKER)
    assert _code(attacker, _right(authenticator), address=ATTACKER).status_code == 429

    assert _sign_in(desk, "sue").status_code == 302
    assert _code(desk, _right(authenticator)).status_code == 302
    assert desk.get("/").status_code == 200


def test_guessing_codes_is_stopped_from_any_new_device(
    personas: Personas, authenticator: TOTPDevice, clock: time_machine.Traveller
) -> None:
    attacker = Client()
    _sign_in(attacker, "sue", address=ATTACKER)
    for _ in range(4):
        assert _code(attacker, _wrong(authenticator), address=ATTACKER).status_code == 400
    assert _code(attacker, _wrong(authenticator), address=ATTACKER).status_code == 429
    refused = _code(attacker, _right(authenticator), address=ATTACKER)
    assert refused.status_code == 429
    assert b"Too many attempts: try again in 1 minute." in refused.content
    # Moving to another address does not give the guesser fresh attempts.
    elsewhere = Client()
    _sign_in(elsewhere, "sue", address="10.0.0.99")
    assert _code(elsewhere, _right(authenticator), address="10.0.0.99").status_code == 429
    clock.shift(dt.timedelta(seconds=61))
    assert _code(elsewhere, _right(authenticator), address="10.0.0.99").status_code == 302


def test_a_known_device_still_counts_its_own_wrong_codes(
    personas: Personas, authenticator: TOTPDevice, clock: time_machine.Traveller
) -> None:
    desk = _supervisors_known_computer(authenticator, clock)
    _sign_in(desk, "sue")
    for _ in range(4):
        assert _code(desk, _wrong(authenticator)).status_code == 400
    assert _code(desk, _wrong(authenticator)).status_code == 429
    assert _code(desk, _right(authenticator)).status_code == 429


# --- Telling the user and the administrators ----------------------------------------------------


def test_the_user_is_told_of_failed_attempts_at_their_next_sign_in(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    attacker = Client()
    for _ in range(5):
        _sign_in(attacker, "alice", WRONG, address=ATTACKER)
    desk = Client()
    _sign_in(desk, "alice")
    home = desk.get("/").content.decode()
    # 14:00 UTC is 09:00 in the clinic (America/New_York).
    assert (
        "5 failed sign-in attempts since your last sign-in, the last from 10.0.0.66 at "
        "09:00 on 1 Dec 2026." in home
    )
    desk.post("/accounts/logout/")
    _sign_in(desk, "alice")
    assert "failed sign-in attempts" not in desk.get("/").content.decode()


def test_the_failed_attempts_are_told_at_the_users_own_clinics_time(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    personas.other_clinic.time_zone = "Asia/Kolkata"
    personas.other_clinic.save()
    attacker = Client()
    for _ in range(5):
        _sign_in(attacker, "olga", WRONG, address=ATTACKER)
    desk = Client()
    _sign_in(desk, "olga")
    # 14:00 UTC is 19:30 in Kolkata, where her clinic is.
    assert "the last from 10.0.0.66 at 19:30 on 1 Dec 2026." in desk.get("/").content.decode()


def test_administrators_are_alerted_and_it_is_audited(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    attacker = Client()
    for _ in range(4):
        _sign_in(attacker, "nora", WRONG, address=ATTACKER)
    assert not SignInAlert.objects.exists()
    _sign_in(attacker, "nora", WRONG, address=ATTACKER)
    alert = SignInAlert.objects.get()
    assert (alert.user, alert.failures, alert.last_address) == (personas.nurse, 5, ATTACKER)
    assert AuditEvent.objects.filter(object_type="sign_in_alert", high_priority=True).exists()
    assert AuditEvent.objects.filter(object_type="sign_in_throttle").count() == 1

    admin = login_client(Client(), personas.admin)
    expected = "5 failed sign-in attempts for nora, the last from 10.0.0.66"
    assert expected in admin.get("/").content.decode()
    assert expected in admin.get(LOCKS).content.decode()
    # An administrator of another clinic does not see this clinic's staff.
    personas.outsider.role = "admin"
    personas.outsider.save()
    outsider = login_client(Client(), personas.outsider)
    assert "nora" not in outsider.get(LOCKS).content.decode()


# --- The unlock page ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["front_desk", "nurse", "physician", "billing", "supervisor"])
def test_only_administrators_reach_the_locks_page(personas: Personas, role: str) -> None:
    client = login_client(Client(), getattr(personas, role))
    assert client.get(LOCKS).status_code == 403
    assert client.post(UNLOCK, {"throttle": "1"}).status_code == 403


def test_an_administrator_unlocks_a_user_who_can_then_sign_in(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    for _ in range(7):
        _sign_in(Client(), "alice", WRONG, address=ATTACKER)
    assert _sign_in(Client(), "alice", address=ATTACKER).status_code == 429
    admin = login_client(Client(), personas.admin)
    page = admin.get(LOCKS).content.decode()
    assert "Unlock alice" in page and ATTACKER in page
    throttle = SignInThrottle.objects.get(username="alice")
    response = admin.post(UNLOCK, {"throttle": str(throttle.pk)})
    assert response.status_code == 302
    assert "Unlocked alice" in admin.get(response["Location"]).content.decode()
    event = AuditEvent.objects.get(object_type="sign_in_throttle", detail__event="unlocked")
    assert (event.actor_username, event.detail["username"]) == ("adam", "alice")
    assert _sign_in(Client(), "alice", address=ATTACKER).status_code == 302


def test_an_administrator_unlocks_an_address(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    _fill_the_address_limit()
    assert _sign_in(Client(), "alice", address=ATTACKER).status_code == 429
    admin = login_client(Client(), personas.admin)
    assert f"Unlock {ATTACKER}" in admin.get(LOCKS).content.decode()
    assert admin.post(UNLOCK, {"address": ATTACKER}).status_code == 302
    assert AuditEvent.objects.filter(object_type="sign_in_address", object_id=ATTACKER).exists()
    assert _sign_in(Client(), "alice", address=ATTACKER).status_code == 302


@pytest.mark.parametrize("data", [{}, {"throttle": "x"}, {"throttle": "99999"}, {"address": "a"}])
def test_unlocking_nothing_is_answered_in_words(personas: Personas, data: dict[str, str]) -> None:
    admin = login_client(Client(), personas.admin)
    response = admin.post(UNLOCK, data, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "already been lifted" in html or "Choose a lock to lift" in html


def test_the_worker_forgets_throttles_a_day_without_failures(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    from frontdesk.accounts.tasks import sign_in_throttles_forget_task

    for _ in range(6):
        _sign_in(Client(), "alice", WRONG, address=ATTACKER)
    _sign_in(Client(), "nobody", WRONG, address=ATTACKER)
    clock.shift(dt.timedelta(hours=23))
    _sign_in(Client(), "nora", WRONG, address=ATTACKER)
    assert sign_in_throttles_forget_task.call_local() == 0
    clock.shift(dt.timedelta(hours=2))
    assert sign_in_throttles_forget_task.call_local() == 2
    assert list(SignInThrottle.objects.values_list("username", flat=True)) == ["nora"]


def test_the_locks_page_costs_the_same_queries_however_many_locks(
    personas: Personas, clock: time_machine.Traveller
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = login_client(Client(), personas.admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(LOCKS).status_code == 200
        return len(captured)

    for username in ["alice", "nora"]:
        for _ in range(5):
            _sign_in(Client(), username, WRONG, address=ATTACKER)
    few = queries()
    for username in ["phil", "bill", "sue", "nobody"]:
        for _ in range(5):
            _sign_in(Client(), username, WRONG, address=DESK)
    _fill_the_address_limit()
    page = admin.get(LOCKS).content.decode()
    assert page.count('class="button">Unlock ') == 7  # six usernames and the address
    assert queries() == few
