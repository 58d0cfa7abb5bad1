"""A database that goes away or stays locked for a moment costs a polite page, never a 500."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditEvent

TERMINATED = "terminating connection due to administrator command"
BUSY_WORDS = "The system is busy for a moment"
NOTHING_SAVED = "Please try again. Nothing was saved."


@contextmanager
def failing(when: Callable[[str], bool], times: int = 1_000_000) -> Iterator[list[str]]:
    """Statements for which `when(sql)` holds fail as on a terminated backend, `times` times."""
    failed: list[str] = []

    def wrapper(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        if len(failed) < times and when(sql):
            failed.append(sql)
            raise OperationalError(TERMINATED)
        return execute(sql, *args)

    with connection.execute_wrapper(wrapper):
        yield failed


def everything(sql: str) -> bool:
    return True


def session_write(sql: str) -> bool:
    return "django_session" in sql and sql.lstrip().upper().startswith(("UPDATE", "INSERT"))


def test_it_answers_a_form_posted_to_a_terminated_connection_with_a_polite_page(
    personas: Personas,
) -> None:
    client = login_client(Client(raise_request_exception=False), personas.front_desk)
    before = AuditEvent.objects.count()
    with failing(everything) as failed:
        response = client.post("/patients/register/", {"given_name": "Ann", "step": "review"})
    assert failed
    assert response.status_code == 503
    page = response.content.decode()
    assert BUSY_WORDS in page
    assert NOTHING_SAVED in page
    assert response["Retry-After"]
    assert AuditEvent.objects.count() == before
    # What was typed is kept on the page, to send again as it was.
    assert '<form method="post" action="/patients/register/">' in page
    assert '<input type="hidden" name="given_name" value="Ann">' in page
    assert "Send it again" in page


def test_it_answers_a_page_again_once_when_its_connection_was_terminated(
    personas: Personas,
) -> None:
    patient = make_patient(personas.clinic)
    client = login_client(Client(raise_request_exception=False), personas.front_desk)
    with failing(everything, times=1) as failed:
        response = client.get(f"/patients/{patient.pk}/")
    assert len(failed) == 1
    assert response.status_code == 200


def test_it_gives_up_politely_when_the_database_stays_away(personas: Personas) -> None:
    client = login_client(Client(raise_request_exception=False), personas.front_desk)
    with failing(everything):
        response = client.get("/patients/")
    assert response.status_code == 503
    assert NOTHING_SAVED in response.content.decode()


def test_it_does_not_claim_nothing_was_saved_when_a_first_attempt_wrote(
    personas: Personas,
) -> None:
    patient = make_patient(personas.clinic)
    client = login_client(Client(raise_request_exception=False), personas.front_desk)
    wrote: list[str] = []

    def after_the_audit_event(sql: str) -> bool:
        # The chart's audit event is written; everything after it fails, in both attempts.
        if (
            not wrote
            and "audit_auditevent" in sql
            and sql.lstrip().upper().startswith(("INSERT", "WITH"))
        ):
            wrote.append(sql)
            return False
        return bool(wrote)

    with failing(after_the_audit_event):
        response = client.get(f"/patients/{patient.pk}/")
    assert wrote
    assert response.status_code == 503
    assert "Nothing was saved" not in response.content.decode()


def test_it_does_not_claim_nothing_was_saved_when_the_session_failed_after_the_work(
    personas: Personas,
) -> None:
    client = Client(raise_request_exception=False)
    seen: list[str] = []

    def session_write_after_the_work(sql: str) -> bool:
        seen.append(sql)
        # The sign-in is recorded (audit event, last sign-in time); then the session is saved
        # once more on the way out, and that fails.
        return session_write(sql) and any("audit_auditevent" in s for s in seen)

    with failing(session_write_after_the_work) as failed:
        response = client.post(
            "/accounts/login/", {"username": "alice", "password": "correct horse battery staple"}
        )
    assert failed
    assert response.status_code == 503
    page = response.content.decode()
    assert BUSY_WORDS in page
    assert "Nothing was saved" not in page
    assert "may have been saved" in page
    assert "Send it again" not in page  # something was saved: never offered twice
    assert "password" not in page
    assert AuditEvent.objects.filter(action="login").exists()


def test_it_answers_sqlite_locked_with_the_polite_page(personas: Personas) -> None:
    client = login_client(Client(raise_request_exception=False), personas.front_desk)

    def locked(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        raise OperationalError("database is locked")

    with connection.execute_wrapper(locked):
        response = client.post("/patients/register/", {"given_name": "Ann"})
    assert response.status_code == 503
    assert NOTHING_SAVED in response.content.decode()


def test_other_server_errors_stay_500(personas: Personas) -> None:
    from django.db import ProgrammingError

    client = login_client(Client(raise_request_exception=False), personas.front_desk)

    def broken(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        raise ProgrammingError("a bug, not a busy database")

    with connection.execute_wrapper(broken):
        response = client.get("/patients/")
    assert response.status_code == 500


postgres_only = pytest.mark.skipif(
    settings.DATABASE_VENDOR != "postgresql", reason="terminates a PostgreSQL backend"
)


def _terminate(pid: int) -> None:
    """From a second connection, as an operator (or a failover) would; waits until it is gone."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


