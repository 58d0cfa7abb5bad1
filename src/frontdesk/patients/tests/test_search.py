from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.clinic.models import Clinic
from frontdesk.patients.forms import RegistrationForm
from frontdesk.patients.models import Coverage, Patient, Payer
from frontdesk.patients.selectors import parse_search_query, patient_search


@pytest.fixture
def smiths(personas: Personas) -> dict[str, object]:
    return {
        "john": make_patient(
            personas.clinic,
            given_name="John",
            family_name="Smith",
            birth_date=dt.date(1980, 1, 2),
            phone="+12025550143",
        ),
        "joanna": make_patient(
            personas.clinic,
            given_name="Joanna",
            family_name="Smithers",
            birth_date=dt.date(1975, 6, 30),
            phone="+13125550199",
        ),
        "jones": make_patient(
            personas.clinic,
            given_name="Smith",
            family_name="Jones",
            birth_date=dt.date(1990, 3, 4),
            phone="+16175550111",
        ),
        "elsewhere": make_patient(
            personas.other_clinic,
            given_name="John",
            family_name="Smith",
            birth_date=dt.date(1980, 1, 2),
        ),
    }


def _names(user: User, query: str) -> list[str]:
    _, results = patient_search(user, query)
    return [f"{p.given_name} {p.family_name}" for p in results]


@pytest.mark.parametrize("query", ["smith jo", "jo smith", "Smith, John", "SMITH, JO"])
def test_it_finds_a_patient_from_name_fragments_in_any_order(
    personas: Personas, smiths: dict[str, object], query: str
) -> None:
    assert "John Smith" in _names(personas.front_desk, query)


def test_an_exact_surname_ranks_before_a_longer_one(
    personas: Personas, smiths: dict[str, object]
) -> None:
    names = _names(personas.front_desk, "smith")
    assert names[0] == "John Smith"
    assert set(names) == {"John Smith", "Joanna Smithers", "Smith Jones"}


@pytest.mark.parametrize(
    "query",
    [
        "1980-01-02",
        "01/02/1980",
        "1/2/1980",
        "01-02-1980",
        "01.02.1980",
        "Jan 2 1980",
        "January 2, 1980",
        "2 January 1980",
        "2 Jan 1980",
    ],
)
def test_it_finds_a_patient_by_birth_date_in_common_forms(
    personas: Personas, smiths: dict[str, object], query: str
) -> None:
    assert _names(personas.front_desk, query) == ["John Smith"]


@pytest.mark.parametrize(
    "typed",
    [
        "05-05-1986",
        "5/5/1986",
        "05.05.1986",
        "1986-05-05",
        "May 5 1986",
        "5 May 1986",
        "May 5, 1986",
    ],
)
def test_every_birth_date_registration_accepts_finds_the_patient(
    personas: Personas, typed: str
) -> None:
    form = RegistrationForm(data={"birth_date": typed})
    form.is_valid()
    assert "birth_date" not in form.errors  # registration reads it...
    assert form.cleaned_data["birth_date"] == dt.date(1986, 5, 5)
    make_patient(
        personas.clinic, given_name="Lena", family_name="Park", birth_date=dt.date(1986, 5, 5)
    )
    assert _names(personas.front_desk, typed) == ["Lena Park"]  # ...and so does search


def test_a_month_first_date_is_read_day_first_when_the_clinic_says_so(
    personas: Personas, settings: object
) -> None:
    make_patient(
        personas.clinic, given_name="Lena", family_name="Park", birth_date=dt.date(1986, 4, 5)
    )
    assert _names(personas.front_desk, "04-05-1986") == ["Lena Park"]
    settings.DATE_INPUT_ORDER = "DMY"  # type: ignore[attr-defined]
    assert _names(personas.front_desk, "05-04-1986") == ["Lena Park"]
    assert _names(personas.front_desk, "5 April 1986") == ["Lena Park"]


def test_day_first_dates_follow_the_clinic_setting(
    personas: Personas, smiths: dict[str, object], settings: object
) -> None:
    settings.DATE_INPUT_ORDER = "DMY"  # type: ignore[attr-defined]
    assert _names(personas.front_desk, "30/06/1975") == ["Joanna Smithers"]


@pytest.mark.parametrize("query", ["(202) 555-0143", "202-555-0143", "+1 202 555 0143", "0143"])
def test_it_finds_a_patient_by_phone_in_any_format(
    personas: Personas, smiths: dict[str, object], query: str
) -> None:
    assert _names(personas.front_desk, query) == ["John Smith"]


def test_it_finds_a_patient_by_mrn(personas: Personas, smiths: dict[str, object]) -> None:
    john = smiths["john"]
    assert _names(personas.front_desk, john.mrn) == ["John Smith"]  # type: ignore[attr-defined]


def test_it_never_shows_another_clinics_patients(
    personas: Personas, smiths: dict[str, object]
) -> None:
    _, results = patient_search(personas.outsider, "smith")
    assert results == [smiths["elsewhere"]]


