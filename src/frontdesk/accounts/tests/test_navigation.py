"""The bar: the day's work in one row of links, set-up and rules folded under "Settings"."""

from __future__ import annotations

import re

from django.test import Client

from conftest import Personas, login_client


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
