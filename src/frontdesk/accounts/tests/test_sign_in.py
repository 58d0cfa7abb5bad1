from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, Personas
from frontdesk.accounts.middleware import LAST_ACTIVITY_KEY
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent

LOGIN = "/accounts/login/"


def _sign_in(client: Client, username: str, password: str = PASSWORD) -> object:
    return client.post(LOGIN, {"username": username, "password": password})


def test_production_settings_hash_passwords_with_argon2() -> None:
    from frontdesk import settings as production

    assert production.PASSWORD_HASHERS == ["django.contrib.auth.hashers.Argon2PasswordHasher"]


def test_it_stores_passwords_as_argon2_hashes(personas: Personas) -> None:
    assert identify_hasher(personas.front_desk.password).algorithm == "argon2"
    assert PASSWORD not in personas.front_desk.password


def test_a_front_desk_officer_signs_in_and_is_audited(personas: Personas) -> None:
    client = Client()
    response = _sign_in(client, "alice")
    assert response.status_code == 302  # type: ignore[attr-defined]
    # The desk queue is the front desk's home page (the Start page stays one link away).
    assert response["Location"] == "/desk/"  # type: ignore[index]
    assert client.get("/desk/").status_code == 200
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor_username="alice").exists()


def test_a_wrong_password_gets_a_plain_message_and_keeps_the_username(personas: Personas) -> None:
    response = Client().post(LOGIN, {"username": "alice", "password": "nope"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "do not match" in html
    assert 'value="alice"' in html


def test_it_delays_a_username_after_five_failed_sign_ins_from_one_address(
    personas: Personas,
) -> None:
    client = Client()
    for _ in range(5):
        _sign_in(client, "alice", "wrong password")
    response = _sign_in(client, "alice")  # even the right password is refused now
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert b"Too many attempts: try again in 1 minute." in response.content  # type: ignore[attr-defined]
    # Another officer at the same desk (same address) is not held up.
    assert _sign_in(Client(), "nora").status_code == 302  # type: ignore[attr-defined]


def test_the_first_delay_lifts_after_a_minute(personas: Personas) -> None:
    start = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(5):
            _sign_in(Client(), "alice", "wrong password")
        assert _sign_in(Client(), "alice").status_code == 429  # type: ignore[attr-defined]
        traveller.shift(dt.timedelta(seconds=61))
        assert _sign_in(Client(), "alice").status_code == 302  # type: ignore[attr-defined]


def test_signing_out_needs_a_post_and_ends_the_session(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.front_desk)
    assert client.get("/accounts/logout/").status_code == 405
    signed_out = client.post("/accounts/logout/")
    assert client.get("/")["Location"].startswith(LOGIN)
    assert "You are signed out." in client.get(signed_out["Location"]).content.decode()


def test_signing_out_leaves_no_session_behind(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    from django.contrib.sessions.models import Session

    client = client_for(personas.front_desk)
    client.get("/")
    assert Session.objects.count() == 1
    client.get(client.post("/accounts/logout/")["Location"])
    assert Session.objects.count() == 0


def test_it_only_follows_next_links_within_frontdesk(personas: Personas) -> None:
    response = Client().post(
        LOGIN, {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/desk/"


class TestIdleTimeout:
    start = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)

    def test_it_signs_out_a_session_idle_for_longer_than_the_limit(
        self, personas: Personas, client_for: Callable[[User], Client]
    ) -> None:
        with time_machine.travel(self.start, tick=False) as traveller:
            client = client_for(personas.front_desk)
            assert client.get("/").status_code == 200
            traveller.shift(settings.SESSION_IDLE_TIMEOUT + dt.timedelta(seconds=1))
            response = client.get("/patients/")
            assert response.status_code == 302
            assert "timed_out=1" in response["Location"]
            assert client.get("/")["Location"].startswith(LOGIN)

    def test_activity_extends_the_session(
        self, personas: Personas, client_for: Callable[[User], Client]
    ) -> None:
        with time_machine.travel(self.start, tick=False) as traveller:
            client = client_for(personas.front_desk)
            client.get("/")
            for _ in range(3):
                traveller.shift(dt.timedelta(minutes=14))
                assert client.post("/accounts/session/ping/").status_code == 204
            assert client.get("/").status_code == 200

    def test_background_requests_do_not_keep_a_session_alive(
        self, personas: Personas, client_for: Callable[[User], Client]
    ) -> None:
        with time_machine.travel(self.start, tick=False) as traveller:
            client = client_for(personas.front_desk)
            client.get("/")
            traveller.shift(dt.timedelta(minutes=10))
            client.get("/", HTTP_X_FRONTDESK_BACKGROUND="1")
            traveller.shift(dt.timedelta(minutes=6))
            assert client.get("/").status_code == 302

    def test_an_htmx_request_after_the_timeout_is_told_to_go_to_sign_in(
        self, personas: Personas, client_for: Callable[[User], Client]
    ) -> None:
        with time_machine.travel(self.start, tick=False) as traveller:
            client = client_for(personas.front_desk)
            client.get("/")
            traveller.shift(dt.timedelta(minutes=20))
            response = client.get("/patients/", {"q": "smith"}, HTTP_HX_REQUEST="true")
            assert response["HX-Redirect"].startswith(LOGIN)

    def test_a_page_loaded_within_30_seconds_still_restarts_the_idle_clock(
        self, personas: Personas, client_for: Callable[[User], Client]
    ) -> None:
        with time_machine.travel(self.start, tick=False) as traveller:
            client = client_for(personas.front_desk)
            client.get("/")
            traveller.shift(dt.timedelta(seconds=20))
            client.get("/patients/")  # the page's own timer starts here
            traveller.shift(settings.SESSION_IDLE_TIMEOUT - dt.timedelta(seconds=5))
            assert client.post("/accounts/session/ping/").status_code == 204

    def test_a_request_that_shows_no_page_leaves_a_fresh_activity_time_alone(
        self, personas: Personas, client_for: Callable[[User], Client]
    ) -> None:
        with time_machine.travel(self.start, tick=False) as traveller:
            client = client_for(personas.front_desk)
            client.get("/")
            stored = client.session[LAST_ACTIVITY_KEY]
            traveller.shift(dt.timedelta(seconds=10))
            response = client.post("/accounts/session/ping/")
            assert response.status_code == 204
            assert client.session[LAST_ACTIVITY_KEY] == stored  # a 204 is no page
            traveller.shift(dt.timedelta(seconds=25))
            client.post("/accounts/session/ping/")
            assert client.session[LAST_ACTIVITY_KEY] == stored + 35  # 30 s old: stored

    def test_the_page_carries_the_idle_limit_for_the_warning(
        self, personas: Personas, client_for: Callable[[User], Client]
    ) -> None:
        html = client_for(personas.front_desk).get("/").content.decode()
        assert 'data-idle-seconds="900"' in html
        assert 'id="idle-warning"' in html


class TestTwoFactor:
    def test_a_supervisor_without_two_factor_sees_nothing_but_the_set_up_page(
        self, personas: Personas
    ) -> None:
        client = Client()
        _sign_in(client, "sue")
        response = client.get("/patients/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/two-factor/"
        page = client.get("/accounts/two-factor/")
        assert b"Set up two-step sign-in" in page.content

    def test_enrolment_confirms_the_authenticator_and_shows_recovery_codes_once(
        self, personas: Personas
    ) -> None:
        client = Client()
        _sign_in(client, "sue")
        client.get("/accounts/two-factor/")
        device = TOTPDevice.objects.get(user=personas.supervisor, confirmed=False)
        response = client.post("/accounts/two-factor/", {"token": str(totp(device.bin_key))})
        assert response["Location"] == "/accounts/two-factor/recovery-codes/"
        codes_page = client.get("/accounts/two-factor/recovery-codes/")
        tokens = StaticToken.objects.filter(device__user=personas.supervisor)
        assert tokens.count() == 10
        for token in tokens:
            assert token.token in codes_page.content.decode()
        assert client.get("/accounts/two-factor/recovery-codes/").status_code == 302
        assert client.get("/patients/").status_code == 200

    def test_a_wrong_code_is_refused_with_a_plain_message(self, personas: Personas) -> None:
        client = Client()
        _sign_in(client, "adam")
        client.get("/accounts/two-factor/")
        response = client.post("/accounts/two-factor/", {"token": "000000"})
        assert response.status_code == 400
        assert b"not right" in response.content
        assert client.get("/").status_code == 302

    def test_an_enrolled_admin_signs_in_with_a_code_or_a_single_use_recovery_code(
        self, personas: Personas
    ) -> None:
        from frontdesk.accounts.services import recovery_codes_regenerate

        device = TOTPDevice.objects.create(user=personas.admin, name="phone", confirmed=True)
        codes = recovery_codes_regenerate(user=personas.admin)

        client = Client()
        _sign_in(client, "adam")
        assert b"Two-step sign-in" in client.get("/accounts/two-factor/").content
        client.post("/accounts/two-factor/", {"token": str(totp(device.bin_key))})
        assert client.get("/").status_code == 200

        first = Client()
        _sign_in(first, "adam")
        first.post("/accounts/two-factor/", {"token": codes[0]})
        assert first.get("/").status_code == 200

        second = Client()
        _sign_in(second, "adam")
        refused = second.post("/accounts/two-factor/", {"token": codes[0]})
        assert refused.status_code == 400  # a recovery code works only once
        assert second.get("/").status_code == 302

    @pytest.mark.parametrize("role_user", ["front_desk", "nurse", "physician", "billing"])
    def test_other_roles_do_not_need_a_second_factor(
        self, personas: Personas, role_user: str
    ) -> None:
        client = Client()
        _sign_in(client, getattr(personas, role_user).username)
        assert client.get("/").status_code == 200


def test_a_timed_out_visit_to_sign_in_keeps_the_page_to_return_to(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    start = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client = client_for(personas.front_desk)
        client.get("/")
        traveller.shift(dt.timedelta(minutes=16))
        response = client.get(LOGIN, {"timed_out": "1", "next": "/patients/"})
        assert response.status_code == 200
        assert 'name="next" value="/patients/"' in response.content.decode()


def test_a_supervisor_mid_enrolment_can_keep_the_session_alive(personas: Personas) -> None:
    client = Client()
    _sign_in(client, "sue")
    assert client.post("/accounts/session/ping/").status_code == 204


def test_the_worker_clears_expired_sessions_and_keeps_live_ones(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    from django.contrib.sessions.models import Session

    from frontdesk.accounts.tasks import sessions_clear_expired

    live = client_for(personas.front_desk)
    live.get("/")
    with time_machine.travel(timezone.now() - dt.timedelta(days=2), tick=False):
        old = client_for(personas.nurse)
        old.get("/")
    assert Session.objects.count() == 2
    assert sessions_clear_expired() == 1
    assert [s.session_key for s in Session.objects.all()] == [live.session.session_key]