def test_it_shows_at_most_twenty_results(personas: Personas) -> None:
    for i in range(25):
        make_patient(personas.clinic, family_name="Nguyen", given_name=f"Anh{i}")
    assert len(_names(personas.front_desk, "nguyen")) == 20


def test_the_query_parser_reads_what_was_typed() -> None:
    assert parse_search_query("  Smith ,  John ").family == "Smith"
    assert parse_search_query("2023-02-30").birth_date is None  # not a date: searched as text
    assert parse_search_query("").text == ""
    assert len(parse_search_query("x" * 500).text) == 100


def test_the_results_page_masks_phones_and_shows_age_and_mrn(
    personas: Personas, smiths: dict[str, object], client_for: Callable[[User], Client]
) -> None:
    html = client_for(personas.front_desk).get("/patients/", {"q": "smith jo"}).content.decode()
    assert "+12025550143" not in html and "0143" in html
    assert smiths["john"].mrn in html  # type: ignore[attr-defined]


def test_the_search_page_uses_a_fixed_number_of_queries(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.front_desk)
    client.get("/patients/", {"q": "warm the session"})
    for i in range(15):
        make_patient(personas.clinic, family_name="Okafor", given_name=f"Chi{i}")
    with CaptureQueriesContext(connection) as few:
        client.get("/patients/", {"q": "okafor"})
    for i in range(15, 20):
        make_patient(personas.clinic, family_name="Okafor", given_name=f"Chi{i}")
    with CaptureQueriesContext(connection) as more:
        client.get("/patients/", {"q": "okafor"})
    assert len(few) == len(more)
    assert len(more) <= 14


