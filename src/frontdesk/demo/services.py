"""The demo clinic: a synthetic clinic, reproducible from a seed, for trying Frontdesk and for
load tests (`frontdesk demo --patients 1000000`).

Everything random comes from `random.Random` seeded with the demo seed, so one seed and one
reference date give the same clinic row for row (staff passwords excepted: those come from
`secrets`). Faker is slow (tens of microseconds a name), so it is only asked once for pools of
names, streets and places, which the seeded generator then combines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import random
import re
import secrets
import string
import sys
import zlib
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import phonenumbers
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from faker import Faker
from stdnum import luhn
from tqdm import tqdm

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.accounts.services import staff_create
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT, audit_record
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.clinic.models import AppointmentType, Clinic, Location, Provider
from frontdesk.demo.schedule import demo_schedule_build
from frontdesk.patients.indexing import family_names_register, patient_derive_fields, phone_last4
from frontdesk.patients.models import ContactChannel, Coverage, Patient, Payer, Sex
from frontdesk.patients.mrn import mrn_reserve

DEFAULT_SEED = 1
DEFAULT_PATIENTS = 5_000
BATCH_SIZE = 5_000
DUPLICATE_RATE = 0.03
INSURED_RATE = 0.85
SECONDARY_RATE = 0.15  # of the insured
REGISTRATION_YEARS = 15  # how far back the clinic's oldest registrations go

# Reserved by RFC 2606: reminders sent to a demo patient can never reach a real person's inbox.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# --- Fixed clinic set-up -----------------------------------------------------------------------

LOCATION_NAMES = (
    "Downtown",
    "Northside",
    "Riverside",
    "Westgate",
    "Lakeview",
    "Eastfield",
    "Hillcrest",
    "Southpoint",
)


@dataclass(frozen=True)
class ProviderSpec:
    specialty: str
    credentials: str
    sex: str


PROVIDER_SPECS = (
    ProviderSpec("Family medicine", "MD", Sex.FEMALE),
    ProviderSpec("Family medicine", "DO", Sex.MALE),
    ProviderSpec("Family medicine", "NP", Sex.FEMALE),
    ProviderSpec("Internal medicine", "MD", Sex.MALE),
    ProviderSpec("Pediatrics", "MD", Sex.FEMALE),
    ProviderSpec("Pediatrics", "NP", Sex.MALE),
    ProviderSpec("Cardiology", "MD", Sex.MALE),
    ProviderSpec("Dermatology", "MD", Sex.FEMALE),
    ProviderSpec("Dermatology", "PA-C", Sex.MALE),
    ProviderSpec("Obstetrics and gynecology", "MD", Sex.FEMALE),
    ProviderSpec("Physical therapy", "DPT", Sex.MALE),
    ProviderSpec("Physical therapy", "PT", Sex.FEMALE),
)


@dataclass(frozen=True)
class AppointmentTypeSpec:
    name: str
    duration_minutes: int
    colour: str
    is_new_patient: bool = False
    telehealth: bool = False
    preparation: str = ""


_BRING_CARDS = "Bring photo ID, your insurance card and a list of your current medicines."

APPOINTMENT_TYPE_SPECS = (
    AppointmentTypeSpec("New patient visit", 40, "#2f6f9f", True, preparation=_BRING_CARDS),
    AppointmentTypeSpec("Follow-up visit", 20, "#4f6d8f"),
    AppointmentTypeSpec(
        "Annual physical",
        40,
        "#3d8b5a",
        preparation="Fast for 8 hours beforehand if your provider has ordered blood work.",
    ),
    AppointmentTypeSpec(
        "Telehealth follow-up",
        20,
        "#7a5ea8",
        telehealth=True,
        preparation="Join the video link 5 minutes early from a quiet, private room.",
    ),
    AppointmentTypeSpec("Sick visit", 20, "#b0503c"),
    AppointmentTypeSpec(
        "Well-child check", 30, "#d08a2e", preparation="Bring your child's vaccination record."
    ),
    AppointmentTypeSpec("Vaccination", 10, "#5f9ea0"),
    AppointmentTypeSpec("Cardiology consultation", 60, "#a23b5b", True, preparation=_BRING_CARDS),
    AppointmentTypeSpec("Skin check", 20, "#8f6a3a"),
    AppointmentTypeSpec(
        "Physical therapy evaluation",
        60,
        "#3b7f7a",
        True,
        preparation="Wear loose, comfortable clothing.",
    ),
    AppointmentTypeSpec("Physical therapy session", 45, "#4c9a94"),
)

# --- Payers and their member ID formats ---------------------------------------------------------

DIGIT = string.digits
NONZERO = "123456789"
LETTER = string.ascii_uppercase
# Medicare Beneficiary Identifier letters: no S, L, O, I, B or Z (they read like digits).
MBI_LETTER = "ACDEFGHJKMNPQRTUVWXY"


@dataclass(frozen=True)
class PayerSpec:
    name: str
    payer_id: str
    kind: str  # commercial, medicare, medicaid or military
    member_id_format: tuple[str, ...]  # the characters allowed at each position
    plans: tuple[str, ...]

    @property
    def member_id_pattern(self) -> str:
        return member_id_pattern(self.member_id_format)


PAYER_SPECS = (
    PayerSpec(
        "Aetna", "60054", "commercial", ("W", *[DIGIT] * 9), ("Open Access", "Choice POS II")
    ),
    PayerSpec(
        "Blue Cross Blue Shield",
        "00310",
        "commercial",
        (*[LETTER] * 3, *[DIGIT] * 9),
        ("Blue Choice PPO", "HMO Blue", "Federal Employee Program"),
    ),
    PayerSpec(
        "Cigna", "62308", "commercial", ("U", *[DIGIT] * 8), ("Open Access Plus", "LocalPlus")
    ),
    PayerSpec(
        "UnitedHealthcare",
        "87726",
        "commercial",
        tuple([DIGIT] * 9),
        ("Choice Plus", "Navigate HMO", "Options PPO"),
    ),
    PayerSpec(
        "Humana", "61101", "commercial", ("H", *[DIGIT] * 8), ("Gold Plus HMO", "ChoiceCare")
    ),
    PayerSpec(
        "Medicare",
        "MCR01",
        "medicare",
        (
            NONZERO,
            MBI_LETTER,
            MBI_LETTER + DIGIT,
            DIGIT,
            MBI_LETTER,
            MBI_LETTER + DIGIT,
            DIGIT,
            MBI_LETTER,
            MBI_LETTER,
            DIGIT,
            DIGIT,
        ),
        ("Part B", "Medicare Advantage"),
    ),
    PayerSpec("Medicaid", "MCD01", "medicaid", (*[LETTER] * 2, *[DIGIT] * 8), ("Managed care",)),
    PayerSpec("Tricare", "99726", "military", tuple([DIGIT] * 11), ("Prime", "Select")),
)
_PAYER_BY_NAME = {spec.name: spec for spec in PAYER_SPECS}
_COMMERCIAL = tuple(spec for spec in PAYER_SPECS if spec.kind == "commercial")


def member_id_pattern(member_id_format: Sequence[str]) -> str:
    """The anchored regex that exactly the member IDs of this format match."""
    parts: list[str] = []
    runs: list[tuple[str, int]] = []
    for chars in member_id_format:
        if runs and runs[-1][0] == chars:
            runs[-1] = (chars, runs[-1][1] + 1)
        else:
            runs.append((chars, 1))
    for chars, repeat in runs:
        parts.append(_regex_class(chars) + (f"{{{repeat}}}" if repeat > 1 else ""))
    return "^" + "".join(parts) + "$"


def _regex_class(chars: str) -> str:
    if len(chars) == 1:
        return re.escape(chars)
    ordered = sorted(set(chars))
    ranges: list[str] = []
    start = previous = ordered[0]
    for char in [*ordered[1:], ""]:
        if char and ord(char) == ord(previous) + 1:
            previous = char
            continue
        ranges.append(start if start == previous else f"{start}-{previous}")
        if char:
            start = previous = char
    return "[" + "".join(ranges) + "]"


# --- Names ------------------------------------------------------------------------------------

# Formal given name -> what the same person may be called at another registration.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Abigail": ("Abby",),
    "Alexander": ("Alex",),
    "Alexandra": ("Alex", "Sandra"),
    "Andrew": ("Andy", "Drew"),
    "Anthony": ("Tony",),
    "Barbara": ("Barb",),
    "Benjamin": ("Ben",),
    "Catherine": ("Cathy", "Kate"),
    "Charles": ("Charlie", "Chuck"),
    "Christina": ("Tina", "Chris"),
    "Christopher": ("Chris",),
    "Cynthia": ("Cindy",),
    "Daniel": ("Dan", "Danny"),
    "Deborah": ("Debbie", "Deb"),
    "Donald": ("Don",),
    "Douglas": ("Doug",),
    "Edward": ("Ed", "Ted"),
    "Elizabeth": ("Liz", "Beth", "Betty"),
    "Frederick": ("Fred",),
    "Gerald": ("Jerry",),
    "Gregory": ("Greg",),
    "Jacqueline": ("Jackie",),
    "James": ("Jim", "Jimmy"),
    "Jeffrey": ("Jeff",),
    "Jennifer": ("Jen", "Jenny"),
    "Jessica": ("Jess",),
    "John": ("Jack", "Johnny"),
    "Jonathan": ("Jon",),
    "Joseph": ("Joe",),
    "Joshua": ("Josh",),
    "Katherine": ("Kate", "Katie"),
    "Kathleen": ("Kathy",),
    "Kenneth": ("Ken",),
    "Kimberly": ("Kim",),
    "Lawrence": ("Larry",),
    "Margaret": ("Maggie", "Peggy"),
    "Matthew": ("Matt",),
    "Michael": ("Mike",),
    "Nathan": ("Nate",),
    "Nicholas": ("Nick",),
    "Pamela": ("Pam",),
    "Patricia": ("Pat", "Patty"),
    "Phillip": ("Phil",),
    "Raymond": ("Ray",),
    "Rebecca": ("Becky",),
    "Richard": ("Rick", "Rich"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Ronald": ("Ron",),
    "Samantha": ("Sam",),
    "Samuel": ("Sam",),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Susan": ("Sue",),
    "Teresa": ("Terri",),
    "Thomas": ("Tom",),
    "Timothy": ("Tim",),
    "Victoria": ("Vicky",),
    "William": ("Bill", "Will", "Billy"),
    "Zachary": ("Zach",),
}


@dataclass(frozen=True)
class DemoPools:
    """What Faker is asked for once; drawn with repeats, so common names stay common."""

    female_names: tuple[str, ...]
    male_names: tuple[str, ...]
    family_names: tuple[str, ...]
    streets: tuple[str, ...]
    home_places: tuple[tuple[str, str, str], ...]  # city, state, ZIP code near the clinic
    away_places: tuple[tuple[str, str, str], ...]  # patients who live further off
    phone_prefixes: tuple[str, ...]  # +1 area code and exchange, valid per phonenumbers


@functools.lru_cache(maxsize=4)
def demo_pools(seed: int) -> DemoPools:
    """Pools of names, streets, places and phone prefixes, the same for the same seed."""
    faker = Faker("en_US")
    faker.seed_instance(seed)
    home_state = faker.state_abbr(include_territories=False)
    away_places = []
    for _ in range(150):
        state = faker.state_abbr(include_territories=False)
        away_places.append((faker.city(), state, faker.zipcode_in_state(state)))
    return DemoPools(
        female_names=tuple(faker.first_name_female() for _ in range(1_500)),
        male_names=tuple(faker.first_name_male() for _ in range(1_500)),
        family_names=tuple(faker.last_name() for _ in range(3_000)),
        streets=tuple(faker.street_name() for _ in range(2_000)),
        home_places=tuple(
            (faker.city(), home_state, faker.zipcode_in_state(home_state)) for _ in range(60)
        ),
        away_places=tuple(away_places),
        phone_prefixes=_phone_prefixes(random.Random(f"frontdesk-demo:{seed}:phones"), 400),
    )


def _phone_prefixes(rng: random.Random, count: int) -> tuple[str, ...]:
    # Validity in the North American plan depends on the area code and exchange only, so a
    # prefix that passes with several line numbers is safe for all of them; checking each of a
    # million numbers with phonenumbers would cost half a minute.
    prefixes: list[str] = []
    while len(prefixes) < count:
        area, exchange = rng.randint(201, 989), rng.randint(200, 999)
        # 555 is the fictional exchange and N11 codes are service numbers; leave both alone.
        if exchange == 555 or exchange % 100 == 11 or area % 100 == 11:
            continue
        prefix = f"+1{area}{exchange}"
        if prefix in prefixes:
            continue
        if all(
            phonenumbers.is_valid_number(phonenumbers.parse(f"{prefix}{line}"))
            for line in ("0000", "0199", "4821", "9999")
        ):
            prefixes.append(prefix)
    return tuple(prefixes)


# --- Patients ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoverageRow:
    payer: str  # the payer's name
    rank: int
    plan_name: str
    member_id: str
    group_number: str
    subscriber_name: str
    relationship: str
    effective_date: dt.date


@dataclass(frozen=True, slots=True)
class PatientRow:
    """One generated patient, before it has an MRN or a database row."""

    given_name: str
    middle_name: str
    family_name: str
    suffix: str
    preferred_name: str
    birth_date: dt.date
    sex: str
    phone: str
    email: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    last_visit_on: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime
    coverages: tuple[CoverageRow, ...]
    duplicate_of: int | None  # position of the record this one re-registers, if planted


# Share of patients by age band (years, inclusive), roughly a US primary-care panel.
_AGE_BANDS = ((0, 17, 0.22), (18, 44, 0.35), (45, 64, 0.26), (65, 95, 0.17))


class _PatientGenerator:
    """The per-patient hot loop, kept to plain attribute access and `random` calls."""

    def __init__(self, *, rng: random.Random, pools: DemoPools, today: dt.date, tz: str) -> None:
        self.rng = rng
        self.pools = pools
        self.today = today
        self.midnight = dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC)
        # Registrations happen in clinic hours; one UTC offset for the whole run is close enough
        # for demo data and avoids a time-zone conversion per patient.
        offset = self.midnight.astimezone(zoneinfo.ZoneInfo(tz)).utcoffset()
        self.utc_offset_seconds = int(offset.total_seconds()) if offset else 0
        self.age_bands = [
            (weight, (lo * 365 + 1, (hi + 1) * 365 - 1)) for lo, hi, weight in _AGE_BANDS
        ]

    def new_patient(self) -> PatientRow:
        rng = self.rng
        pools = self.pools
        roll = rng.random()
        if roll < 0.49:
            sex, names = Sex.FEMALE.value, pools.female_names
        elif roll < 0.98:
            sex, names = Sex.MALE.value, pools.male_names
        else:
            sex = Sex.OTHER.value if roll < 0.99 else Sex.UNKNOWN.value
            names = pools.female_names if rng.random() < 0.5 else pools.male_names
        given = rng.choice(names)
        middle = rng.choice(names) if rng.random() < 0.45 else ""
        family = rng.choice(pools.family_names)
        suffix = ""
        if sex == Sex.MALE and rng.random() < 0.03:
            suffix = rng.choice(("Jr.", "Jr.", "Sr.", "II", "III"))
        preferred = ""
        if given in NICKNAMES and rng.random() < 0.2:
            preferred = rng.choice(NICKNAMES[given])

        age_days = self._age_days()
        birth_date = self.today - dt.timedelta(days=age_days)
        age_years = age_days // 365
        phone = self._phone() if rng.random() < 0.93 else ""
        email = ""
        if rng.random() < (0.15 if age_years < 13 else 0.75):
            email = self._email(given, family, birth_date)
        line1, line2, city, state, postal_code = self._address()
        if rng.random() < 0.03:  # unhoused patients, or an address never taken
            line1 = line2 = city = state = postal_code = ""

        # Registered at some point since birth, at most REGISTRATION_YEARS ago, before today.
        registered_days_ago = rng.randint(1, min(age_days, REGISTRATION_YEARS * 365))
        created_at = self._clinic_hours(registered_days_ago)
        updated_at = created_at
        if rng.random() < 0.4:
            updated_at += dt.timedelta(days=rng.randrange(registered_days_ago))
        last_visit_on = None
        if rng.random() < 0.65:
            # Most people seen lately; the smaller of two draws skews towards today.
            last_visit_on = self.today - dt.timedelta(
                days=min(rng.randint(1, registered_days_ago), rng.randint(1, 800))
            )
        coverages: tuple[CoverageRow, ...] = ()
        if rng.random() < INSURED_RATE:
            coverages = self._coverages(age_years, birth_date, family, sex)
        return PatientRow(
            given_name=given,
            middle_name=middle,
            family_name=family,
            suffix=suffix,
            preferred_name=preferred,
            birth_date=birth_date,
            sex=sex,
            phone=phone,
            email=email,
            address_line1=line1,
            address_line2=line2,
            city=city,
            state=state,
            postal_code=postal_code,
            last_visit_on=last_visit_on,
            created_at=created_at,
            updated_at=updated_at,
            coverages=coverages,
            duplicate_of=None,
        )

    def near_duplicate(self, original: PatientRow, position: int) -> PatientRow:
        """The same person registered again: a typo, a nickname or day and month swapped."""
        rng = self.rng
        since = (self.today - original.created_at.date()).days
        registered_days_ago = rng.randint(1, max(1, since - 1))
        created_at = self._clinic_hours(registered_days_ago)
        changes = {"typo", "nickname", "swap"}
        if original.given_name not in NICKNAMES:
            changes.discard("nickname")
        swapped = _swap_day_month(original.birth_date)
        # A baby's swapped birth date can fall after the second registration; not plausible.
        if swapped is None or swapped >= created_at.date():
            changes.discard("swap")
        chosen = rng.sample(sorted(changes), rng.choice((1, 1, 1, 2)) if len(changes) > 1 else 1)
        given, family, birth_date = original.given_name, original.family_name, original.birth_date
        if "typo" in chosen:
            family = _typo(rng, family)
        if "nickname" in chosen:
            given = rng.choice(NICKNAMES[given])
        if "swap" in chosen and swapped is not None:
            birth_date = swapped

        phone = original.phone if rng.random() < 0.7 else self._phone()
        email = original.email if rng.random() < 0.5 else ""
        address = (
            original.address_line1,
            original.address_line2,
            original.city,
            original.state,
            original.postal_code,
        )
        if rng.random() < 0.25:
            address = self._address()  # moved house in between
        coverages = original.coverages[:1] if rng.random() < 0.6 else ()
        last_visit_on = None
        if rng.random() < 0.5:
            last_visit_on = self.today - dt.timedelta(days=rng.randint(1, registered_days_ago))
        return replace(
            original,
            given_name=given,
            middle_name=original.middle_name if rng.random() < 0.5 else "",
            family_name=family,
            preferred_name="",
            birth_date=birth_date,
            phone=phone,
            email=email,
            address_line1=address[0],
            address_line2=address[1],
            city=address[2],
            state=address[3],
            postal_code=address[4],
            last_visit_on=last_visit_on,
            created_at=created_at,
            updated_at=created_at,
            coverages=coverages,
            duplicate_of=position,
        )

    def _age_days(self) -> int:
        rng = self.rng
        roll = rng.random()
        for weight, (lo, hi) in self.age_bands:
            if roll < weight:
                return rng.randint(lo, hi)
            roll -= weight
        lo, hi = self.age_bands[-1][1]
        return rng.randint(lo, hi)

    def _phone(self) -> str:
        return f"{self.rng.choice(self.pools.phone_prefixes)}{self.rng.randrange(10_000):04d}"

    def _email(self, given: str, family: str, birth_date: dt.date) -> str:
        rng = self.rng
        first, last = _email_word(given), _email_word(family)
        local = rng.choice(
            (
                f"{first}.{last}",
                f"{first[:1]}{last}",
                f"{first}{last}{rng.randint(1, 99)}",
                f"{first}.{last}{birth_date.year % 100:02d}",
                f"{last}.{first}",
            )
        )
        return f"{local}@{rng.choice(EMAIL_DOMAINS)}"

    def _address(self) -> tuple[str, str, str, str, str]:
        rng = self.rng
        pools = self.pools
        places = pools.home_places if rng.random() < 0.85 else pools.away_places
        city, state, postal_code = rng.choice(places)
        line1 = f"{rng.randint(1, 9_999)} {rng.choice(pools.streets)}"
        line2 = ""
        if rng.random() < 0.15:
            line2 = f"{rng.choice(('Apt', 'Apt', 'Unit', 'Suite'))} {rng.randint(1, 999)}"
        return line1, line2, city, state, postal_code

    def _clinic_hours(self, days_ago: int) -> dt.datetime:
        local_seconds = self.rng.randrange(8 * 3600, 18 * 3600)
        return self.midnight + dt.timedelta(
            days=-days_ago, seconds=local_seconds - self.utc_offset_seconds
        )

    def _coverages(
        self, age_years: int, birth_date: dt.date, family: str, sex: str
    ) -> tuple[CoverageRow, ...]:
        rng = self.rng
        roll = rng.random()
        if age_years >= 65:
            primary = _PAYER_BY_NAME["Medicare"] if roll < 0.85 else rng.choice(_COMMERCIAL)
        elif age_years < 18:
            primary = _PAYER_BY_NAME["Medicaid"] if roll < 0.35 else rng.choice(_COMMERCIAL)
        elif roll < 0.12:
            primary = _PAYER_BY_NAME["Medicaid"]
        elif roll < 0.16:
            primary = _PAYER_BY_NAME["Tricare"]
        else:
            primary = rng.choice(_COMMERCIAL)
        rows = [self._coverage(primary, 1, age_years, birth_date, family, sex)]
        if rng.random() < SECONDARY_RATE:
            if primary.name == "Medicare":
                # Dual eligibility, or a supplemental plan.
                secondary = (
                    _PAYER_BY_NAME["Medicaid"] if rng.random() < 0.3 else rng.choice(_COMMERCIAL)
                )
            else:
                secondary = rng.choice([p for p in _COMMERCIAL if p is not primary])
            rows.append(self._coverage(secondary, 2, age_years, birth_date, family, sex))
        return tuple(rows)

    def _coverage(
        self,
        payer: PayerSpec,
        rank: int,
        age_years: int,
        birth_date: dt.date,
        family: str,
        sex: str,
    ) -> CoverageRow:
        rng = self.rng
        relationship, subscriber = "self", ""
        if payer.kind in ("commercial", "military"):
            if age_years < 18:
                relationship = "child"
            elif age_years < 65 and rng.random() < 0.2:
                relationship = "spouse"
        if relationship != "self":
            names = self.pools.male_names if rng.random() < 0.5 else self.pools.female_names
            if relationship == "spouse":
                names = self.pools.male_names if sex == Sex.FEMALE else self.pools.female_names
            subscriber = f"{rng.choice(names)} {family}"
        group_number = ""
        if payer.kind == "commercial":
            group_number = f"{rng.randint(10_000, 9_999_999):07d}"
        start = max(birth_date, self.today - dt.timedelta(days=8 * 365))
        effective = start + dt.timedelta(days=rng.randrange((self.today - start).days + 1))
        effective = max(birth_date, effective.replace(day=1))
        return CoverageRow(
            payer=payer.name,
            rank=rank,
            plan_name=rng.choice(payer.plans),
            member_id="".join([rng.choice(chars) for chars in payer.member_id_format]),
            group_number=group_number,
            subscriber_name=subscriber,
            relationship=relationship,
            effective_date=effective,
        )


def _email_word(name: str) -> str:
    return "".join(char for char in name.lower() if char in string.ascii_lowercase) or "patient"


def _swap_day_month(value: dt.date) -> dt.date | None:
    if value.day == value.month or value.day > 12:
        return None
    return value.replace(month=value.day, day=value.month)


def _typo(rng: random.Random, name: str) -> str:
    """A plausible keying error that keeps the name recognisable."""
    for _ in range(10):
        position = rng.randrange(len(name))
        kind = rng.choice(("swap", "drop", "double", "vowel"))
        if kind == "swap" and position + 1 < len(name):
            typed = name[:position] + name[position + 1] + name[position] + name[position + 2 :]
        elif kind == "drop" and len(name) > 3 and position > 0:
            typed = name[:position] + name[position + 1 :]
        elif kind == "double":
            typed = name[: position + 1] + name[position:]
        elif kind == "vowel" and position > 0 and name[position] in "aeiou":
            typed = (
                name[:position]
                + rng.choice("aeiou".replace(name[position], ""))
                + name[position + 1 :]
            )
        else:
            continue
        if typed != name:
            return typed
    return name + name[-1]


def demo_patient_rows(
    *, seed: int, count: int, today: dt.date, pools: DemoPools | None = None, tz: str = "UTC"
) -> Iterator[PatientRow]:
    """The demo's patients in registration order; pure, so the same arguments give the same rows.

    About DUPLICATE_RATE of them are planted near-duplicates of an earlier patient
    (`duplicate_of` gives its position).
    """
    rng = random.Random(f"frontdesk-demo:{seed}:patients")
    generator = _PatientGenerator(
        rng=rng, pools=pools if pools is not None else demo_pools(seed), today=today, tz=tz
    )
    duplicate_count = round(count * DUPLICATE_RATE) if count > 1 else 0
    duplicate_positions = set(rng.sample(range(1, count), duplicate_count))
    original_of: dict[int, int] = {}
    for position in sorted(duplicate_positions):
        original = rng.randrange(position)
        while original in duplicate_positions:
            original = rng.randrange(position)
        original_of[position] = original
    # Only the originals are kept in memory, so a million patients stream through.
    needed = set(original_of.values())
    kept: dict[int, PatientRow] = {}
    for position in range(count):
        if position in original_of:
            yield generator.near_duplicate(kept[original_of[position]], original_of[position])
            continue
        row = generator.new_patient()
        if position in needed:
            kept[position] = row
        yield row


# --- Building the clinic ----------------------------------------------------------------------

DEMO_STAFF: tuple[tuple[Role, str], ...] = (
    (Role.FRONT_DESK, "frontdesk"),
    (Role.NURSE, "nurse"),
    (Role.PHYSICIAN, "physician"),
    (Role.BILLING, "billing"),
    (Role.SUPERVISOR, "supervisor"),
    (Role.ADMIN, "admin"),
)


class DemoRefusedError(Exception):
    """The demo will not load into this database; the message says why and what to do."""


@dataclass(frozen=True)
class StaffLogin:
    role: str
    username: str
    password: str

    @property
    def line(self) -> str:
        return f"{self.role} {self.username} {self.password}"


@dataclass(frozen=True)
class DemoResult:
    clinic: Clinic
    created: bool  # False: the demo was already loaded and nothing was built
    patients: int
    duplicates: tuple[tuple[str, str], ...]  # (original MRN, duplicate MRN) pairs planted
    logins: tuple[StaffLogin, ...]


def demo_clinic_loaded(name: str | None = None) -> Clinic | None:
    """The clinic the demo built, if it is in this database."""
    clinic = Clinic.objects.filter(name=name or settings.CLINIC_NAME).first()
    if clinic is None or not _is_demo_clinic(clinic):
        return None
    return clinic


def _is_demo_clinic(clinic: Clinic) -> bool:
    # The audit event written by the build marks the clinic as the demo's: a real clinic that
    # happens to share CLINIC_NAME is never filled with synthetic patients or has passwords reset.
    return AuditEvent.objects.filter(
        action=AuditAction.SYSTEM,
        object_type="clinic",
        object_id=str(clinic.pk),
        detail__has_key="demo_patients",
    ).exists()


def demo_clinic_build(
    *,
    seed: int = DEFAULT_SEED,
    patients: int = DEFAULT_PATIENTS,
    today: dt.date | None = None,
    progress: bool = False,
) -> DemoResult:
    """Build the demo clinic in one transaction, or do nothing if it is already loaded.

    Raises DemoRefusedError if a clinic of that name exists that the demo did not build, or if a
    demo username is taken. `today` anchors ages and visit dates (default: today at the clinic).
    """
    name, tz = settings.CLINIC_NAME, settings.CLINIC_TIME_ZONE
    if today is None:
        today = timezone.now().astimezone(zoneinfo.ZoneInfo(tz)).date()
    with transaction.atomic():
        existing = Clinic.objects.filter(name=name).first()
        if existing is not None:
            if _is_demo_clinic(existing):
                return DemoResult(existing, False, existing.patients.count(), (), ())
            raise DemoRefusedError(
                f"A clinic named {name!r} already exists and was not built by the demo; "
                "set CLINIC_NAME to another name or use an empty database."
            )
        taken = sorted(
            User.objects.filter(username__in=[u for _, u in DEMO_STAFF]).values_list(
                "username", flat=True
            )
        )
        if taken:
            raise DemoRefusedError(f"The demo's usernames are taken already: {', '.join(taken)}.")

        pools = demo_pools(seed)
        clinic = Clinic.objects.create(name=name, time_zone=tz)
        setup_rng = random.Random(f"frontdesk-demo:{seed}:setup")
        providers = _setup_create(clinic=clinic, rng=setup_rng, pools=pools)
        logins = _staff_create(clinic=clinic, rng=setup_rng, pools=pools, providers=providers)
        payers = {
            spec.name: Payer.objects.create(
                clinic=clinic,
                name=spec.name,
                payer_id=spec.payer_id,
                member_id_pattern=spec.member_id_pattern,
            ).pk
            for spec in PAYER_SPECS
        }
        rows = demo_patient_rows(seed=seed, count=patients, today=today, pools=pools, tz=tz)
        with _sqlite_cache(mebibytes=256):
            duplicates = _patients_insert(
                clinic=clinic,
                rows=rows,
                count=patients,
                payers=payers,
                progress=progress,
                money_rng=random.Random(f"frontdesk-demo:{seed}:accounts"),
            )
        appointments = demo_schedule_build(clinic=clinic, seed=seed, today=today)
        audit_record(
            context=SYSTEM_CONTEXT,
            action=AuditAction.SYSTEM,
            object_type="clinic",
            object_id=clinic.pk,
            detail={"demo_patients": patients, "seed": seed, "appointments": appointments},
        )
    return DemoResult(clinic, True, patients, duplicates, logins)


def _setup_create(*, clinic: Clinic, rng: random.Random, pools: DemoPools) -> list[Provider]:
    locations = []
    for location_name in rng.sample(LOCATION_NAMES, 3):
        city, state, postal_code = rng.choice(pools.home_places)
        locations.append(
            Location.objects.create(
                clinic=clinic,
                name=location_name,
                address=(
                    f"{rng.randint(1, 999)} {rng.choice(pools.streets)}, "
                    f"{city}, {state} {postal_code}"
                ),
                phone=f"{rng.choice(pools.phone_prefixes)}{rng.randrange(10_000):04d}",
            )
        )
    providers = []
    for index, spec in enumerate(PROVIDER_SPECS):
        names = pools.female_names if spec.sex == Sex.FEMALE else pools.male_names
        provider = Provider.objects.create(
            clinic=clinic,
            given_name=rng.choice(names),
            family_name=rng.choice(pools.family_names),
            credentials=spec.credentials,
            specialty=spec.specialty,
            npi=_npi(rng),
        )
        # Everyone works at one location; some cover a second.
        home = locations[index % len(locations)]
        worksites = [home]
        if rng.random() < 0.35:
            worksites.append(rng.choice([loc for loc in locations if loc is not home]))
        provider.locations.set(worksites)
        providers.append(provider)
    AppointmentType.objects.bulk_create(
        AppointmentType(
            clinic=clinic,
            name=spec.name,
            duration_minutes=spec.duration_minutes,
            is_new_patient=spec.is_new_patient,
            colour=spec.colour,
            preparation=spec.preparation,
            telehealth=spec.telehealth,
        )
        for spec in APPOINTMENT_TYPE_SPECS
    )
    return providers


def _npi(rng: random.Random) -> str:
    # A National Provider Identifier's check digit is Luhn over "80840" + the first nine digits.
    body = str(rng.randint(100_000_000, 299_999_999))
    return body + luhn.calc_check_digit("80840" + body)


def _staff_create(
    *, clinic: Clinic, rng: random.Random, pools: DemoPools, providers: list[Provider]
) -> tuple[StaffLogin, ...]:
    logins = []
    for role, username in DEMO_STAFF:
        if role == Role.PHYSICIAN:
            # The physician's login belongs to the first family doctor on the provider list.
            first_name, last_name = providers[0].given_name, providers[0].family_name
        else:
            first_name = rng.choice(pools.female_names + pools.male_names)
            last_name = rng.choice(pools.family_names)
        password = _password_new()
        staff_create(
            clinic=clinic,
            username=username,
            password=password,
            role=role,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@example.com",
        )
        logins.append(StaffLogin(role.value, username, password))
    return tuple(logins)


def _password_new(user: User | None = None) -> str:
    while True:
        password = secrets.token_urlsafe(12)  # 16 characters, 96 bits
        if password.startswith("-"):  # pasted after a command, it would read as an option
            continue
        try:
            validate_password(password, user)
        except ValidationError:
            continue
        return password


class _RowWriter:
    """Inserts rows of one model with the driver's executemany, in the caller's transaction.

    `bulk_create` spends about 200 microseconds a row compiling SQL (measured: 4,300 patients a
    second on SQLite), which at a million patients is most of the five-minute budget; this
    sends the same rows through executemany (SQLite) or COPY (PostgreSQL) at a fraction of the
    cost. Columns come from the model, so a field added later gets its default (or fails
    loudly if it has none and is NOT NULL).
    """

    def __init__(self, model: type[models.Model]) -> None:
        ops = connection.ops
        # Generated columns (Coverage.member_id_norm) are the database's to write.
        fields = [
            field
            for field in model._meta.concrete_fields
            if not field.primary_key and not field.generated
        ]
        columns = [ops.quote_name(field.column or field.attname) for field in fields]
        # Only quoted identifiers from the model's metadata are formatted in; values are params.
        target = f"{ops.quote_name(model._meta.db_table)} ({', '.join(columns)})"
        self.sql = f"INSERT INTO {target} VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        self.copy_sql = f"COPY {target} FROM STDIN"
        self.columns: list[tuple[str, object, Callable[[Any], object] | None]] = []
        for field in fields:
            adapt: Callable[[Any], object] | None = None
            if isinstance(field, models.DateTimeField):
                adapt = ops.adapt_datetimefield_value
            elif isinstance(field, models.DateField):
                adapt = ops.adapt_datefield_value
            default = field.get_db_prep_save(field.get_default(), connection)
            self.columns.append((field.attname, default, adapt))

    def insert(self, rows: list[dict[str, object]]) -> None:
        if not rows:
            return
        unknown = rows[0].keys() - {name for name, _, _ in self.columns}
        if unknown:  # a renamed field must not be dropped silently
            raise ValueError(f"No such columns: {', '.join(sorted(unknown))}")
        params: list[list[Any]] = [
            [
                default
                if name not in row
                else (adapt(row[name]) if adapt is not None else row[name])
                for name, default, adapt in self.columns
            ]
            for row in rows
        ]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Row-by-row INSERTs cost PostgreSQL a statement each (3,000 patients a second,
                # measured); COPY streams the batch in one statement.
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for values in params:
                        copy.write_row(values)
            else:
                cursor.executemany(self.sql, params)


_PATIENT_ROW_FIELDS = (
    "given_name",
    "middle_name",
    "family_name",
    "suffix",
    "preferred_name",
    "birth_date",
    "sex",
    "phone",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "last_visit_on",
    "created_at",
    "updated_at",
)


@contextlib.contextmanager
def _sqlite_cache(*, mebibytes: int) -> Iterator[None]:
    """A larger SQLite page cache while loading, put back afterwards.

    The patient table has a dozen indexes filled in random order; with SQLite's default 2 MB
    cache their pages go to and from the OS on nearly every row, and a million patients took
    half as long again (measured).
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-1024 * int(mebibytes)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


