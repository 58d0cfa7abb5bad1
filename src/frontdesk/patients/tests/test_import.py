from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import Personas, make_patient
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.patients import import_columns, importing, indexing
from frontdesk.patients.models import FamilyName, MrnCounter, Patient
from frontdesk.patients.mrn import mrn_is_valid

HEADER = ["first_name", "last_name", "dob", "sex", "phone", "email", "address", "zip"]
GOOD = ["Maria", "Gonzalez", "03/14/1985", "F", "(415) 555-0132", "maria@example.org", "", ""]
OTHER = ["Kwame", "Mensah", "1990-07-21", "M", "", "", "8 Elm St", "2134"]


def _write(tmp_path: Path, rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    path = tmp_path / "patients.csv"
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def _import(path: Path, *args: str, clinic: str = "Riverside Family Clinic") -> str:
    out = io.StringIO()
    call_command("import-patients", str(path), "--clinic", clinic, *args, stdout=out, verbosity=0)
    return out.getvalue()


def _figure(output: str, label: str) -> int:
    match = re.search(rf"^{re.escape(label)}:\s+([\d,]+)$", output, re.MULTILINE)
    assert match, output
    return int(match.group(1).replace(",", ""))


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def make(*rows: list[str], header: list[str] = HEADER) -> Path:
        return _write(tmp_path, [header, *rows])

    return make


def test_it_imports_good_rows_with_mrns_and_audits_each_as_the_import(
    tmp_path: Path, personas: Personas
) -> None:
    header = ["First Name", "SURNAME", "Date of Birth", "Gender", "Phone", "E-mail", "Address"]
    header += ["ZIP", "Legacy ID"]
    path = _write(tmp_path, [header, [*GOOD, "A1"], [*OTHER, "A2"]], encoding="utf-8-sig")
    output = _import(path)
    assert "Columns not used: Legacy ID." in output
    assert _figure(output, "Rows read") == 2 and _figure(output, "Imported") == 2
    maria = Patient.objects.get(family_name="Gonzalez")
    assert mrn_is_valid(maria.mrn) and maria.clinic == personas.clinic
    assert (maria.birth_date, maria.sex, maria.phone) == (
        dt.date(1985, 3, 14),
        "female",
        "+14155550132",
    )
    assert maria.preferred_contact == "phone" and maria.email == "maria@example.org"
    kwame = Patient.objects.get(family_name="Mensah")
    # No phone but an address: letters; the ZIP code gets back the zero a spreadsheet dropped.
    assert (kwame.preferred_contact, kwame.postal_code, kwame.sex) == ("mail", "02134", "male")
    assert kwame.address_confirmed_on is None
    events = AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="patient")
    assert sorted(e.patient_ids[0] for e in events) == sorted([maria.pk, kwame.pk])
    assert {(e.actor_username, e.purpose) for e in events} == {
        ("import", f"data migration from {path}")
    }


def test_it_reports_a_bad_date_and_a_bad_phone_by_line_and_saves_nothing_of_them(
    write: Callable[..., Path], personas: Personas, tmp_path: Path
) -> None:
    bad_date = ["Ann", "Lee", "02/30/1990", "F", "", "", "1 Oak Rd", ""]
    bad_phone = ["Tom", "Ng", "05/06/1970", "M", "555-12", "", "", ""]
    path = write(GOOD, bad_date, bad_phone, OTHER)
    report = tmp_path / "report.csv"
    output = _import(path, "--report", str(report))
    assert "line 3: Birth date (column “dob”): Type the date as MM/DD/YYYY" in output
    assert "line 4: Main phone (column “phone”): That is not a valid phone number for US" in output
    assert _figure(output, "Imported") == 2 and _figure(output, "Invalid") == 2
    assert set(Patient.objects.values_list("family_name", flat=True)) == {"Gonzalez", "Mensah"}
    with report.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["line"], r["outcome"], r["field"]) for r in rows] == [
        ("2", "imported", ""),
        ("3", "invalid", "Birth date"),
        ("4", "invalid", "Main phone"),
        ("5", "imported", ""),
    ]
    assert rows[0]["mrn"] == Patient.objects.get(family_name="Gonzalez").mrn


def test_the_report_never_hands_a_spreadsheet_a_formula_from_the_file(
    personas: Personas, tmp_path: Path
) -> None:
    # Header text is copied into the report's "column" cell; a spreadsheet would run these.
    header = ["first_name", "=last_name", "@dob", "+sex", "-phone"]
    path = _write(tmp_path, [header, ["Ann", "Lee", "02/30/1990", "F", "555-12"]])
    report = tmp_path / "report.csv"
    _import(path, "--report", str(report))
    with report.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert {r["column"] for r in rows} == {"'@dob", "'-phone"}
    for row in rows:
        assert all(not cell or cell[0] not in "=+-@\t\r" for cell in row.values())


