"""The demo's people, made up from a seed: pools of names, streets and places asked of Faker
once, then combined by the seeded generator into patient rows (with planted duplicates and
typos for the duplicate check to find).

Everything random comes from `random.Random` seeded with the demo seed, so one seed and one
reference date give the same patients row for row. Faker is slow (tens of microseconds a
name), so it is only asked once for pools, which the seeded generator then combines.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import string
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, replace

import phonenumbers
from faker import Faker

from frontdesk.demo.data import (
    COMMERCIAL_PAYERS,
    DUPLICATE_RATE,
    EMAIL_DOMAINS,
    INSURED_RATE,
    NICKNAMES,
    PAYER_BY_NAME,
    REGISTRATION_YEARS,
    SECONDARY_RATE,
    PayerSpec,
)
from frontdesk.patients.models import Sex


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
            primary = PAYER_BY_NAME["Medicare"] if roll < 0.85 else rng.choice(COMMERCIAL_PAYERS)
        elif age_years < 18:
            primary = PAYER_BY_NAME["Medicaid"] if roll < 0.35 else rng.choice(COMMERCIAL_PAYERS)
        elif roll < 0.12:
            primary = PAYER_BY_NAME["Medicaid"]
        elif roll < 0.16:
            primary = PAYER_BY_NAME["Tricare"]
        else:
            primary = rng.choice(COMMERCIAL_PAYERS)
        rows = [self._coverage(primary, 1, age_years, birth_date, family, sex)]
        if rng.random() < SECONDARY_RATE:
            if primary.name == "Medicare":
                # Dual eligibility, or a supplemental plan.
                secondary = (
                    PAYER_BY_NAME["Medicaid"]
                    if rng.random() < 0.3
                    else rng.choice(COMMERCIAL_PAYERS)
                )
            else:
                secondary = rng.choice([p for p in COMMERCIAL_PAYERS if p is not primary])
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
