"""The duplicates report: `frontdesk duplicates` and the scan behind it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.selectors import audit_events_for_patient
from frontdesk.clinic.models import Clinic
from frontdesk.patients import duplicates_report
from frontdesk.patients.duplicates import person_record_from_patient
from frontdesk.patients.duplicates_report import REPORT_COLUMNS, duplicates_report_export
from frontdesk.patients.duplicates_scan import (
    POSSIBLE,
    VERY_LIKELY,
    DuplicatePair,
    duplicate_pairs_find,
    min_score_parse,
)
from frontdesk.patients.matching.verdict import (
    EXISTING_PATIENT_THRESHOLD,
    WARNING_THRESHOLD,
    match_score,
)
from frontdesk.patients.models import Patient

HOME = {
    "address_line1": "221 Baker Street",
    "city": "Springfield",
    "postal_code": "62704",
    "state": "IL",
}


def robert(clinic: Clinic, **changes: Any) -> Patient:
    fields: dict[str, Any] = {
        "given_name": "Robert",
        "family_name": "Fitzgerald",
        "birth_date": dt.date(1984, 3, 7),
        "sex": "male",
        "phone": "+14155550132",
        "email": "robert.fitzgerald@example.org",
        **HOME,
    }
    fields.update(changes)
    return make_patient(clinic, **fields)


def bob_again(clinic: Clinic) -> Patient:
    """Robert registered again: a nickname, a typo in the family name, day and month swapped."""
    return robert(
        clinic,
        given_name="Bob",
        family_name="Fitzgerlad",
        birth_date=dt.date(1984, 7, 3),
        email="",
    )


def strangers(clinic: Clinic) -> list[Patient]:
    people = [
        ("Amara", "Nwosu", dt.date(1990, 11, 23), "female", "+12125550101", "4 Oak Avenue"),
        ("Henrik", "Larsen", dt.date(1957, 6, 14), "male", "+13125550199", "77 Pine Road"),
        ("Mei", "Tanaka", dt.date(2001, 2, 28), "female", "+16175550123", "12 Cedar Lane"),
        ("Diego", "Alvarez", dt.date(1972, 9, 5), "male", "+17135550150", "300 Maple Drive"),
    ]
    return [
        make_patient(
            clinic,
            given_name=given,
            family_name=family,
            birth_date=born,
            sex=sex,
            phone=phone,
            address_line1=street,
            city="Riverton",
            postal_code="84065",
            state="UT",
        )
        for given, family, born, sex, phone, street in people
    ]


def twins(clinic: Clinic) -> tuple[Patient, Patient]:
    home = {
        "family_name": "Okafor",
        "birth_date": dt.date(2015, 5, 20),
        "sex": "female",
        "phone": "+14155550177",
        "address_line1": "9 Elm Road",
        "city": "Springfield",
        "postal_code": "62704",
        "state": "IL",
    }
    return (
        make_patient(clinic, given_name="Emma", **home),
        make_patient(clinic, given_name="Olivia", **home),
    )


def moved_namesakes(clinic: Clinic) -> tuple[Patient, Patient]:
    """One name and birth date at two addresses with two phones: moved, or a namesake."""
    person = {"given_name": "Amara", "family_name": "Nwosu", "birth_date": dt.date(1979, 2, 14)}
    return (
        make_patient(clinic, phone="+14155550188", address_line1="3 Oak Lane", **person),
        make_patient(clinic, phone="+14155550199", address_line1="71 Pine Court", **person),
    )


def pair_mrns(pair: DuplicatePair) -> frozenset[str]:
    return frozenset((pair.mrn_a, pair.mrn_b))


def test_it_finds_a_re_registration_with_a_nickname_a_typo_and_a_swapped_date(
    personas: Personas,
) -> None:
    original = robert(personas.clinic)
    again = bob_again(personas.clinic)
    strangers(personas.clinic)

    pairs, stats = duplicate_pairs_find()

    assert [pair_mrns(p) for p in pairs] == [frozenset((original.mrn, again.mrn))]
    (pair,) = pairs
    assert pair.verdict == VERY_LIKELY
    assert pair.score >= EXISTING_PATIENT_THRESHOLD
    # The earlier registration comes first.
    assert (pair.mrn_a, pair.name_a, pair.birth_date_a) == (
        original.mrn,
        "Fitzgerald, Robert",
        dt.date(1984, 3, 7),
    )
    assert (pair.mrn_b, pair.name_b, pair.birth_date_b) == (
        again.mrn,
        "Fitzgerlad, Bob",
        dt.date(1984, 7, 3),
    )
    assert "nickname Bob = Robert" in pair.reasons
    assert "same birth date with day and month swapped" in pair.reasons
    assert stats.patients == 6
    assert stats.very_likely == 1
    assert stats.possible == 0


def test_it_leaves_twins_at_one_address_out_as_household_members(personas: Personas) -> None:
    twins(personas.clinic)

    pairs, _ = duplicate_pairs_find()

    assert pairs == []


def test_it_reports_one_name_and_birth_date_at_two_addresses_as_possible(
    personas: Personas,
) -> None:
    one, other = moved_namesakes(personas.clinic)

    pairs, _ = duplicate_pairs_find()

    assert [p.verdict for p in pairs] == [POSSIBLE]
    assert pairs[0].score < EXISTING_PATIENT_THRESHOLD
    assert {pair_mrns(p) for p in pairs} == {frozenset((one.mrn, other.mrn))}


def test_it_leaves_out_pairs_below_the_minimum(personas: Personas) -> None:
    robert(personas.clinic)
    bob_again(personas.clinic)
    moved_namesakes(personas.clinic)

    everything, _ = duplicate_pairs_find(min_score=WARNING_THRESHOLD)
    existing, _ = duplicate_pairs_find(min_score=EXISTING_PATIENT_THRESHOLD)

    assert {p.verdict for p in everything} == {VERY_LIKELY, POSSIBLE}
    assert [p.verdict for p in existing] == [VERY_LIKELY]


def test_it_does_not_report_unrelated_patients(personas: Personas) -> None:
    strangers(personas.clinic)
    make_patient(personas.clinic)  # John Smith, nobody else's details

    pairs, stats = duplicate_pairs_find()

    assert pairs == []
    assert stats.patients == 5


def test_it_reports_each_pair_once(personas: Personas) -> None:
    first = robert(personas.clinic)
    second = bob_again(personas.clinic)
    third = robert(personas.clinic, given_name="Rob", email="")
    twins(personas.clinic)
    strangers(personas.clinic)

    pairs, stats = duplicate_pairs_find()

    found = [pair_mrns(p) for p in pairs]
    assert len(found) == len(set(found)) == stats.pairs
    assert all(len(mrns) == 2 for mrns in found)
    for a, b in ((first, second), (first, third), (second, third)):
        assert frozenset((a.mrn, b.mrn)) in found


def test_it_scores_the_later_record_against_the_earlier_as_registration_did(
    personas: Personas,
) -> None:
    # With names transposed the scorer is not quite symmetric; the report must say what the
    # registration check said when the second record was registered.
    town = {"city": "Johnnymouth", "postal_code": "20030", "state": "DC", "sex": "male"}
    earlier = make_patient(
        personas.clinic,
        given_name="William",
        family_name="Johnson",
        birth_date=dt.date(1975, 5, 14),
        phone="+12698311956",
        address_line1="7156 David Wells",
        **town,
    )
    later = make_patient(
        personas.clinic,
        given_name="George",
        family_name="Williams",
        birth_date=dt.date(1975, 10, 9),
        phone="+18265084664",
        address_line1="1269 Sandra Motorway",
        **town,
    )

    (pair,), _ = duplicate_pairs_find(min_score=-1000.0, min_key_kinds=1)

    expected = match_score(person_record_from_patient(later), person_record_from_patient(earlier))
    assert pair.score == pytest.approx(expected.score)
    assert pair.reasons == expected.reasons
    assert (pair.mrn_a, pair.mrn_b) == (earlier.mrn, later.mrn)


def test_it_pairs_patients_of_one_clinic_only(personas: Personas) -> None:
    robert(personas.clinic)
    robert(personas.other_clinic)

    pairs, _ = duplicate_pairs_find()

    assert pairs == []


def test_it_limits_the_scan_to_one_clinic(personas: Personas) -> None:
    here = (robert(personas.clinic), bob_again(personas.clinic))
    there = (robert(personas.other_clinic), bob_again(personas.other_clinic))

    everywhere, _ = duplicate_pairs_find()
    one_clinic, stats = duplicate_pairs_find(clinic_id=personas.clinic.pk)

    assert {pair_mrns(p) for p in everywhere} == {
        frozenset(p.mrn for p in here),
        frozenset(p.mrn for p in there),
    }
    assert [pair_mrns(p) for p in one_clinic] == [frozenset(p.mrn for p in here)]
    assert stats.patients == 2


def test_it_skips_keys_shared_by_more_patients_than_the_cap(personas: Personas) -> None:
    # The same person three times: every key is shared by three patients.
    for _ in range(3):
        robert(personas.clinic)

    capped, capped_stats = duplicate_pairs_find(key_cap=2)
    uncapped, uncapped_stats = duplicate_pairs_find(key_cap=3)

    assert capped == []
    assert capped_stats.keys_skipped == capped_stats.keys > 0
    assert capped_stats.compared == 0
    assert len(uncapped) == 3
    assert uncapped_stats.keys_skipped == 0


def test_it_needs_keys_of_two_kinds_unless_told_otherwise(personas: Personas) -> None:
    # Same birth date and nothing else in common: one kind of key.
    born = dt.date(1990, 11, 23)
    a, b = strangers(personas.clinic)[:2]
    Patient.objects.filter(pk__in=[a.pk, b.pk]).update(birth_date=born)

    _, two_kinds = duplicate_pairs_find()
    _, one_kind = duplicate_pairs_find(min_key_kinds=1)

    assert two_kinds.compared == 0
    assert one_kind.compared == 1


def test_it_skips_inactive_patients(personas: Personas) -> None:
    robert(personas.clinic)
    merged = bob_again(personas.clinic)
    Patient.objects.filter(pk=merged.pk).update(is_active=False)

    pairs, stats = duplicate_pairs_find()

    assert pairs == []
    assert stats.patients == 1


def test_it_gives_the_same_pairs_with_worker_processes(personas: Personas) -> None:
    robert(personas.clinic)
    bob_again(personas.clinic)
    robert(personas.clinic, given_name="Rob", email="")
    twins(personas.clinic)
    strangers(personas.clinic)
    alone, _ = duplicate_pairs_find(workers=1)

    together, _ = duplicate_pairs_find(workers=2)

    assert sorted(together, key=lambda p: (p.mrn_a, p.mrn_b)) == sorted(
        alone, key=lambda p: (p.mrn_a, p.mrn_b)
    )


def test_it_writes_csv_with_a_header(personas: Personas) -> None:
    original = robert(personas.clinic)
    again = bob_again(personas.clinic)
    out = io.StringIO()

    duplicates_report_export(fmt="csv", output=None, stream=out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(REPORT_COLUMNS)
    assert len(rows) == 1
    row = rows[0]
    assert (row["mrn_a"], row["mrn_b"]) == (original.mrn, again.mrn)
    assert (row["birth_date_a"], row["birth_date_b"]) == ("1984-03-07", "1984-07-03")
    assert row["verdict"] == VERY_LIKELY
    assert float(row["score"]) >= EXISTING_PATIENT_THRESHOLD
    assert 0.999 <= float(row["probability"]) <= 1
    assert "nickname Bob = Robert; " in row["reasons"]


def test_the_csv_never_hands_a_spreadsheet_a_formula(personas: Personas) -> None:
    # Names come from other systems through the import; a spreadsheet would run this one.
    robert(personas.clinic, family_name="=Fitzgerald")
    robert(personas.clinic, family_name="=Fitzgerlad", given_name="Bob", email="")
    out = io.StringIO()

    duplicates_report_export(fmt="csv", output=None, stream=out)

    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["name_a"].startswith("'=Fitzger") and row["name_b"].startswith("'=Fitzger")
    assert float(row["score"]) >= EXISTING_PATIENT_THRESHOLD  # numbers stay numbers


def test_it_writes_json_as_a_list_of_objects(personas: Personas) -> None:
    original = robert(personas.clinic)
    again = bob_again(personas.clinic)
    out = io.StringIO()

    duplicates_report_export(fmt="json", output=None, stream=out)

    rows = json.loads(out.getvalue())
    assert isinstance(rows, list)
    assert [set(row) for row in rows] == [set(REPORT_COLUMNS)]
    assert (rows[0]["mrn_a"], rows[0]["mrn_b"]) == (original.mrn, again.mrn)
    assert rows[0]["name_b"] == "Fitzgerlad, Bob"
    assert isinstance(rows[0]["score"], float)


def test_it_writes_an_empty_json_list_when_nothing_is_found(personas: Personas) -> None:
    out = io.StringIO()

    duplicates_report_export(fmt="json", output=None, stream=out)

    assert json.loads(out.getvalue()) == []


def test_it_audits_the_export_with_every_patient_named(personas: Personas) -> None:
    original = robert(personas.clinic)
    again = bob_again(personas.clinic)
    emma, olivia = moved_namesakes(personas.clinic)
    twins(personas.clinic)
    strangers(personas.clinic)

    report = duplicates_report_export(fmt="csv", output=None, stream=io.StringIO())

    event = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="duplicates_report")
    assert event.actor_username == "duplicates report"
    assert event.actor_id_value is None
    assert event.patient_ids == sorted({original.pk, again.pk, emma.pk, olivia.pk})
    assert set(report.patient_ids) == set(event.patient_ids)
    assert event.detail["format"] == "csv"
    assert event.detail["pairs"] == report.stats.pairs == 2
    assert event.detail["very_likely"] == 1
    assert event.detail["possible"] == 1
    assert event.detail["patients_scanned"] == 10
    assert event.detail["output"] == "stdout"


def test_a_report_over_every_clinic_is_audited_once_per_clinic(personas: Personas) -> None:
    here = (robert(personas.clinic), bob_again(personas.clinic))
    there = (robert(personas.other_clinic), bob_again(personas.other_clinic))

    duplicates_report_export(fmt="csv", output=None, stream=io.StringIO())

    events = AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="duplicates_report")
    by_clinic = {e.clinic_id_value: e for e in events}
    assert set(by_clinic) == {personas.clinic.pk, personas.other_clinic.pk}
    assert by_clinic[personas.clinic.pk].patient_ids == sorted(p.pk for p in here)
    assert by_clinic[personas.other_clinic.pk].patient_ids == sorted(p.pk for p in there)
    assert by_clinic[personas.clinic.pk].detail["pairs"] == 1
    assert by_clinic[personas.clinic.pk].detail["clinic"] == personas.clinic.name


def test_a_report_over_every_clinic_is_on_each_named_patients_access_page(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    original, _ = robert(personas.clinic), bob_again(personas.clinic)
    robert(personas.other_clinic)
    bob_again(personas.other_clinic)

    duplicates_report_export(fmt="csv", output=None, stream=io.StringIO())

    page = client_for(personas.supervisor).get(f"/audit/patients/{original.pk}/")
    assert "Exported duplicates_report" in page.content.decode()
    assert [
        e.object_type
        for e in audit_events_for_patient(clinic_id=personas.clinic.pk, patient_id=original.pk)
    ][1] == "duplicates_report"


def test_it_writes_the_output_file_for_its_owner_only(personas: Personas, tmp_path: Path) -> None:
    robert(personas.clinic)
    bob_again(personas.clinic)
    path = tmp_path / "duplicates.csv"
    path.write_text("an older, world-readable file\n")
    path.chmod(0o644)
    out, err = io.StringIO(), io.StringIO()

    call_command("duplicates", "--output", str(path), "--workers", "1", stdout=out, stderr=err)

    assert os.stat(path).st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 1
    assert out.getvalue() == ""
    assert "1 pairs (1 very likely the same, 0 possible) among 2 patients" in err.getvalue()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    event = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="duplicates_report")
    assert event.detail["output"] == str(path)


def test_the_command_prints_json_to_stdout_for_one_clinic(personas: Personas) -> None:
    here = (robert(personas.clinic), bob_again(personas.clinic))
    robert(personas.other_clinic)
    bob_again(personas.other_clinic)
    out = io.StringIO()

    call_command(
        "duplicates",
        "--clinic",
        personas.clinic.name,
        "--format",
        "json",
        "--min-score",
        "existing",
        "--workers",
        "1",
        stdout=out,
        stderr=io.StringIO(),
    )

    rows = json.loads(out.getvalue())
    assert [{row["mrn_a"], row["mrn_b"]} for row in rows] == [{p.mrn for p in here}]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="duplicates_report")
    assert event.clinic_id_value == personas.clinic.pk
    assert event.detail["format"] == "json"
    assert event.detail["clinic"] == personas.clinic.name


def test_the_command_refuses_an_unknown_clinic(personas: Personas) -> None:
    with pytest.raises(CommandError, match="No clinic is called"):
        call_command("duplicates", "--clinic", "Nowhere", stdout=io.StringIO())
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_command_refuses_a_directory_as_output(personas: Personas, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="is a directory"):
        call_command("duplicates", "--output", str(tmp_path), stdout=io.StringIO())


def test_it_releases_nothing_if_the_audit_fails(
    personas: Personas, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    robert(personas.clinic)
    bob_again(personas.clinic)
    path = tmp_path / "duplicates.csv"

    def refuse(**kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(duplicates_report, "audit_record", refuse)
    out = io.StringIO()
    with pytest.raises(RuntimeError):
        duplicates_report_export(fmt="csv", output=None, stream=out)
    with pytest.raises(RuntimeError):
        duplicates_report_export(fmt="csv", output=path)

    assert out.getvalue() == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("warning", WARNING_THRESHOLD),
        ("EXISTING", EXISTING_PATIENT_THRESHOLD),
        ("12.5", 12.5),
        ("-3", -3.0),
    ],
)
def test_it_reads_the_minimum_score(text: str, expected: float) -> None:
    assert min_score_parse(text) == expected


@pytest.mark.parametrize("text", ["", "likely", "nan", "inf"])
def test_it_refuses_a_minimum_score_that_is_not_a_level_or_a_number(text: str) -> None:
    with pytest.raises(ValueError):
        min_score_parse(text)


def test_it_leaves_out_a_jr_and_sr_at_one_home_by_their_suffixes(personas: Personas) -> None:
    home = {
        "given_name": "Marcus",
        "family_name": "Bellamy",
        "birth_date": dt.date(1990, 4, 12),
        "phone": "+14155550166",
        "address_line1": "5 Oak Lane",
    }
    make_patient(personas.clinic, suffix="Sr", **home)
    make_patient(personas.clinic, suffix="Jr", **home)

    pairs, _ = duplicate_pairs_find()

    assert pairs == []