def test_it_reports_a_likely_existing_patient_and_does_not_import_the_row(
    write: Callable[..., Path], personas: Personas
) -> None:
    existing = make_patient(personas.clinic, given_name="William", birth_date=dt.date(1980, 3, 4))
    # Nickname, day and month swapped, same phone and sex.
    path = write(["Bill", "Smith", "04/03/1980", "M", "202-555-0143", "", "", ""], GOOD)
    output = _import(path)
    assert f"line 2: possible duplicate of MRN {existing.mrn}; not imported." in output
    assert _figure(output, "Possible duplicates") == 1 and _figure(output, "Invalid") == 0
    assert Patient.objects.filter(family_name="Smith").count() == 1
    look = AuditEvent.objects.get(object_type="duplicate_check")
    assert look.patient_ids == [existing.pk] and look.detail["import_line"] == 2


def test_the_same_person_twice_in_one_file_imports_once_even_across_batches(
    write: Callable[..., Path], personas: Personas
) -> None:
    again = ["Mary", "Gonzalez", "1985-03-14", "female", "415 555 0132", "", "", ""]
    output = _import(write(GOOD, OTHER, again), "--batch-size", "1")
    first = Patient.objects.get(family_name="Gonzalez")
    assert f"line 4: possible duplicate of line 2 of this file (MRN {first.mrn})" in output
    assert _figure(output, "Imported") == 2 and _figure(output, "Possible duplicates") == 1


def test_a_dry_run_writes_nothing_not_even_audit_events_or_mrns(
    write: Callable[..., Path], personas: Personas
) -> None:
    again = ["Mary", "Gonzalez", "1985-03-14", "female", "415 555 0132", "", "", ""]
    events, counter = AuditEvent.objects.count(), MrnCounter.objects.first()
    output = _import(write(GOOD, OTHER, again), "--dry-run")
    assert "(dry run: nothing will be saved)" in output
    assert "Dry run: nothing was saved" in output
    assert _figure(output, "Would import") == 2
    assert "line 4: possible duplicate of line 2 of this file;" in output
    assert not Patient.objects.exists()
    assert AuditEvent.objects.count() == events and MrnCounter.objects.first() == counter


def test_a_row_that_fails_half_way_through_saving_leaves_nothing_behind(
    write: Callable[..., Path], personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_names = indexing.family_names_register

    def failing(names: Any) -> None:
        # After the patient row is written, before the audit event: a real constraint error,
        # which on PostgreSQL also aborts the transaction until the savepoint is rolled back.
        names = list(names)
        if "broken" in names:
            FamilyName.objects.create(name="broken")
            FamilyName.objects.create(name="broken")
        register_names(names)

    monkeypatch.setattr("frontdesk.patients.services.family_names_register", failing)
    broken = ["Ivy", "Broken", "1960-01-01", "F", "", "", "2 Pine Rd", ""]
    output = _import(write(GOOD, broken, OTHER))
    assert "line 3: The database refused this row, so nothing of it was saved" in output
    assert _figure(output, "Imported") == 2 and _figure(output, "Not saved (database)") == 1
    assert not Patient.objects.filter(family_name="Broken").exists()
    assert Patient.objects.count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.CREATE).count() == 2
    assert not FamilyName.objects.filter(name="broken").exists()


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (["Ann", "Lee", "1990-01-01", "", "", "", "", ""], "Main phone", "Type a phone number"),
        (["Ann", "Lee", "1990-01-01", "Q", "", "", "1 Oak", ""], "Sex", "“Q” is not one of"),
        (["Ann", "L3e", "1990-01-01", "F", "", "", "1 Oak", ""], "Family (last) name", "letters"),
        (["Ann", "Lee", "2199-01-01", "F", "", "", "1 Oak", ""], "Birth date", "in the future"),
        (["Ann", "Lee", "1990-01-01", "F", "", "ann@", "1 Oak", ""], "Email", "not complete"),
        (["Ann", "Lee", "1990-01-01", "F", "", "", "1 Oak", "1"], "Postal code", "5 digits"),
    ],
)
def test_it_explains_each_rule_of_the_registration_form_in_plain_words(
    write: Callable[..., Path], personas: Personas, row: list[str], field: str, message: str
) -> None:
    output = _import(write(row))
    assert re.search(rf"^line 2: {re.escape(field)}\b.*{re.escape(message)}", output, re.M)
    assert not Patient.objects.exists()