class _DerivedColumns:
    """The search and matching columns that `patient_derive_fields` fills, per name.

    They depend on one name each, and names repeat thousands of times across a million
    patients, so each distinct name is derived once (through the same function registration
    uses, so demo patients are found exactly as registered ones are).
    """

    def __init__(self) -> None:
        self.family: dict[str, tuple[str, str]] = {}
        self.given: dict[str, tuple[str, str]] = {}
        self.preferred: dict[str, str] = {}

    def of(self, row: PatientRow) -> dict[str, object]:
        family = self.family.get(row.family_name)
        if family is None:
            derived = patient_derive_fields(Patient(family_name=row.family_name))
            family = self.family[row.family_name] = (derived.family_norm, derived.family_key)
        given = self.given.get(row.given_name)
        if given is None:
            derived = patient_derive_fields(Patient(given_name=row.given_name))
            given = self.given[row.given_name] = (derived.given_norm, derived.given_key)
        preferred = self.preferred.get(row.preferred_name)
        if preferred is None:
            derived = patient_derive_fields(Patient(preferred_name=row.preferred_name))
            preferred = self.preferred[row.preferred_name] = derived.preferred_norm
        return {
            "family_norm": family[0],
            "family_key": family[1],
            "given_norm": given[0],
            "given_key": given[1],
            "preferred_norm": preferred,
            "phone_last4": phone_last4(row.phone),
        }


