"""The bar: the day's work in one row of links, set-up and rules folded under "Settings"."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import Personas, login_client
from frontdesk.accounts.models import User


def _bar(html: str) -> tuple[list[str], list[str]]:
    nav = html[html.index('<nav class="mainnav"') : html.index("</nav>")]
    menu = nav[nav.index('<li class="navmore">') :] if 'class="navmore"' in nav else ""
    inline = nav[: len(nav) - len(menu)]
    link = re.compile(r"<a href=\"[^\"]+\"[^>]*>([^<]+)</a>")
    return link.findall(inline), link.findall(menu)


def test_the_supervisors_set_up_pages_fold_under_settings(
    client: Client, personas: Personas
) -> None:
    login_client(client, personas.supervisor)
    inline, settings = _bar(client.get("/desk/").content.decode())
    assert {"Desk queue", "Complaints", "Drawers and deposits"} <= set(inline)
    assert {"Set-up", "Playbooks", "My account"} <= set(settings)
    assert not set(inline) & set(settings)


def test_the_settings_menu_is_marked_current_on_one_of_its_pages(
    client: Client, personas: Personas
) -> None:
    login_client(client, personas.supervisor)
    html = client.get("/playbooks/").content.decode()
    assert '<summary class="current">Settings</summary>' in html
    assert '<summary class="current">' not in client.get("/desk/").content.decode()


def test_every_role_reaches_its_own_account_from_the_settings_menu(
    client: Client, personas: Personas
) -> None:
    for user in personas.by_role().values():
        login_client(client, user)
        _, settings = _bar(client.get("/accounts/account/").content.decode())
        assert "My account" in settings, user.role
        client.logout()


def test_a_supervisor_setting_up_two_step_sign_in_sees_no_links_that_only_lead_back(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.supervisor)  # the password, not yet the second step
    html = client.get("/accounts/two-factor/").content.decode()
    assert "Set up two-step sign-in" in html
    assert 'class="mainnav"' not in html  # no navigation at all, not an empty one
    assert 'id="global-search"' not in html
    assert "Sign out" in html
    # Set up (the page's own device confirmed), the navigation is back.
    TOTPDevice.objects.filter(user=personas.supervisor).update(confirmed=True)
    verified = login_client(Client(), personas.supervisor)
    inline, _ = _bar(verified.get("/desk/").content.decode())
    assert "Desk queue" in inline


def test_a_temporary_password_page_shows_no_links_until_a_new_one_is_chosen(
    client: Client, personas: Personas
) -> None:
    User.objects.filter(pk=personas.nurse.pk).update(must_change_password=True)
    client.force_login(personas.nurse)
    html = client.get(reverse("accounts:password_change")).content.decode()
    assert 'class="mainnav"' not in html  # no navigation at all, not an empty one
    assert 'id="global-search"' not in html
    User.objects.filter(pk=personas.nurse.pk).update(must_change_password=False)
    inline, _ = _bar(client.get("/").content.decode())
    assert inline