def test_it_takes_kinded_phones_yes_no_cells_and_labels_as_exports_write_them(
    write: Callable[..., Path], personas: Personas
) -> None:
    header = ["Given Name", "Family Name", "Birth Date", "Sex", "Gender", "Home Phone"]
    header += ["Cell Phone", "Preferred Contact", "SMS Consent", "Country", "Alerts"]
    row = ["Léa", "Dubois", "1992-11-05 00:00:00", "Female", "woman", "(202) 555-0101"]
    row += ["202-555-0199", "Text", "Y", "United States", "Wheelchair; latex"]
    output = _import(
        write(row, ["Max", "Roe", "1990-01-01", "M", "", "", "", "", "maybe"], header=header)
    )
    patient = Patient.objects.get(family_name="Dubois")
    # A mobile number comes before a home one: it can take texts.
    assert (patient.phone, patient.phone_kind) == ("+12025550199", "mobile")
    assert (patient.phone_alt, patient.phone_alt_kind) == ("+12025550101", "home")
    assert (patient.preferred_contact, patient.consent_sms) == ("sms", True)
    assert (patient.sex, patient.gender_identity) == ("female", "woman")
    assert patient.alerts == ["wheelchair", "latex"]
    assert "line 3: Agrees to text messages (column “SMS Consent”): Use yes or no" in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "There is no file at"),
        (b"", "The file has no header"),
        (b"Maria,Gonzalez,03/14/1985\n", "Line 1 must name the columns"),
        (b"first_name,last_name,phone\nMaria,Gonzalez,1\n", "no column for the birth date"),
        (b"first_name,given_name,last_name,dob\n", "both give the given (first) name"),
        ("first_name,last_name,dob\nJürgen,Müller,1970-01-01\n".encode("latin-1"), "line 2"),
    ],
)
def test_a_file_it_cannot_read_is_refused_in_plain_words(
    tmp_path: Path, personas: Personas, content: bytes | None, message: str
) -> None:
    path = tmp_path / "patients.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError, match=re.escape(message)):
        _import(path)
    assert not Patient.objects.exists()


def test_a_file_that_is_not_utf8_says_how_to_save_it(tmp_path: Path, personas: Personas) -> None:
    path = tmp_path / "patients.csv"
    path.write_bytes("first_name,last_name,dob\nJürgen,Müller,1970-01-01\n".encode("cp1252"))
    with pytest.raises(CommandError, match="The file is not UTF-8 text; save it as CSV UTF-8"):
        _import(path)


def test_it_names_a_clinic_that_does_not_exist(
    write: Callable[..., Path], personas: Personas
) -> None:
    with pytest.raises(CommandError, match="No clinic is called 'Nowhere'"):
        _import(write(GOOD), clinic="Nowhere")


def test_the_docstring_and_the_help_name_every_accepted_column() -> None:
    doc = importing.__doc__ or ""
    words = set(re.findall(r"[a-z0-9_]+", doc))
    help_text = call_command_help()
    for column in import_columns.COLUMNS:
        for name in column.names:
            assert name in words, name
            assert name in help_text, name


def call_command_help() -> str:
    command = load_command_class("frontdesk.patients", "import-patients")
    return command.create_parser("frontdesk", "import-patients").format_help()


CELL = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)
PLAUSIBLE = (
    ["Maria", "José", "Zoë", "Anne-Marie", "O'Neil", "li"],
    ["Gonzalez", "Smith", "Nguyen", "de la Cruz"],
    ["03/14/1985", "1990-07-21", "1970-05-06 00:00:00", "02/30/1990", "1/2/03"],
    ["F", "m", "Female", "u", "X", ""],
    ["(415) 555-0132", "202 555 0143", "+44 20 7946 0958", "555", ""],
    ["a@example.org", "A@EXAMPLE.ORG ", "a@", ""],
    ["1 Oak Rd", ""],
    ["94105", "2134", "SW1A 1AA", ""],
)
# Each cell is arbitrary text or a value that looks right, so rows also get past the form.
ROW = st.tuples(*(st.one_of(CELL, st.sampled_from(values)) for values in PLAUSIBLE)).map(list)
ROW_WITH_EXTRA = st.tuples(ROW, st.lists(CELL, max_size=1)).map(lambda r: r[0] + r[1])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(st.one_of(ROW_WITH_EXTRA, st.just(GOOD)), min_size=1, max_size=4))
def test_any_cell_text_is_imported_or_reported_never_raised(
    tmp_path: Path, personas: Personas, rows: list[list[str]]
) -> None:
    path = _write(tmp_path, [HEADER, *rows])
    with transaction.atomic():
        output = _import(path)
        read, imported = _figure(output, "Rows read"), _figure(output, "Imported")
        reported = sum(
            _figure(output, label)
            for label in ("Invalid", "Possible duplicates", "Not saved (database)")
        )
        assert read == imported + reported
        event("some rows imported" if imported else "no row imported")
        assert Patient.objects.count() == imported
        transaction.set_rollback(True)