@contextmanager
def terminated_mid_request(when: Callable[[str], bool]) -> Iterator[list[int]]:
    """The backend serving the request is terminated just before the first statement for which
    `when(sql)` holds, so that statement meets a really closed connection."""
    done: list[int] = []

    def wrapper(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        if not done and when(sql):
            pid = connection.connection.info.backend_pid
            # Another thread, as another client would be; this one waits for it.
            worker = threading.Thread(target=_terminate, args=[pid])
            worker.start()
            worker.join()
            done.append(pid)
        return execute(sql, *args)

    with connection.execute_wrapper(wrapper):
        yield done


@postgres_only
def test_it_survives_a_backend_terminated_in_the_middle_of_a_page(
    transactional_audit: None, personas: Personas
) -> None:
    patient = make_patient(personas.clinic)
    client = login_client(Client(raise_request_exception=False), personas.front_desk)
    client.get("/patients/")  # the connection is open
    with terminated_mid_request(lambda sql: "patients_patient" in sql) as done:
        response = client.get(f"/patients/{patient.pk}/")
    assert done
    assert response.status_code == 200
    assert connection.connection.info.backend_pid != done[0]


@postgres_only
def test_it_answers_a_form_whose_backend_was_terminated_with_the_polite_page(
    transactional_audit: None, personas: Personas
) -> None:
    client = login_client(Client(raise_request_exception=False), personas.front_desk)
    client.get("/patients/")
    before = AuditEvent.objects.count()
    with terminated_mid_request(lambda sql: "django_session" in sql) as done:
        response = client.post("/patients/register/", {"given_name": "Ann", "step": "review"})
    assert done
    assert response.status_code == 503
    assert NOTHING_SAVED in response.content.decode()
    assert AuditEvent.objects.count() == before
    # The next request gets a working connection.
    assert client.get("/patients/").status_code == 200


def test_it_checks_every_connection_before_a_request_uses_it() -> None:
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@postgres_only
def test_it_has_the_pool_check_a_connection_on_checkout() -> None:
    from django.db.backends.postgresql.base import DatabaseWrapper
    from psycopg_pool import ConnectionPool

    pooled = {**connection.settings_dict, "OPTIONS": {"pool": {"min_size": 1, "max_size": 2}}}
    wrapper = DatabaseWrapper(pooled, alias="pool_check")
    pool = wrapper.pool  # built, not opened: no connection is made
    try:
        assert pool._check == ConnectionPool.check_connection  # type: ignore[attr-defined]
    finally:
        wrapper.close_pool()


def test_it_never_writes_a_password_into_the_busy_page(personas: Personas) -> None:
    client = Client(raise_request_exception=False)
    secret = "correct horse battery staple"
    with failing(everything):
        response = client.post("/accounts/login/", {"username": "alice", "password": secret})
    assert response.status_code == 503
    page = response.content.decode()
    assert NOTHING_SAVED in page
    assert secret not in page
    assert "Back button" in page