def _patients_insert(
    *,
    clinic: Clinic,
    rows: Iterator[PatientRow],
    count: int,
    payers: dict[str, int],
    progress: bool,
    money_rng: random.Random,
) -> tuple[tuple[str, str], ...]:
    mrns = mrn_reserve(count) if count else []
    patient_writer, coverage_writer = _RowWriter(Patient), _RowWriter(Coverage)
    ledger_writer = _RowWriter(LedgerEntry)
    derived = _DerivedColumns()
    duplicates: list[tuple[str, str]] = []
    position = 0
    with tqdm(
        total=count, unit=" patients", file=sys.stderr, disable=not progress, smoothing=0.1
    ) as bar:
        while batch := list(islice(rows, BATCH_SIZE)):
            batch_mrns = mrns[position : position + len(batch)]
            for offset, row in enumerate(batch):
                if row.duplicate_of is not None:
                    duplicates.append((mrns[row.duplicate_of], batch_mrns[offset]))
            position += len(batch)
            patient_writer.insert(
                [
                    {
                        "clinic_id": clinic.pk,
                        "mrn": mrn,
                        **{name: getattr(row, name) for name in _PATIENT_ROW_FIELDS},
                        **derived.of(row),
                        **_demo_consent(row, mrn),
                    }
                    for mrn, row in zip(batch_mrns, batch, strict=True)
                ]
            )
            ids = dict(
                Patient.objects.filter(mrn__in=batch_mrns).values_list("mrn", "pk").iterator()
            )
            # A separate generator, so the patients themselves stay what the seed made them.
            balances, copays = _demo_money(money_rng, batch_mrns)
            coverage_writer.insert(
                [
                    {
                        "patient_id": ids[mrn],
                        "payer_id": payers[coverage.payer],
                        "rank": coverage.rank,
                        "plan_name": coverage.plan_name,
                        "member_id": coverage.member_id,
                        "group_number": coverage.group_number,
                        "subscriber_name": coverage.subscriber_name,
                        "relationship": coverage.relationship,
                        "effective_date": coverage.effective_date,
                        "copay": copays.get(mrn) if coverage.rank == 1 else None,
                    }
                    for mrn, row in zip(batch_mrns, batch, strict=True)
                    for coverage in row.coverages
                ]
            )
            ledger_writer.insert(
                [
                    {
                        "clinic_id": clinic.pk,
                        "patient_id": ids[mrn],
                        "kind": EntryKind.CHARGE,
                        "amount": amount,
                        "description": "Balance brought forward",
                        "created_at": row.updated_at,
                    }
                    for mrn, row in zip(batch_mrns, batch, strict=True)
                    if (amount := balances.get(mrn)) is not None
                ]
            )
            bar.update(len(batch))
    # One-typo search looks family names up in this dictionary before it touches patients.
    family_names_register(norm for norm, _ in derived.family.values())
    return tuple(duplicates)