GIVEN = ["Amara", "Bogdan", "Chiara", "Dmitri", "Eilidh", "Farid", "Greta", "Hiroshi", "Ines"]
FAMILY = ["Abara", "Brennan", "Castillo", "Dvorak", "Eriksen", "Fontaine", "Galloway", "Horvat"]


def _people(count: int) -> list[list[str]]:
    """`count` people that no one would take for one another."""
    first = dt.date(1940, 1, 1)
    return [
        [
            GIVEN[i % len(GIVEN)],
            FAMILY[(i // len(GIVEN)) % len(FAMILY)],
            (first + dt.timedelta(days=97 * i)).isoformat(),
            "F" if i % 2 else "M",
            "",
            "",
            f"{i + 1} {FAMILY[i % len(FAMILY)]} Road",
            "02134",
        ]
        for i in range(count)
    ]


def test_it_saves_at_most_a_batch_of_rows_per_transaction_and_still_finds_earlier_rows(
    write: Callable[..., Path], personas: Personas
) -> None:
    people = _people(119)
    source = importing.import_file_inspect(path=write(*people, people[3]))
    result = importing.patients_import(
        clinic=personas.clinic,
        source=source,
        batch_size=50,
        lock_budget_seconds=3600,  # only the batch size counts here
        pause_seconds=0,
    )
    assert result.rows_per_transaction == [50, 50, 20]
    assert result.count(importing.Outcome.IMPORTED) == 119
    (duplicate,) = [o for o in result.outcomes if o.outcome == importing.Outcome.DUPLICATE]
    assert duplicate.line == 121
    assert duplicate.duplicate_of[0].startswith("line 5 of this file")


def test_it_commits_as_soon_as_a_transaction_has_used_its_time_on_the_lock(
    write: Callable[..., Path], personas: Personas
) -> None:
    source = importing.import_file_inspect(path=write(*_people(7)))
    result = importing.patients_import(
        clinic=personas.clinic,
        source=source,
        batch_size=50,
        lock_budget_seconds=0,
        pause_seconds=0,
    )
    # Spent from the first row on: every transaction holds one row and commits.
    assert result.rows_per_transaction == [1] * 7
    assert result.count(importing.Outcome.IMPORTED) == 7


def test_it_saves_rows_in_transactions_small_against_busy_timeout_by_default() -> None:
    # A row holds the lock a few milliseconds (see DEFAULT_BATCH_SIZE); busy_timeout is 5 s.
    assert importing.DEFAULT_BATCH_SIZE <= 50
    assert importing.LOCK_BUDGET_SECONDS <= 5.0 / 10


def test_a_row_with_its_address_in_columns_is_imported_as_it_was(
    tmp_path: Path, personas: Personas
) -> None:
    header = ["first_name", "last_name", "dob", "address", "address2", "city", "state", "zip"]
    row = ["Ana", "Reyes", "1970-01-02", "40 Valencia St", "Apt 2", "San Francisco", "CA", "94103"]
    assert _figure(_import(_write(tmp_path, [header, row])), "Imported") == 1
    ana = Patient.objects.get()
    assert (ana.address_line1, ana.address_line2, ana.city, ana.state, ana.postal_code) == (
        "40 Valencia St",
        "Apt 2",
        "San Francisco",
        "CA",
        "94103",
    )


def test_a_street_column_holding_a_whole_address_is_split_or_kept_as_typed(
    tmp_path: Path, personas: Personas
) -> None:
    header = ["first_name", "last_name", "dob", "street"]
    whole = ["Ana", "Reyes", "1970-01-02", "40 Valencia St, San Francisco, CA 94103"]
    # Not of the one-line shape: kept as the street, as before, and not refused.
    other = ["Ben", "Okafor", "1981-03-04", "Flat 2, 9 High St, Springfield"]
    assert _figure(_import(_write(tmp_path, [header, whole, other])), "Imported") == 2
    ana, ben = Patient.objects.get(given_name="Ana"), Patient.objects.get(given_name="Ben")
    assert (ana.address_line1, ana.city, ana.state, ana.postal_code) == (
        "40 Valencia St",
        "San Francisco",
        "CA",
        "94103",
    )
    assert (ben.address_line1, ben.city, ben.postal_code) == (other[3], "", "")
