"""Administrators manage their clinic's staff in pages: add, change, reset, lock, deactivate."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, Personas, login_client
from frontdesk.accounts import services
from frontdesk.accounts.models import SignInThrottle, StaffInvite, User
from frontdesk.accounts.roles import Role
from frontdesk.accounts.services import recovery_codes_regenerate, staff_create
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import AuditContext
from frontdesk.clinic.models import Location

LOGIN = "/accounts/login/"
TEMPORARY = re.compile(r"<code[^>]*>([a-z0-9]{4}(?:-[a-z0-9]{4}){3})</code>")


def _staff_events(event: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type="staff_account", detail__event=event).order_by("seq")
    )


def audit_context_for(user: User) -> AuditContext:
    return AuditContext(
        actor_id=user.pk,
        actor_username=user.username,
        actor_role=user.role,
        clinic_id=user.clinic_id,
        client_ip=None,
        user_agent="",
        purpose="",
    )


def _url(name: str, member: User) -> str:
    return reverse(f"accounts:{name}", kwargs={"staff_id": member.pk})


def _sessions_of(user: User) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk))


def _temporary_password(client: Client, member: User) -> str:
    page = client.get(_url("staff_detail", member))
    found = TEMPORARY.search(page.content.decode())
    assert found, "the temporary password is shown on the member's page"
    return found.group(1)


@pytest.fixture
def admin(personas: Personas) -> Client:
    return login_client(Client(), personas.admin)


# --- Adding ---------------------------------------------------------------------------------


def test_an_administrator_adds_a_member_with_a_temporary_password_shown_once(
    personas: Personas, admin: Client
) -> None:
    site = Location.objects.create(clinic=personas.clinic, name="Northside")
    response = admin.post(
        reverse("accounts:staff_add"),
        {
            "first_name": "Tess",
            "last_name": "Ward",
            "username": "tess",
            "email": "",
            "role": Role.NURSE,
            "location": site.pk,
            "access": "password",
        },
    )
    tess = User.objects.get(username="tess")
    assert response["Location"] == _url("staff_detail", tess)
    assert (tess.clinic, tess.role, tess.location, tess.must_change_password) == (
        personas.clinic,
        Role.NURSE,
        site,
        True,
    )
    password = _temporary_password(admin, tess)
    assert tess.check_password(password)
    assert not TEMPORARY.search(admin.get(_url("staff_detail", tess)).content.decode())
    (event,) = _staff_events("added")
    assert event.actor_username == "adam" and event.patient_ids == []
    assert event.detail["username"] == "tess" and event.detail["location"] == "Northside"
    assert password not in str(event.detail)


def test_adding_refuses_a_taken_username_in_words_and_keeps_what_was_typed(
    personas: Personas, admin: Client
) -> None:
    response = admin.post(
        reverse("accounts:staff_add"),
        {
            "first_name": "Alicia",
            "last_name": "Ng",
            "username": "ALICE",
            "role": Role.BILLING,
            "access": "password",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "That username is taken" in html and 'value="Alicia"' in html
    assert not _staff_events("added")


def test_the_role_list_opens_on_choose(admin: Client) -> None:
    html = admin.get(reverse("accounts:staff_add")).content.decode()
    assert re.search(r'<select name="role"[^>]*>\s*<option value="" selected>— choose —', html)


# --- Invitations ----------------------------------------------------------------------------

INVITE = re.compile(r"<code>https?://[^/]+(/accounts/invite/[^/<]+/)</code>")


def _add_by_invite(admin: Client) -> tuple[User, str]:
    admin.post(
        reverse("accounts:staff_add"),
        {"first_name": "Ivo", "username": "ivo", "role": Role.BILLING, "access": "invite"},
    )
    ivo = User.objects.get(username="ivo")
    found = INVITE.search(admin.get(_url("staff_detail", ivo)).content.decode())
    assert found, "the invitation link is shown on the member's page"
    return ivo, found.group(1)


def test_an_invited_member_sets_their_own_password_once(personas: Personas, admin: Client) -> None:
    ivo, link = _add_by_invite(admin)
    assert not ivo.has_usable_password() and not ivo.must_change_password
    assert not INVITE.search(admin.get(_url("staff_detail", ivo)).content.decode())
    assert Client().post(LOGIN, {"username": "ivo", "password": ""}).status_code == 400
    visitor = Client()
    page = visitor.get(link)
    assert page.status_code == 200 and b"Welcome, Ivo" in page.content
    weak = visitor.post(link, {"new_password1": "ivo", "new_password2": "ivo"})
    assert weak.status_code == 400 and b"too short" in weak.content
    new = "a quiet river under seven bridges"
    done = visitor.post(link, {"new_password1": new, "new_password2": new})
    assert done["Location"] == f"{LOGIN}?password_set=1"
    ivo.refresh_from_db()
    assert ivo.check_password(new)
    assert Client().get(link).status_code == 410  # once only
    assert Client().post(LOGIN, {"username": "ivo", "password": new}).status_code == 302
    assert [e.detail["event"] for e in AuditEvent.objects.filter(object_type="staff_account")] == [
        "added",
        "invite_accepted",
    ]


def test_a_new_invitation_replaces_the_old_link_and_an_old_one_expires(
    personas: Personas, admin: Client
) -> None:
    ivo, first = _add_by_invite(admin)
    admin.post(_url("staff_invite", ivo))
    second = INVITE.search(admin.get(_url("staff_detail", ivo)).content.decode())
    assert second and second.group(1) != first
    gone = Client().get(first)
    assert gone.status_code == 410 and b"used or replaced" in gone.content
    assert Client().get(second.group(1)).status_code == 200
    StaffInvite.objects.update(expires_at=timezone.now())
    expired = Client().get(second.group(1))
    assert expired.status_code == 410 and b"expired" in expired.content
    assert len(_staff_events("invited")) == 1


def test_an_invitation_of_a_deactivated_member_does_not_work(
    personas: Personas, admin: Client
) -> None:
    ivo, link = _add_by_invite(admin)
    admin.post(_url("staff_deactivate", ivo))
    assert Client().get(link).status_code == 410


def test_a_member_with_a_password_gets_a_reset_not_an_invitation(
    personas: Personas, admin: Client
) -> None:
    response = admin.post(_url("staff_invite", personas.nurse), follow=True)
    assert b"has a password already: reset it instead" in response.content
    assert not StaffInvite.objects.exists()


# --- The list -------------------------------------------------------------------------------


def test_the_list_shows_each_members_role_location_and_status_in_few_queries(
    personas: Personas, admin: Client
) -> None:
    site = Location.objects.create(clinic=personas.clinic, name="Northside")
    User.objects.filter(pk=personas.nurse.pk).update(location=site, must_change_password=True)
    User.objects.filter(pk=personas.billing.pk).update(is_active=False)
    User.objects.filter(pk=personas.physician.pk).update(locked_at="2026-12-01T10:00Z")
    TOTPDevice.objects.create(user=personas.supervisor, name="app", confirmed=True)
    with CaptureQueriesContext(connection) as queries:
        response = admin.get(reverse("accounts:staff_list"))
    assert len(queries) <= 8  # session, user, the list, messages: not one per member
    html = response.content.decode()
    assert "Northside" in html and "Must change password" in html
    assert "Deactivated" in html and "Locked" in html and "Set up" in html
    assert "olga" not in html  # another clinic's staff


def test_an_administrator_sees_the_staff_link_and_others_do_not(personas: Personas) -> None:
    for role, user in personas.by_role().items():
        html = login_client(Client(), user).get("/").content.decode()
        assert (reverse("accounts:staff_list") in html) == (role == Role.ADMIN), role


# --- Resets ---------------------------------------------------------------------------------


def test_a_password_reset_gives_a_temporary_password_ends_sessions_and_is_audited(
    personas: Personas, admin: Client
) -> None:
    nurse = login_client(Client(), personas.nurse)
    confirm = admin.get(_url("staff_password", personas.nurse))
    assert confirm.status_code == 200 and b"signed out everywhere" in confirm.content
    admin.post(_url("staff_password", personas.nurse))
    password = _temporary_password(admin, personas.nurse)
    personas.nurse.refresh_from_db()
    assert personas.nurse.check_password(password) and personas.nurse.must_change_password
    assert not personas.nurse.check_password(PASSWORD)
    assert nurse.get("/")["Location"].startswith(LOGIN)
    assert len(_staff_events("password_reset")) == 1


def test_a_member_with_a_temporary_password_must_change_it_before_anything_else(
    personas: Personas,
) -> None:
    User.objects.filter(pk=personas.nurse.pk).update(must_change_password=True)
    client = Client()
    client.post(LOGIN, {"username": "nora", "password": PASSWORD})
    change = reverse("accounts:password_change")
    assert client.get("/")["Location"] == change
    assert client.get("/patients/")["Location"] == change
    weak = client.post(
        change,
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert weak.status_code == 400 and b"too short" in weak.content
    same = client.post(
        change,
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert same.status_code == 400 and b"Choose a new password" in same.content
    new = "a quiet river under seven bridges"
    done = client.post(
        change, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert done["Location"] == "/"
    assert client.get("/").status_code == 200  # still signed in
    personas.nurse.refresh_from_db()
    assert personas.nurse.check_password(new) and not personas.nurse.must_change_password
    assert len(_staff_events("password_changed")) == 1


def test_a_two_step_reset_makes_them_set_it_up_again(personas: Personas, admin: Client) -> None:
    supervisor = login_client(Client(), personas.supervisor)
    recovery_codes_regenerate(user=personas.supervisor)
    assert supervisor.get("/").status_code == 200
    admin.post(_url("staff_two_step", personas.supervisor))
    assert not TOTPDevice.objects.filter(user=personas.supervisor).exists()
    assert not StaticDevice.objects.filter(user=personas.supervisor).exists()
    assert supervisor.get("/")["Location"] == reverse("accounts:two_factor")
    fresh = Client()
    fresh.post(LOGIN, {"username": "sue", "password": PASSWORD})
    setup = fresh.get(reverse("accounts:two_factor"))
    assert b"data:image/svg+xml" in setup.content  # the set-up page, with its QR code
    assert len(_staff_events("two_step_reset")) == 1


# --- Lock and deactivate ------------------------------------------------------------------------


def test_a_locked_member_is_signed_out_at_once_and_cannot_sign_in(
    personas: Personas, admin: Client
) -> None:
    nurse = login_client(Client(), personas.nurse)
    assert _sessions_of(personas.nurse) == 1
    admin.post(_url("staff_lock", personas.nurse))
    assert _sessions_of(personas.nurse) == 0
    assert nurse.get("/")["Location"].startswith(LOGIN)
    refused = Client().post(LOGIN, {"username": "nora", "password": PASSWORD})
    assert refused.status_code == 400
    (event,) = _staff_events("locked")
    assert event.detail["sessions_ended"] == 1


def test_unlocking_lets_them_in_again_and_lifts_sign_in_throttles(
    personas: Personas, admin: Client
) -> None:
    admin.post(_url("staff_lock", personas.nurse))
    for _ in range(5):
        Client().post(LOGIN, {"username": "nora", "password": "wrong"})
    assert SignInThrottle.objects.filter(user=personas.nurse).exists()
    admin.post(_url("staff_unlock", personas.nurse))
    assert not SignInThrottle.objects.filter(user=personas.nurse).exists()
    assert Client().post(LOGIN, {"username": "nora", "password": PASSWORD}).status_code == 302
    (event,) = _staff_events("unlocked")
    assert event.detail["was_locked"] is True and event.detail["throttles_lifted"] == 1


def test_a_deactivated_member_is_kept_signed_out_and_can_be_reactivated(
    personas: Personas, admin: Client
) -> None:
    nurse = login_client(Client(), personas.nurse)
    confirm = admin.get(_url("staff_deactivate", personas.nurse))
    assert b"kept, not deleted" in confirm.content
    admin.post(_url("staff_deactivate", personas.nurse))
    assert User.objects.filter(pk=personas.nurse.pk, is_active=False).exists()
    assert nurse.get("/")["Location"].startswith(LOGIN)
    assert Client().post(LOGIN, {"username": "nora", "password": PASSWORD}).status_code == 400
    (event,) = _staff_events("deactivated")
    assert event.detail["name"] == "Nora" and event.detail["username"] == "nora"
    admin.post(_url("staff_reactivate", personas.nurse))
    assert Client().post(LOGIN, {"username": "nora", "password": PASSWORD}).status_code == 302
    assert len(_staff_events("reactivated")) == 1


def test_changing_role_and_location_is_audited(personas: Personas, admin: Client) -> None:
    site = Location.objects.create(clinic=personas.clinic, name="Northside")
    admin.post(
        _url("staff_edit", personas.front_desk),
        {
            "first_name": "Alice",
            "last_name": "Ames",
            "email": "",
            "role": Role.SUPERVISOR,
            "location": site.pk,
        },
    )
    personas.front_desk.refresh_from_db()
    assert personas.front_desk.role == Role.SUPERVISOR and personas.front_desk.location == site
    (event,) = _staff_events("changed")
    assert event.detail["changed"]["role"] == [Role.FRONT_DESK, Role.SUPERVISOR]
    assert event.detail["changed"]["location"] == ["", "Northside"]


# --- Self-protection ------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["staff_lock", "staff_deactivate", "staff_password"])
def test_an_administrator_cannot_lock_deactivate_or_reset_themselves(
    personas: Personas, admin: Client, change: str
) -> None:
    response = admin.post(_url(change, personas.admin), follow=True)
    assert b"You cannot" in response.content
    personas.admin.refresh_from_db()
    assert personas.admin.is_active and personas.admin.locked_at is None
    assert personas.admin.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(object_type="staff_account").exists()


def test_an_administrator_cannot_demote_themselves(personas: Personas, admin: Client) -> None:
    response = admin.post(
        _url("staff_edit", personas.admin),
        {"first_name": "Adam", "last_name": "", "role": Role.SUPERVISOR},
    )
    assert response.status_code == 400
    assert b"You cannot take the administrator role" in response.content
    personas.admin.refresh_from_db()
    assert personas.admin.role == Role.ADMIN


def test_the_clinics_last_active_administrator_cannot_be_removed(personas: Personas) -> None:
    # Through the pages an administrator acting on another is never the last one; the rule
    # holds the services too, for two administrators removing each other at the same moment.
    ada = staff_create(clinic=personas.clinic, username="ada", password=PASSWORD, role=Role.ADMIN)
    context = audit_context_for(ada)
    services.staff_deactivate(context=context, actor=ada, member=personas.admin)  # two: fine
    services.staff_reactivate(context=context, actor=ada, member=personas.admin)
    User.objects.filter(pk=ada.pk).update(is_active=False)  # adam removed ada meanwhile
    for remove in (services.staff_deactivate, services.staff_lock):
        with pytest.raises(services.StaffChangeRefusedError, match="only active administrator"):
            remove(context=context, actor=ada, member=personas.admin)
    with pytest.raises(services.StaffChangeRefusedError, match="only active administrator"):
        services.staff_update(
            context=context,
            actor=ada,
            member=personas.admin,
            first_name="Adam",
            last_name="",
            email="",
            role=Role.SUPERVISOR,
            location=None,
        )
    personas.admin.refresh_from_db()
    assert personas.admin.is_active and personas.admin.role == Role.ADMIN
    assert personas.admin.locked_at is None


def test_a_locked_administrator_does_not_count_as_the_clinics_administrator(
    personas: Personas, admin: Client
) -> None:
    ada = staff_create(clinic=personas.clinic, username="ada", password=PASSWORD, role=Role.ADMIN)
    admin.post(_url("staff_lock", ada))
    context = audit_context_for(ada)
    with pytest.raises(services.StaffChangeRefusedError):
        services.staff_deactivate(context=context, actor=ada, member=personas.admin)


# --- Another clinic -----------------------------------------------------------------------------


def test_an_administrator_of_another_clinic_finds_no_such_member(personas: Personas) -> None:
    outsider = staff_create(
        clinic=personas.other_clinic, username="otto", password=PASSWORD, role=Role.ADMIN
    )
    client = login_client(Client(), outsider)
    for name in ["staff_detail", "staff_edit", "staff_lock", "staff_password", "staff_deactivate"]:
        assert client.get(_url(name, personas.nurse)).status_code == 404, name
        assert client.post(_url(name, personas.nurse)).status_code == 404, name
    assert b"nora" not in client.get(reverse("accounts:staff_list")).content
    personas.nurse.refresh_from_db()
    assert personas.nurse.is_active and personas.nurse.locked_at is None
    assert not AuditEvent.objects.filter(object_type="staff_account").exists()


def test_other_roles_are_refused_the_staff_pages(personas: Personas) -> None:
    for role, user in personas.by_role().items():
        if role == Role.ADMIN:
            continue
        client = login_client(Client(), user)
        assert client.post(_url("staff_lock", personas.nurse)).status_code == 403, role
    personas.nurse.refresh_from_db()
    assert personas.nurse.locked_at is None