def _demo_consent(row: PatientRow, mrn: str) -> dict[str, object]:
    """Who agreed to messages, so the demo's reminders reach its outbox: everyone with an email
    address agreed to email; those with a (mobile) number and no email, and one in four of the
    others, to texts, which they then prefer. Derived from the row and MRN, not the generator,
    so the seed's patients stay the same."""
    email = bool(row.email)
    sms = bool(row.phone) and (not email or zlib.crc32(mrn.encode()) % 4 == 0)
    preferred = (
        ContactChannel.SMS if sms else ContactChannel.EMAIL if email else ContactChannel.PHONE
    )
    return {"consent_email": email, "consent_sms": sms, "preferred_contact": preferred.value}


# About one patient in ten owes a little, and one in ten has a co-pay on the primary plan.
DEMO_BALANCE_RATE = 0.10
DEMO_COPAY_RATE = 0.10
_DEMO_COPAYS = tuple(Decimal(v) for v in ("10.00", "15.00", "20.00", "25.00", "30.00", "40.00"))


def _demo_money(
    rng: random.Random, mrns: Sequence[str]
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    balances: dict[str, Decimal] = {}
    copays: dict[str, Decimal] = {}
    for mrn in mrns:
        if rng.random() < DEMO_BALANCE_RATE:
            balances[mrn] = Decimal(rng.randrange(1_500, 25_001)) / 100  # $15 to $250
        if rng.random() < DEMO_COPAY_RATE:
            copays[mrn] = rng.choice(_DEMO_COPAYS)
    return balances, copays


# --- Staff credentials ------------------------------------------------------------------------


def demo_credentials_write(*, path: Path, logins: Sequence[StaffLogin]) -> None:
    """Write `role username password` lines to a file only its owner may read (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # os.open's mode applies only to a new file; an old one may have been more open.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.writelines(f"{login.line}\n" for login in logins)


@transaction.atomic
def demo_credentials_reset(*, clinic: Clinic) -> tuple[StaffLogin, ...]:
    """New passwords for the demo's staff in this clinic (for a lost credentials file)."""
    users = {
        user.username: user
        for user in User.objects.filter(clinic=clinic, username__in=[u for _, u in DEMO_STAFF])
    }
    logins = []
    for role, username in DEMO_STAFF:
        user = users.get(username)
        if user is None:
            continue
        password = _password_new(user)
        user.set_password(password)
        user.save(update_fields=["password"])
        logins.append(StaffLogin(role.value, username, password))
    audit_record(
        context=SYSTEM_CONTEXT,
        action=AuditAction.SYSTEM,
        object_type="clinic",
        object_id=clinic.pk,
        detail={"demo_credentials_reset": [login.username for login in logins]},
    )
    return tuple(logins)


@dataclass(frozen=True)
class DemoOutcome:
    result: DemoResult
    credentials: tuple[str, ...]  # the credential file's lines
    credentials_source: str  # "new", "file" (read back) or "reset"


def demo_load(
    *,
    seed: int = DEFAULT_SEED,
    patients: int = DEFAULT_PATIENTS,
    credentials_path: Path,
    today: dt.date | None = None,
    progress: bool = False,
) -> DemoOutcome:
    """What `frontdesk demo` does: build once, and always leave a working credentials file."""
    result = demo_clinic_build(seed=seed, patients=patients, today=today, progress=progress)
    if result.created:
        # Written after the commit, so the file never names accounts that were rolled back.
        demo_credentials_write(path=credentials_path, logins=result.logins)
        return DemoOutcome(result, tuple(login.line for login in result.logins), "new")
    if credentials_path.exists():
        lines = tuple(credentials_path.read_text(encoding="utf-8").splitlines())
        return DemoOutcome(result, lines, "file")
    logins = demo_credentials_reset(clinic=result.clinic)
    demo_credentials_write(path=credentials_path, logins=logins)
    return DemoOutcome(result, tuple(login.line for login in logins), "reset")
