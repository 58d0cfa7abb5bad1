"""The signed-in user is loaded with their clinic (StaffBackend); sessions signed in before it
existed are carried over by a migration instead of being signed out."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import Personas

carry_over = importlib.import_module(
    "frontdesk.accounts.migrations.0002_sessions_name_the_staff_backend"
)


def test_a_session_signed_in_under_the_old_backend_stays_signed_in_after_the_migration(
    personas: Personas,
) -> None:
    client = Client()
    client.force_login(personas.front_desk)
    session = client.session
    session[BACKEND_SESSION_KEY] = carry_over.OLD  # as a session signed in before the upgrade
    session.save()
    assert client.get("/patients/").status_code == 302  # the old path alone: signed out

    client = Client()
    client.force_login(personas.front_desk)
    session = client.session
    session[BACKEND_SESSION_KEY] = carry_over.OLD
    session.save()
    carry_over.forwards(apps, None)
    assert client.session[BACKEND_SESSION_KEY] == carry_over.NEW
    assert client.get("/patients/").status_code == 200


def test_reversing_the_migration_names_the_old_backend_again(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.front_desk, backend=carry_over.NEW)
    carry_over.backwards(apps, None)
    assert client.session[BACKEND_SESSION_KEY] == carry_over.OLD


def test_a_signed_in_page_loads_the_user_and_their_clinic_in_one_query(
    personas: Personas,
) -> None:
    client = Client()
    client.force_login(personas.front_desk)
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/accounts/session/ping/").status_code == 204
    user_queries = [q["sql"] for q in queries.captured_queries if "accounts_user" in q["sql"]]
    assert len(user_queries) == 1
    assert "clinic_clinic" in user_queries[0]
    assert not any(
        "clinic_clinic" in q["sql"] and "accounts_user" not in q["sql"]
        for q in queries.captured_queries
    )