def test_htmx_searches_get_only_the_results_fragment(
    personas: Personas, smiths: dict[str, object], client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).get(
        "/patients/", {"q": "smith"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html and "Smithers" in html


def test_no_match_says_so_in_plain_words(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    html = client_for(personas.front_desk).get("/patients/", {"q": "zzyzx"}).content.decode()
    assert "No patient matches" in html


def test_one_typo_in_the_family_name_still_finds_the_patient(
    personas: Personas, smiths: dict[str, object]
) -> None:
    make_patient(personas.clinic, given_name="Grace", family_name="Johnson")
    assert _names(personas.front_desk, "jonhson") == ["Grace Johnson"]  # letters swapped
    assert _names(personas.front_desk, "johnsen grace") == ["Grace Johnson"]
    assert _names(personas.front_desk, "smiht") == ["John Smith"]


def test_exact_then_prefix_then_typo_matches(personas: Personas) -> None:
    make_patient(personas.clinic, given_name="Ann", family_name="Lee")
    make_patient(personas.clinic, given_name="Bo", family_name="Leeds")
    make_patient(personas.clinic, given_name="Cy", family_name="Lea")
    assert _names(personas.front_desk, "lee") == ["Ann Lee", "Bo Leeds"]


def test_accents_hyphens_and_apostrophes_do_not_matter(personas: Personas) -> None:
    make_patient(personas.clinic, given_name="José", family_name="Núñez-O'Brien")
    assert _names(personas.front_desk, "nunez obrien") == ["José Núñez-O'Brien"]
    assert _names(personas.front_desk, "Núñez, jose") == ["José Núñez-O'Brien"]


def test_a_preferred_name_or_a_previous_family_name_finds_the_patient(personas: Personas) -> None:
    from frontdesk.patients.indexing import alias_derive_fields
    from frontdesk.patients.models import PatientAlias

    patient = make_patient(
        personas.clinic, given_name="Elizabeth", family_name="Warren", preferred_name="Liz"
    )
    alias_derive_fields(PatientAlias(patient=patient, family_name="Herring")).save()
    assert _names(personas.front_desk, "warren liz") == ["Elizabeth Warren"]
    assert _names(personas.front_desk, "herring") == ["Elizabeth Warren"]


def test_merged_and_inactive_records_are_not_listed(personas: Personas) -> None:
    survivor = make_patient(personas.clinic, given_name="Ann", family_name="Okoro")
    make_patient(
        personas.clinic,
        given_name="Anne",
        family_name="Okoro",
        merged_into=survivor,
        is_active=False,
    )
    assert _names(personas.front_desk, "okoro") == ["Ann Okoro"]


def test_an_iso_date_is_never_read_as_an_mrn() -> None:
    from frontdesk.patients.mrn import mrn_is_valid

    dates = [f"1995-04-{day:02d}" for day in range(1, 31)]
    looks_like_mrn = [d for d in dates if mrn_is_valid(d.replace("-", ""))]
    assert looks_like_mrn  # some dates do pass the check digit
    for text in looks_like_mrn:
        parsed = parse_search_query(text)
        assert parsed.mrn is None and parsed.birth_date is not None


def test_a_typo_shows_the_nearest_family_names_first(personas: Personas) -> None:
    make_patient(personas.clinic, given_name="Ann", family_name="Smith")
    for i in range(25):
        make_patient(personas.clinic, given_name=f"Bo{i}", family_name="Smit")
    names = _names(personas.front_desk, "smity")
    assert "Ann Smith" in names


def test_family_name_prefixes_rank_before_given_name_prefixes(personas: Personas) -> None:
    make_patient(personas.clinic, given_name="Tyler", family_name="Adams")
    make_patient(personas.clinic, given_name="Zed", family_name="Tyles")
    assert _names(personas.front_desk, "tyle") == ["Zed Tyles", "Tyler Adams"]


def test_a_word_that_only_given_names_start_with_still_shows_the_family_one_typo_away(
    personas: Personas,
) -> None:
    for i in range(25):
        make_patient(personas.clinic, given_name="Michelle", family_name=f"Adams{chr(97 + i)}")
    make_patient(personas.clinic, given_name="Kathy", family_name="Mitchell")
    names = _names(personas.front_desk, "michell")
    assert len(names) == 20
    assert names[-1] == "Kathy Mitchell"  # after the names that start so
    assert names[:15] == [f"Michelle Adams{chr(97 + i)}" for i in range(15)]


@pytest.mark.parametrize("michelles", [15, 17, 19, 25])
def test_as_many_rows_are_kept_for_the_family_one_typo_away_however_many_given_names_match(
    personas: Personas, michelles: int
) -> None:
    for i in range(michelles):
        make_patient(personas.clinic, given_name="Michelle", family_name=f"Adams{chr(97 + i)}")
    for given in ("Ann", "Bea", "Cy", "Di", "Ed", "Flo"):
        make_patient(personas.clinic, given_name=given, family_name="Mitchell")
    names = _names(personas.front_desk, "michell")
    shown = [n for n in names if n.endswith("Mitchell")]
    assert len(names) == 20
    assert len(shown) == max(5, 20 - michelles)
    assert names[-len(shown) :] == shown  # after the names that start so


def test_a_family_name_that_starts_so_needs_no_room_kept_for_typos(personas: Personas) -> None:
    for i in range(25):
        make_patient(personas.clinic, given_name=f"Bo{chr(97 + i)}", family_name="Michellson")
    make_patient(personas.clinic, given_name="Kathy", family_name="Mitchell")
    names = _names(personas.front_desk, "michell")
    assert "Kathy Mitchell" not in names and len(names) == 20


class TestMemberIdSearch:
    def _insured(self, clinic: Clinic, member_id: str, **names: str) -> Patient:
        patient = make_patient(clinic, **names)
        payer = Payer.objects.create(clinic=clinic, name="Blue Harbor Health")
        Coverage.objects.create(patient=patient, payer=payer, rank=1, member_id=member_id)
        return patient

    @pytest.mark.parametrize(
        "typed", ["XWH-48213-77", "xwh4821377", "XWH 4821 377", "xwh.48213.77"]
    )
    def test_a_member_id_finds_the_patient_whatever_the_case_and_separators(
        self, personas: Personas, typed: str
    ) -> None:
        self._insured(personas.clinic, "XWH4821377", given_name="Ines", family_name="Duarte")
        assert _names(personas.front_desk, typed) == ["Ines Duarte"]

    def test_a_member_id_stored_with_hyphens_is_found_without_them(
        self, personas: Personas
    ) -> None:
        self._insured(personas.clinic, "XWH-482-1377", given_name="Ines", family_name="Duarte")
        assert _names(personas.front_desk, "XWH4821377") == ["Ines Duarte"]

    def test_another_clinics_patient_with_the_same_member_id_is_not_shown(
        self, personas: Personas
    ) -> None:
        self._insured(personas.clinic, "XWH4821377", given_name="Ines", family_name="Duarte")
        self._insured(personas.other_clinic, "XWH4821377", given_name="Olga", family_name="Berg")
        assert _names(personas.front_desk, "XWH4821377") == ["Ines Duarte"]
        assert _names(personas.outsider, "XWH4821377") == ["Olga Berg"]

    def test_a_member_id_on_a_merged_record_finds_the_record_kept(self, personas: Personas) -> None:
        survivor = make_patient(personas.clinic, given_name="Ines", family_name="Duarte")
        merged = self._insured(
            personas.clinic, "XWH4821377", given_name="Inês", family_name="Duarte"
        )
        Patient.objects.filter(pk=merged.pk).update(merged_into=survivor, is_active=False)
        assert _names(personas.front_desk, "XWH4821377") == ["Ines Duarte"]

    def test_a_member_id_search_is_audited_with_the_patient_found(
        self, personas: Personas, client_for: Callable[[User], Client]
    ) -> None:
        patient = self._insured(
            personas.clinic, "XWH4821377", given_name="Ines", family_name="Duarte"
        )
        html = (
            client_for(personas.front_desk).get("/patients/", {"q": "xwh-4821377"}).content.decode()
        )
        assert "Duarte" in html
        event = AuditEvent.objects.get(object_type="patient_search")
        assert event.patient_ids == [patient.pk]
