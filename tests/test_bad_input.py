"""Arbitrary input to every page and form never produces a server error."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import Personas, login_client, make_patient
from frontdesk.accounts.policy import PUBLIC, Action, role_may
from frontdesk.accounts.roles import Role

# `samples` is the policy test's fixture: one record of every kind a URL can name.
from tests.test_policy import ROUTES, SAMPLE_KWARGS, Route, Samples, samples  # noqa: F401

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=300,
)
HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HYPOTHESIS
@given(username=TEXT, password=TEXT, extra=st.dictionaries(TEXT, TEXT, max_size=3))
def test_the_sign_in_form_survives_any_input(
    personas: Personas, username: str, password: str, extra: dict[str, str]
) -> None:
    data = {**extra, "username": username, "password": password}
    response = Client().post("/accounts/login/", data)
    assert response.status_code in (200, 302, 400, 429)


@HYPOTHESIS
@given(query=TEXT)
def test_the_search_box_survives_any_input(personas: Personas, query: str) -> None:
    client = login_client(Client(), personas.front_desk)
    response = client.get("/patients/", {"q": query})
    assert response.status_code == 200
    htmx = client.get("/patients/", {"q": query}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200


@pytest.mark.parametrize("query", ["\x00", "9" * 200, "02/30/2020", "+", "%", "_", "'; drop"])
def test_awkward_searches_are_answered_not_crashed(personas: Personas, query: str) -> None:
    client = login_client(Client(), personas.front_desk)
    assert client.get("/patients/", {"q": query}).status_code == 200


REGISTRATION_TEXT_FIELDS = [
    "given_name",
    "middle_name",
    "family_name",
    "suffix",
    "preferred_name",
    "birth_date",
    "phone",
    "phone_alt",
    "email",
    "address_line1",
    "city",
    "state",
    "postal_code",
    "preferred_language",
    "emergency_contact_name",
    "emergency_contact_phone",
    "guarantor_name",
    "guarantor_phone",
    "alert_note",
    "previous_family_name",
]
CHOICE_FIELDS = [
    "sex",
    "phone_kind",
    "country",
    "preferred_contact",
    "guarantor_relationship",
    "confidentiality",
    "step",
]
PRINTABLE = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=60
)


@HYPOTHESIS
@given(
    texts=st.fixed_dictionaries({}, optional=dict.fromkeys(REGISTRATION_TEXT_FIELDS, TEXT)),
    choices=st.fixed_dictionaries({}, optional=dict.fromkeys(CHOICE_FIELDS, TEXT)),
)
def test_the_registration_form_survives_any_input(
    personas: Personas, texts: dict[str, str], choices: dict[str, str]
) -> None:
    client = login_client(Client(), personas.front_desk)
    response = client.post("/patients/register/", {**texts, **choices})
    assert response.status_code in (200, 302, 400, 409)


@HYPOTHESIS
@given(value=PRINTABLE)
def test_a_refused_registration_keeps_what_was_typed(personas: Personas, value: str) -> None:
    from django.utils.html import escape

    client = login_client(Client(), personas.front_desk)
    data = {
        "given_name": "Ann",
        "family_name": value,
        "birth_date": "not a date",
        "address_line1": value,
        "step": "review",
    }
    response = client.post("/patients/register/", data)
    assert response.status_code == 400
    html = response.content.decode()
    kept = " ".join(value.split())
    if kept:
        assert escape(kept) in html or escape(value) in html


@HYPOTHESIS
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                "rank",
                "payer",
                "plan_name",
                "member_id",
                "group_number",
                "subscriber_name",
                "relationship",
                "subscriber_birth_date",
                "effective_date",
                "end_date",
            ]
        ),
        TEXT,
    )
)
def test_the_insurance_form_survives_any_input(personas: Personas, data: dict[str, str]) -> None:
    from conftest import make_patient

    patient = make_patient(personas.clinic)
    client = login_client(Client(), personas.front_desk)
    response = client.post(f"/patients/{patient.pk}/coverages/new/", data)
    assert response.status_code in (302, 400)


@HYPOTHESIS
@given(name=TEXT, pattern=TEXT, example=TEXT, reason=TEXT, mrn=TEXT)
def test_the_payer_break_glass_and_merge_forms_survive_any_input(
    personas: Personas, name: str, pattern: str, example: str, reason: str, mrn: str
) -> None:
    from conftest import make_patient

    admin = login_client(Client(), personas.admin)
    response = admin.post(
        "/patients/payers/new/",
        {"name": name, "member_id_pattern": pattern, "member_id_example": example},
    )
    assert response.status_code in (302, 400)
    patient = make_patient(personas.clinic, confidentiality="restricted")
    desk = login_client(Client(), personas.front_desk)
    glass = desk.post(f"/patients/{patient.pk}/break-glass/", {"reason": reason, "next": reason})
    assert glass.status_code in (302, 400)
    supervisor = login_client(Client(), personas.supervisor)
    supervisor.post(f"/patients/{patient.pk}/break-glass/", {"reason": "supervisor review here"})
    merge = supervisor.get(f"/patients/{patient.pk}/merge/", {"mrn": mrn})
    assert merge.status_code in (200, 302, 400)


@HYPOTHESIS
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "appointment_type",
                "provider",
                "location",
                "date_from",
                "weekdays",
                "time_of_day",
                "appointment",
                "date",
            ]
        ),
        TEXT,
    ),
    post=st.dictionaries(
        st.sampled_from(
            [
                "schedule",
                "appointment_type",
                "start",
                "overbook_reason",
                "confirm_overlap",
                "cancelled_by",
                "reason",
            ]
        ),
        TEXT,
    ),
    action=st.sampled_from(["confirm", "cancel", "no-show", "move", "other"]),
)
def test_the_scheduling_pages_survive_any_input(
    personas: Personas, params: dict[str, str], post: dict[str, str], action: str
) -> None:
    from conftest import make_patient

    patient = make_patient(personas.clinic)
    client = login_client(Client(), personas.front_desk)
    assert client.get("/schedule/", params).status_code == 200
    assert client.get(f"/schedule/patients/{patient.pk}/find/", params).status_code in (
        200,
        400,
        404,
    )
    assert client.post(f"/schedule/patients/{patient.pk}/book/", post).status_code in (
        302,
        404,
        409,
    )
    assert client.post(f"/schedule/appointments/1/{action}/", post).status_code in (302, 400, 404)


@pytest.mark.parametrize("length", [151, 256, 5000])
def test_it_refuses_an_overlong_username_at_sign_in_in_words(
    personas: Personas, length: int
) -> None:
    response = Client().post("/accounts/login/", {"username": "a" * length, "password": "x"})
    assert response.status_code == 400
    assert "A username is at most 150 characters" in response.content.decode()


def test_it_strips_nul_bytes_from_every_query_form_and_cookie_value(personas: Personas) -> None:
    patient = make_patient(personas.clinic, family_name="Nulling")
    client = login_client(Client(), personas.front_desk)
    found = client.get("/patients/", {"q": "Null\x00ing"})
    assert found.status_code == 200
    assert f"/patients/{patient.pk}/" in found.content.decode()
    posted = client.post(
        f"/patients/{patient.pk}/break-glass/", {"reason": "\x00" * 3, "next\x00": "\x00"}
    )
    assert posted.status_code in (302, 400)
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get("/patients/").status_code == 302  # as if no session had been sent


# --- Every page, every form ----------------------------------------------------------------
# Each URL pattern is opened as a role the policy allows there (or anonymously when public),
# with junk in every query parameter the code reads and every field of every form the page
# shows, posted back to where the form posts. Ids in the URL are replaced by junk too. The
# answer may refuse, redirect or say "not found"; it is never a server error.

JUNK_VALUES = [
    "9" * 5000,
    "²",
    "١٢",
    str(2**63 + 1),
    str(2**63 - 1),
    "-1",
    "0",
    "\x00",
    "1\x00",
    "a" * 256,
    "",
    " ",
    "1e400",
    "NaN",
    "2026-02-30",
    "99:99",
    "<b>",
    "%",
    "'",
    "true",
]
JUNK = st.one_of(st.sampled_from(JUNK_VALUES), st.text(max_size=40))
JUNK_IDS = ["9" * 5000, "%C2%B2", str(2**63 + 1), "0"]
# Every name the views read from a query string or a posted form themselves.
_READ = re.compile(r"""request\.(?:GET|POST)(?:\.get|\.getlist|\[)\(?["']([A-Za-z_:]+)["']""")
READ_NAMES = sorted(
    {
        name
        for path in Path(__file__).resolve().parent.parent.glob("src/frontdesk/**/*.py")
        for name in _READ.findall(path.read_text())
    }
)
PAGES = settings(
    max_examples=3,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class _Forms(HTMLParser):
    """The forms of a page: where each posts, its method, and its fields with a value each
    (several for checkboxes and multiple selects)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get")})
            self.forms[-1]["fields"] = {}
            self.forms[-1]["multiple"] = set()
        if not self.forms or ("name" not in a and tag != "option"):
            return
        fields, multiple = self.forms[-1]["fields"], self.forms[-1]["multiple"]
        if tag in ("input", "textarea", "select"):
            name = a["name"]
            fields.setdefault(name, [])
            if tag == "select":
                self._select = name
                if "multiple" in a:
                    multiple.add(name)
            elif a.get("type") == "checkbox":
                multiple.add(name)
                fields[name].append(a.get("value", "on"))
            elif a.get("type") not in ("file", "submit", "button"):
                fields[name].append(a.get("value", ""))
        elif tag == "option" and self._select is not None:
            fields.setdefault(self._select, []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _page_forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _client_for(route: Route, personas: Personas) -> Client:
    action = route.callback.policy_action  # type: ignore[attr-defined]
    if action == PUBLIC:
        return Client()
    allowed = [u for r, u in personas.by_role().items() if role_may(Role(r), Action(action))]
    return login_client(Client(), allowed[0])


def _sample_url(route: Route, sample: Samples) -> str:
    return reverse(route.name, kwargs={p: SAMPLE_KWARGS[p](sample) for p in route.parameters})


def _no_server_error(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
@PAGES
@given(data=st.data())
def test_every_page_and_form_survives_junk(
    route: Route, personas: Personas, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    sample: Samples = request.getfixturevalue("samples")
    url = _sample_url(route, sample)
    client = _client_for(route, personas)
    query = data.draw(st.dictionaries(st.sampled_from(READ_NAMES), JUNK, max_size=4))
    page = client.get(url, query)
    _no_server_error(page, f"GET {url} {sorted(query)}")
    plain = client.get(url)
    _no_server_error(plain, f"GET {url}")
    # An event stream has no forms (and no end to read to).
    has_page = plain.status_code == 200 and not plain.streaming
    forms = _page_forms(plain.content.decode(errors="replace")) if has_page else []
    if not forms or plain.status_code == 405:
        forms = [{"action": "", "method": "post", "fields": {}, "multiple": set()}]
    for form in forms:
        fields: dict[str, list[str]] = form["fields"]
        names = sorted(fields) or READ_NAMES
        junk = data.draw(st.dictionaries(st.sampled_from(names), JUNK, min_size=1))
        posted: dict[str, Any] = {n: v[:1] for n, v in fields.items() if v}
        for name, value in junk.items():
            many = name in form["multiple"]
            posted[name] = [*fields.get(name, [])[:1], value, str(2**63 + 1)] if many else value
        target = urljoin(url, form["action"]) if form["action"] else url
        if urlsplit(target).netloc:
            continue
        if form["method"].lower() == "post":
            response = client.post(target, posted)
        else:
            response = client.get(target, posted)
        _no_server_error(response, f"{form['method'].upper()} {target} {sorted(junk)}")


# The kinds of junk that once made server errors, each sent to every field and parameter.
NAMED_JUNK = ["9" * 5000, "²", str(2**63 + 1), "a\x00b", "a" * 256]


def _submit(client: Client, url: str, form: dict[str, Any], values: dict[str, Any]) -> Any:
    target = urljoin(url, form["action"]) if form["action"] else url
    if form["method"].lower() == "post":
        return client.post(target, values)
    return client.get(target, values)


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_every_page_and_form_refuses_each_named_kind_of_junk(
    route: Route, personas: Personas, request: pytest.FixtureRequest
) -> None:
    sample: Samples = request.getfixturevalue("samples")
    url = _sample_url(route, sample)
    client = _client_for(route, personas)
    plain = client.get(url)
    # An event stream has no forms (and no end to read to).
    has_page = plain.status_code == 200 and not plain.streaming
    forms = _page_forms(plain.content.decode(errors="replace")) if has_page else []
    if not forms:  # a form posted from another page, or an action: the names the code reads
        forms = [{"action": "", "method": "post", "fields": {}, "multiple": set()}]
    for junk in NAMED_JUNK:
        _no_server_error(client.get(url, dict.fromkeys(READ_NAMES, junk)), f"GET {url} {junk!r:.9}")
        for form in forms:
            fields: dict[str, list[str]] = form["fields"] or {n: [] for n in READ_NAMES}
            kept = {n: v[:1] for n, v in fields.items() if v}
            every = {
                n: [*v[:1], junk, str(2**63 + 1)] if n in form["multiple"] else junk
                for n, v in fields.items()
            }
            _no_server_error(_submit(client, url, form, every), f"{url} all {junk!r:.9}")
            # A field that names a record, alone junk, so the rest of the form is acted on.
            for name in [n for n, v in fields.items() if v and v[0].isdigit()]:
                one = {**kept, name: junk}
                _no_server_error(_submit(client, url, form, one), f"{url} {name} {junk!r:.9}")


MARK = 987654321987


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.parameters], ids=[r.name for r in ROUTES if r.parameters]
)
def test_every_id_in_a_url_refuses_junk_with_not_found(route: Route, personas: Personas) -> None:
    client = _client_for(route, personas)
    ids = [p for p in route.parameters if p.endswith("_id")]  # the <id:...> ones
    # Ids are never looked up here (each is junk in turn, the others a number nobody has).
    others = {p: SAMPLE_KWARGS[p](None) for p in route.parameters if p not in ids}  # type: ignore[arg-type]
    for name in ids:
        marked = reverse(route.name, kwargs={**others, **dict.fromkeys(ids, MARK + 1), name: MARK})
        for junk in JUNK_IDS:
            response = client.get(marked.replace(str(MARK), junk))
            assert response.status_code in (302, 404), (route.name, name, junk[:20])
