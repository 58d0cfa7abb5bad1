"""The registration-time duplicate check on a multi-locale clinic population with households.

    .venv/bin/python bench/matching_population.py            # also runs bench/matching_febrl.py
    .venv/bin/python bench/matching_population.py --no-febrl

Goals (issue 16): of genuinely new patients, at most 0.1 % are stopped as an existing patient
and at most 5 % are shown a duplicate warning (a household member's family note is counted
apart, it is not a warning); of returning patients registered again, at least 99 % are warned
or stopped and at least 85 % are stopped as the existing patient. The baseline of the ratio
is the 5 % warning budget for new patients. The FEBRL benchmark (F1 >= Splink, precision >=
0.999 at the existing-patient threshold) runs in the same run unless --no-febrl.

The generator is this file's own, seeded, and uses no part of the scorer (no nickname table,
no phonetic code): names come from Faker's locales (en_US, es_MX, pt_BR, fr_FR, de_DE, it_IT,
vi_VN, zh_CN romanised, en_IN) and a short list of romanised Arabic names written here; the
short forms and spellings a desk meets are listed below from general knowledge, as a desk
would hear them, not from Frontdesk's tables (some are in them, some are not).

- People live in households at addresses of one clinic's catchment (towns with a postal code
  each): about half live alone; the others as couples, parents and children, sharing the
  address and often the phone; Spanish and Portuguese speakers carry double family names.
- About 1,000 second registrations of people already registered, each corrupted as desks
  corrupt data: a nickname or another spelling, a typo, day and month swapped, a typo in the
  birth year, a married name with or without a new phone or address, a double family name
  cut to one part, given and family names swapped, accents dropped, contact fields left out,
  a move, a new phone, and about a fifth with two of these.
- About 300 look-alikes, new patients who are not the person they resemble: twins, a Jr
  and Sr born on the same day and month, namesakes with a common name born the same day in
  the same town, a parent and child.
- Every registration is replayed in order through `duplicate_check` (what the registration
  page and `patient_register` call) on a scratch SQLite database (or --database-url); a new
  patient is then inserted, and so is a returning one the check missed (the duplicate a desk
  would have made).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

LOCALES = ("en_US", "es_MX", "pt_BR", "fr_FR", "de_DE", "it_IT", "vi_VN", "zh_CN", "en_IN", "ar")
# Shares of the population by origin of the name: a diverse city clinic.
LOCALE_WEIGHTS = (30, 14, 8, 6, 6, 6, 8, 8, 8, 6)

GOAL_NEW_BLOCKED = 0.001
GOAL_NEW_WARNED = 0.05
GOAL_RETURNING_FOUND = 0.99
GOAL_RETURNING_BLOCKED = 0.85

# Romanised Arabic names as people write them (one spelling each; the desk may hear another).
ARABIC_FEMALE = [
    "Fatima",
    "Aisha",
    "Maryam",
    "Zainab",
    "Layla",
    "Nour",
    "Amira",
    "Yasmin",
    "Samira",
    "Huda",
    "Hana",
    "Salma",
    "Rania",
    "Khadija",
    "Noura",
    "Dalia",
    "Reem",
    "Lina",
    "Sara",
    "Mona",
    "Dina",
    "Rasha",
    "Hiba",
    "Iman",
]
ARABIC_MALE = [
    "Muhammad",
    "Ahmad",
    "Mahmoud",
    "Mustafa",
    "Hussein",
    "Hassan",
    "Omar",
    "Othman",
    "Abdullah",
    "Youssef",
    "Ibrahim",
    "Khaled",
    "Walid",
    "Said",
    "Tariq",
    "Karim",
    "Jamal",
    "Nasser",
    "Rashid",
    "Hamza",
    "Bilal",
    "Ali",
    "Ziad",
    "Sami",
    "Fadi",
    "Adel",
    "Nabil",
]
ARABIC_FAMILY = [
    "Haddad",
    "Khoury",
    "Nasser",
    "Hussein",
    "Hassan",
    "Ibrahim",
    "Mansour",
    "Saleh",
    "Khalil",
    "Aziz",
    "Hamdan",
    "Farah",
    "Sabbagh",
    "Darwish",
    "Jaber",
    "Qasim",
    "Rahman",
    "Saeed",
    "Abboud",
    "Othman",
    "Najjar",
    "Bitar",
    "Shami",
    "Masri",
    "Halabi",
    "Karam",
]

# What a desk hears for a given name: short forms and other spellings, by general knowledge.
SHORT_FORMS: dict[str, tuple[str, ...]] = {
    # English
    "Robert": ("Bob", "Rob", "Bobby"),
    "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Betty"),
    "Jennifer": ("Jen", "Jenny"),
    "Michael": ("Mike", "Mikey"),
    "James": ("Jim", "Jimmy"),
    "Richard": ("Rick", "Dick", "Rich"),
    "Katherine": ("Kate", "Katie", "Kathy"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Thomas": ("Tom", "Tommy"),
    "Joseph": ("Joe", "Joey"),
    "Daniel": ("Dan", "Danny"),
    "Christopher": ("Chris",),
    "Matthew": ("Matt",),
    "Anthony": ("Tony",),
    "Patricia": ("Pat", "Patty"),
    "Jessica": ("Jess",),
    "Rebecca": ("Becky",),
    "Susan": ("Sue",),
    "Deborah": ("Debbie", "Deb"),
    "Samantha": ("Sam",),
    "Nicholas": ("Nick",),
    "Benjamin": ("Ben",),
    "Alexander": ("Alex",),
    "Jonathan": ("Jon",),
    "Timothy": ("Tim",),
    "Steven": ("Steve",),
    "Kimberly": ("Kim",),
    "Victoria": ("Vicky",),
    "Andrew": ("Andy", "Drew"),
    # Spanish
    "José": ("Pepe", "Chema"),
    "Francisco": ("Paco", "Pancho"),
    "Dolores": ("Lola",),
    "Concepción": ("Concha",),
    "Ignacio": ("Nacho",),
    "Jesús": ("Chuy", "Chucho"),
    "Guadalupe": ("Lupe",),
    "Enrique": ("Quique",),
    "Manuel": ("Manolo",),
    "Guillermo": ("Memo",),
    "Eduardo": ("Lalo",),
    "Alejandro": ("Alejo",),
    "Fernando": ("Nando",),
    "Rosario": ("Charo",),
    "Roberto": ("Beto",),
    "Alberto": ("Beto",),
    "Antonio": ("Toño", "Tony"),
    "Santiago": ("Santi",),
    "Rafael": ("Rafa",),
    # Portuguese
    "João": ("Joãozinho",),
    "Beatriz": ("Bia",),
    "Gabriela": ("Gabi",),
    "Eduarda": ("Duda",),
    "Fernanda": ("Nanda",),
    "Sebastião": ("Tião",),
    "Joaquim": ("Quim",),
    "Daniela": ("Dani",),
    # French
    "Emmanuel": ("Manu",),
    "Nicolas": ("Nico",),
    "Sébastien": ("Seb",),
    "Frédéric": ("Fred",),
    "Isabelle": ("Isa",),
    "Dominique": ("Domi",),
    "Stéphane": ("Steph",),
    # German
    "Johannes": ("Hans", "Hannes"),
    "Josef": ("Sepp",),
    "Friedrich": ("Fritz",),
    "Heinrich": ("Heinz",),
    "Wilhelm": ("Willi",),
    "Wolfgang": ("Wolf",),
    "Ulrich": ("Uli",),
    "Stefanie": ("Steffi",),
    "Katharina": ("Kathi",),
    "Sebastian": ("Basti",),
    "Magdalena": ("Lena",),
    # Italian
    "Giuseppe": ("Beppe", "Peppe", "Pino"),
    "Giovanni": ("Gianni",),
    "Salvatore": ("Totò",),
    "Francesco": ("Franco",),
    "Alessandro": ("Sandro",),
    "Vincenzo": ("Enzo",),
    "Luigi": ("Gigi",),
    "Federico": ("Fede",),
    "Elisabetta": ("Betta",),
    "Giuseppina": ("Pina",),
    # Arabic spellings
    "Muhammad": ("Mohammed", "Mohamed", "Mohammad"),
    "Ahmad": ("Ahmed",),
    "Mustafa": ("Mostafa",),
    "Hussein": ("Husain", "Hussain"),
    "Omar": ("Umar",),
    "Youssef": ("Yusuf", "Yousef"),
    "Khaled": ("Khalid",),
    "Said": ("Saeed",),
    "Tariq": ("Tarek",),
    "Fatima": ("Fatma",),
    "Aisha": ("Ayesha",),
    "Layla": ("Leila",),
    "Nour": ("Noor",),
    "Yasmin": ("Yasmine",),
    # Indian spellings
    "Lakshmi": ("Laxmi",),
    "Deepak": ("Dipak",),
    "Sandeep": ("Sandip",),
    "Pradeep": ("Pradip",),
    "Kavita": ("Kavitha",),
    "Sunita": ("Sunitha",),
    "Geeta": ("Gita",),
    "Vijay": ("Vijai",),
    "Abhishek": ("Abhi",),
    "Karthik": ("Kartik",),
}

KINDS = (
    "nickname",
    "typo",
    "day_month_swap",
    "year_typo",
    "married",
    "married_moved",
    "double_family_cut",
    "names_swapped",
    "accents_dropped",
    "contacts_missing",
    "moved",
    "new_phone",
)


@dataclass
class Person:
    pid: int
    locale: str
    given: str
    family: str
    birth: dt.date
    sex: str
    phone: str
    email: str
    address: tuple[str, str, str, str]  # line1, city, state, postal code
    suffix: str = ""
    middle: str = ""


@dataclass
class Event:
    time: float
    kind: str  # "new", "lookalike:<kind>" or "returning:<kind>"
    person: Person
    original: int | None = None  # pid of the person a returning registration is
    resembles: int | None = None  # pid of the person a look-alike resembles


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


class Population:
    def __init__(self, seed: int, people: int) -> None:
        from faker import Faker

        self.rng = random.Random(seed)
        self.fakers = {}
        for locale in LOCALES:
            if locale == "ar":
                continue
            faker = Faker(locale)
            faker.seed_instance(seed)
            self.fakers[locale] = faker
        us = Faker("en_US")
        us.seed_instance(seed + 1)
        # One clinic's catchment: 18 towns, a postal code each, 40 streets each.
        self.towns = []
        for i in range(18):
            town = us.unique.city()
            streets = [us.street_name() for _ in range(40)]
            self.towns.append((town, "CA", f"9{4000 + i * 37:04d}", streets))
        self.today = dt.date(2026, 12, 1)
        self.next_pid = 0
        self.people: dict[int, Person] = {}
        self.target = people
        self.used_phones: set[str] = set()

    # -- values -------------------------------------------------------------------------

    def pid(self) -> int:
        self.next_pid += 1
        return self.next_pid

    def phone(self) -> str:
        while True:
            area = self.rng.choice((415, 510, 628, 650, 707))
            number = f"+1{area}{self.rng.randrange(2_000_000, 9_999_999):07d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def address(self, town: tuple[str, str, str, list[str]] | None = None) -> tuple[str, ...]:
        name, state, postal, streets = town or self.rng.choice(self.towns)
        line1 = f"{self.rng.randint(1, 2999)} {self.rng.choice(streets)}"
        if self.rng.random() < 0.15:
            line1 += f" Apt {self.rng.randint(1, 40)}"
        return (line1, name, state, postal)

    def given(self, locale: str, sex: str) -> str:
        rng = self.rng
        if locale == "ar":
            return rng.choice(ARABIC_FEMALE if sex == "female" else ARABIC_MALE)
        faker = self.fakers[locale]
        if locale == "zh_CN":
            return faker.first_romanized_name()
        return faker.first_name_female() if sex == "female" else faker.first_name_male()

    def family(self, locale: str) -> str:
        if locale == "ar":
            return self.rng.choice(ARABIC_FAMILY)
        faker = self.fakers[locale]
        if locale == "zh_CN":
            return faker.last_romanized_name()
        return faker.last_name()

    def birth(self, low: int, high: int) -> dt.date:
        year = self.rng.randint(low, high)
        start = dt.date(year, 1, 1)
        return start + dt.timedelta(days=self.rng.randrange(366 if year % 4 == 0 else 365))

    def email(self, given: str, family: str) -> str:
        if self.rng.random() < 0.45:
            local = strip_accents(f"{given}.{family}").lower().replace(" ", "")
            return f"{local}{self.rng.randint(1, 99)}@example.org"
        return ""

    def person(self, locale: str, sex: str, family: str, birth: dt.date, **kw: object) -> Person:
        given = str(kw.pop("given", "")) or self.given(locale, sex)
        return Person(
            pid=self.pid(),
            locale=locale,
            given=given,
            family=family,
            birth=birth,
            sex=sex,
            phone=str(kw.pop("phone", "")),
            email=str(kw.pop("email", "")),
            address=kw.pop("address"),  # type: ignore[arg-type]
            suffix=str(kw.pop("suffix", "")),
            middle=self.given(locale, sex) if self.rng.random() < 0.25 else "",
        )

    def double_family(self, locale: str) -> str:
        first, second = self.family(locale), self.family(locale)
        if locale in ("es_MX", "pt_BR") and self.rng.random() < 0.6 and first != second:
            return f"{first} {second}"
        return first

    # -- households ---------------------------------------------------------------------

    def build(self) -> list[Person]:
        rng = self.rng
        order: list[Person] = []
        while len(order) < self.target:
            locale = rng.choices(LOCALES, LOCALE_WEIGHTS)[0]
            address = self.address()
            shape = rng.random()
            if shape < 0.66:  # alone: about half of all people
                sex = rng.choice(("female", "male"))
                members = [
                    self.person(
                        locale,
                        sex,
                        self.double_family(locale),
                        self.birth(1935, 2006),
                        address=address,
                        phone=self.phone() if rng.random() < 0.93 else "",
                        email="",
                    )
                ]
            else:
                family = self.double_family(locale)
                shared_phone = self.phone() if rng.random() < 0.5 else ""
                adults = []
                for sex in ("male", "female")[: 1 if rng.random() < 0.15 else 2]:
                    own = family if sex == "male" or rng.random() < 0.7 else self.family(locale)
                    adults.append(
                        self.person(
                            locale,
                            sex,
                            own,
                            self.birth(1945, 1998),
                            address=address,
                            phone=shared_phone or self.phone(),
                        )
                    )
                children = []
                youngest_parent = max(a.birth.year for a in adults)
                for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                    low = youngest_parent + 20
                    if low > 2025:
                        break
                    child_family = adults[0].family
                    if len(adults) > 1 and locale in ("es_MX", "pt_BR"):
                        child_family = (
                            f"{adults[0].family.split()[0]} {adults[1].family.split()[0]}"
                        )
                    child_sex = rng.choice(("female", "male"))
                    children.append(
                        self.person(
                            locale,
                            child_sex,
                            child_family,
                            self.birth(low, min(low + 18, 2025)),
                            address=address,
                            phone=shared_phone or (self.phone() if rng.random() < 0.5 else ""),
                        )
                    )
                members = adults + children
            for member in members:
                member.email = self.email(member.given, member.family)
                self.people[member.pid] = member
            order.extend(members)
        return order[: self.target]


def year_typo(rng: random.Random, birth: dt.date) -> dt.date | None:
    text = f"{birth.year:04d}"
    for _ in range(20):
        if rng.random() < 0.3:
            i = rng.randrange(1, 3)
            typed = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        else:
            i = rng.choice((2, 3, 3, 3))
            typed = text[:i] + rng.choice("0123456789".replace(text[i], "")) + text[i + 1 :]
        year = int(typed)
        if typed != text and 1900 <= year <= 2026:
            try:
                return birth.replace(year=year)
            except ValueError:
                return None
    return None


def typo(rng: random.Random, name: str) -> str:
    if len(name) < 3:
        return name + name[-1:]
    for _ in range(20):
        i = rng.randrange(1, len(name) - 1)
        kind = rng.choice(("swap", "drop", "double", "replace"))
        if kind == "swap":
            typed = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        elif kind == "drop":
            typed = name[:i] + name[i + 1 :]
        elif kind == "double":
            typed = name[: i + 1] + name[i:]
        else:
            typed = name[:i] + rng.choice("aeioulnrst") + name[i + 1 :]
        if typed != name and " " not in typed[i - 1 : i + 2]:
            return typed
    return name


class Corruptor:
    def __init__(self, population: Population) -> None:
        self.pop = population
        self.rng = population.rng

    def apply(self, kind: str, p: Person) -> Person | None:
        rng, pop = self.rng, self.pop
        q = dataclasses.replace(p, pid=p.pid, middle="" if rng.random() < 0.5 else p.middle)
        if kind == "nickname":
            forms = SHORT_FORMS.get(p.given)
            if not forms:
                return None
            return dataclasses.replace(q, given=rng.choice(forms))
        if kind == "typo":
            if rng.random() < 0.5:
                return dataclasses.replace(q, family=typo(rng, p.family))
            return dataclasses.replace(q, given=typo(rng, p.given))
        if kind == "day_month_swap":
            if p.birth.day > 12 or p.birth.day == p.birth.month:
                return None
            return dataclasses.replace(
                q, birth=p.birth.replace(month=p.birth.day, day=p.birth.month)
            )
        if kind == "year_typo":
            birth = year_typo(rng, p.birth)
            return dataclasses.replace(q, birth=birth) if birth else None
        if kind in ("married", "married_moved"):
            if p.sex != "female" or p.birth.year > 2004:
                return None
            q = dataclasses.replace(q, family=pop.family(p.locale))
            if kind == "married_moved":
                q = dataclasses.replace(q, address=pop.address(), phone=pop.phone(), email="")
            elif rng.random() < 0.5:
                q = dataclasses.replace(q, phone=pop.phone())
            return q
        if kind == "double_family_cut":
            parts = p.family.split()
            if len(parts) < 2:
                return None
            return dataclasses.replace(q, family=rng.choice(parts))
        if kind == "names_swapped":
            return dataclasses.replace(q, given=p.family, family=p.given)
        if kind == "accents_dropped":
            plain = dataclasses.replace(
                q, given=strip_accents(p.given), family=strip_accents(p.family)
            )
            return plain if (plain.given, plain.family) != (p.given, p.family) else None
        if kind == "contacts_missing":
            drop = rng.choice(("phone", "address", "all"))
            if drop in ("phone", "all"):
                q = dataclasses.replace(q, phone="", email="")
            if drop in ("address", "all"):
                q = dataclasses.replace(q, address=("", "", "", ""))
            return q
        if kind == "moved":
            return dataclasses.replace(
                q, address=pop.address(), email="" if rng.random() < 0.5 else q.email
            )
        if kind == "new_phone":
            return dataclasses.replace(q, phone=pop.phone())
        raise ValueError(kind)


def lookalikes(
    pop: Population, registered: list[Person], count: int
) -> list[tuple[str, Person, Person]]:
    """(kind, look-alike, the person resembled)."""
    rng = pop.rng
    out: list[tuple[str, Person, Person]] = []
    given_counts = Counter((p.locale, p.given) for p in registered)
    family_counts = Counter((p.locale, p.family) for p in registered)
    per_kind = count // 4
    # Twins: a second child born the same day to a household with a child.
    children = [p for p in registered if p.birth.year >= 1990]
    for p in rng.sample(children, per_kind):
        sex = rng.choice(("female", "male"))
        given = pop.given(p.locale, sex)
        while given == p.given:
            given = pop.given(p.locale, sex)
        twin = pop.person(p.locale, sex, p.family, p.birth, address=p.address, phone=p.phone)
        twin.given = given
        twin.email = pop.email(twin.given, twin.family)
        out.append(("twin", twin, p))
    # Jr and Sr: a son named after his father, born on the same day and month.
    fathers = [p for p in registered if p.sex == "male" and p.birth.year <= 1985]
    for p in rng.sample(fathers, per_kind):
        year = p.birth.year + rng.randint(20, 38)
        try:
            birth = p.birth.replace(year=year)
        except ValueError:
            birth = p.birth.replace(year=year, day=28)
        at_home = rng.random() < 0.6
        son = pop.person(
            p.locale,
            "male",
            p.family,
            birth,
            given=p.given,
            address=p.address if at_home else pop.address(),
            phone=(p.phone if rng.random() < 0.5 else pop.phone()) if at_home else pop.phone(),
            suffix="Jr" if rng.random() < 0.6 else "",
        )
        son.email = pop.email(son.given, son.family)
        out.append(("jr_sr", son, p))

    # Namesakes: the commonest names of each origin, born the same day in the same town.
    def commonness(p: Person) -> int:
        return given_counts[(p.locale, p.given)] * family_counts[(p.locale, p.family)]

    common = sorted(registered, key=commonness, reverse=True)[: per_kind * 4]
    for p in rng.sample(common, per_kind):
        town = next(t for t in pop.towns if t[0] == p.address[1]) if p.address[1] else None
        namesake = pop.person(
            p.locale,
            p.sex,
            p.family,
            p.birth,
            given=p.given,
            address=pop.address(town),
            phone=pop.phone(),
        )
        namesake.email = pop.email(namesake.given, namesake.family)
        out.append(("namesake", namesake, p))
    # Parent and child: a parent (or grown child) moving in, same family name and home.
    for p in rng.sample(registered, count - 3 * per_kind):
        older = rng.random() < 0.5
        year = p.birth.year + (-rng.randint(20, 40) if older else rng.randint(20, 40))
        year = min(max(year, 1925), 2025)
        sex = rng.choice(("female", "male"))
        relative = pop.person(
            p.locale,
            sex,
            p.family,
            pop.birth(year, year),
            given=p.given if sex == p.sex and rng.random() < 0.4 else "",
            address=p.address,
            phone=p.phone if rng.random() < 0.6 else pop.phone(),
        )
        relative.email = pop.email(relative.given, relative.family)
        out.append(("parent_child", relative, p))
    return out


def build_events(
    seed: int, people: int, returning: int, lookalike_count: int
) -> tuple[list[Event], Population]:
    pop = Population(seed, people)
    registered = pop.build()
    rng = pop.rng
    rng.shuffle(registered)
    events = [Event(float(i), "new", p) for i, p in enumerate(registered)]
    at = {p.pid: float(i) for i, p in enumerate(registered)}
    n = float(len(registered))
    for kind, person, resembled in lookalikes(pop, registered, lookalike_count):
        pop.people[person.pid] = person
        events.append(
            Event(
                rng.uniform(at[resembled.pid], n),
                f"lookalike:{kind}",
                person,
                resembles=resembled.pid,
            )
        )
    corruptor = Corruptor(pop)
    made = 0
    while made < returning:
        original = rng.choice(registered)
        if rng.random() < 0.2:
            # Names swapped last: a married name replaces the family name, not the given.
            kinds = sorted(rng.sample(KINDS, 2), key=lambda k: k == "names_swapped")
        else:
            kinds = [rng.choice(KINDS)]
        record: Person | None = original
        for kind in kinds:
            record = corruptor.apply(kind, record) if record else None
        if record is None:
            continue
        events.append(
            Event(
                rng.uniform(at[original.pid], n),
                "returning:" + "+".join(kinds),
                record,
                original=original.pid,
            )
        )
        made += 1
    events.sort(key=lambda e: e.time)
    return events, pop


# ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    total: int = 0
    blocked: int = 0
    warned: int = 0  # warned or blocked
    family_note: int = 0
    wrong_blocked: int = 0  # returning: blocked on someone else
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))


def run(args: argparse.Namespace) -> tuple[bool, str]:
    events, _ = build_events(args.seed, args.people, args.returning, args.lookalikes)
    tmp = None
    if args.database_url:
        url = args.database_url
    else:
        tmp = tempfile.mkdtemp(prefix="frontdesk-population-")
        url = f"sqlite:///{tmp}/population.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from frontdesk.clinic.models import Clinic
    from frontdesk.patients.duplicates import (
        duplicate_check,
        person_record_from_data,
        person_record_from_patient,
    )
    from frontdesk.patients.indexing import family_names_register, patient_derive_fields
    from frontdesk.patients.matching.verdict import EXISTING_PATIENT_THRESHOLD, match_score
    from frontdesk.patients.models import Patient

    call_command("migrate", verbosity=0, interactive=False)
    clinic = Clinic.objects.create(name=f"Population bench {time.time_ns()}")
    pk_of: dict[int, int] = {}
    mrn = 0

    def data_of(p: Person) -> dict[str, object]:
        line1, city, state, postal = p.address
        return {
            "given_name": p.given,
            "family_name": p.family,
            "middle_name": p.middle,
            "suffix": p.suffix,
            "birth_date": p.birth,
            "sex": p.sex,
            "phone": p.phone,
            "email": p.email,
            "address_line1": line1,
            "city": city,
            "state": state,
            "postal_code": postal,
        }

    def insert(p: Person) -> int:
        nonlocal mrn
        mrn += 1
        now = timezone.now()
        patient = Patient(
            clinic=clinic, mrn=f"P{clinic.pk}-{mrn}", created_at=now, updated_at=now, **data_of(p)
        )
        patient_derive_fields(patient).save(force_insert=True)
        family_names_register([patient.family_norm])
        return patient.pk

    new, returning = Tally(), Tally()
    timings: list[float] = []
    wrongly_blocked_examples: list[str] = []
    missed_examples: list[str] = []
    unblocked_examples: list[str] = []
    started = time.monotonic()
    for event in events:
        record = person_record_from_data(data_of(event.person))
        t0 = time.perf_counter()
        check = duplicate_check(clinic_id=clinic.pk, record=record)
        timings.append((time.perf_counter() - t0) * 1000)
        top = check.candidates[0] if check.candidates else None
        blocked = top is not None and top.result.score >= EXISTING_PATIENT_THRESHOLD
        if event.original is None:
            tally = new
            tally.total += 1
            kind = event.kind
            counts = tally.by_kind[kind]
            counts[0] += 1
            if blocked:
                tally.blocked += 1
                counts[1] += 1
                if len(wrongly_blocked_examples) < args.examples:
                    wrongly_blocked_examples.append(
                        f"{kind}: {event.person.given} {event.person.family} {event.person.birth}"
                        f" ~ {top.patient.given_name} {top.patient.family_name} "  # type: ignore[union-attr]
                        f"{top.patient.birth_date}: {'; '.join(top.result.reasons)}"  # type: ignore[union-attr]
                    )
            if check.candidates:
                tally.warned += 1
                counts[2] += 1
            elif check.household:
                tally.family_note += 1
            pk_of[event.person.pid] = insert(event.person)
        else:
            tally = returning
            tally.total += 1
            target = pk_of.get(event.original)
            found = [c for c in check.candidates if c.patient.pk == target]
            kind = event.kind
            counts = tally.by_kind[kind]
            counts[0] += 1
            if found and found[0].result.score >= EXISTING_PATIENT_THRESHOLD:
                tally.blocked += 1
                counts[1] += 1
            if found:
                tally.warned += 1
                counts[2] += 1
                if (
                    found[0].result.score < EXISTING_PATIENT_THRESHOLD
                    and len(unblocked_examples) < args.examples
                ):
                    unblocked_examples.append(f"{kind}: {'; '.join(found[0].result.reasons)}")
            else:
                if len(missed_examples) < args.examples:
                    in_household = any(c.patient.pk == target for c in check.household)
                    original = Patient.objects.get(pk=target)
                    why = match_score(record, person_record_from_patient(original))
                    missed_examples.append(
                        f"{kind} ({'family note' if in_household else 'not found'}): "
                        f"{event.person.given} {event.person.family} {event.person.birth} ~ "
                        f"{original.given_name} {original.family_name} {original.birth_date}"
                        f" [{why.score:.1f}: {'; '.join(why.reasons)}]"
                    )
                insert(event.person)  # the duplicate record a desk would have made
            if blocked and top is not None and top.patient.pk != target:
                tally.wrong_blocked += 1
    elapsed = time.monotonic() - started

    def pct(a: int, b: int) -> str:
        return f"{100 * a / max(b, 1):.2f} %"

    lookalike_total = sum(1 for e in events if e.kind.startswith("lookalike"))
    print(
        f"population: {args.people:,} people in households across {len(LOCALES)} name origins, "
        f"{returning.total:,} second registrations, {lookalike_total} look-alikes; "
        f"{len(events):,} registrations replayed in {elapsed:.0f} s"
    )
    timings.sort()
    median, p95 = timings[len(timings) // 2], timings[int(len(timings) * 0.95)]
    print(
        f"check time: median {median:.1f} ms, p95 {p95:.1f} ms "
        f"(index grows to {len(pk_of):,}; {url.split(':')[0]})"
    )
    print("returning patients by corruption: count, blocked as existing, warned or blocked")
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for kind, counts in returning.by_kind.items():
        name = kind.split(":", 1)[1]
        row = rows["two corruptions" if "+" in name else name]
        for i in range(3):
            row[i] += counts[i]
    for kind, (n, b, w) in sorted(rows.items()):
        print(f"  {kind:<24} {n:>5} {pct(b, n):>9} {pct(w, n):>9}")
    print("new patients by kind: count, blocked as existing, shown a duplicate warning")
    for kind, (n, b, w) in sorted(new.by_kind.items()):
        print(f"  {kind:<24} {n:>5} {pct(b, n):>9} {pct(w, n):>9}")
    for line in wrongly_blocked_examples:
        print(f"  wrongly blocked: {line}")
    for line in missed_examples:
        print(f"  returning missed: {line}")
    for line in unblocked_examples:
        print(f"  returning warned, not blocked: {line}")

    new_blocked = new.blocked / new.total
    new_warned = new.warned / new.total
    ret_found = returning.warned / returning.total
    ret_blocked = returning.blocked / returning.total
    blocked_share = pct(returning.blocked, returning.total)
    print(f"returning patients blocked as existing: {blocked_share} (goal >= 85 %)")
    warned_share = pct(returning.warned, returning.total)
    print(f"returning patients warned or blocked: {warned_share} (goal >= 99 %)")
    print(f"returning patients blocked on another patient's record: {returning.wrong_blocked}")
    print(
        f"new patients wrongly blocked as existing: {pct(new.blocked, new.total)} (goal <= 0.1 %)"
    )
    print(f"new patients shown a duplicate warning: {pct(new.warned, new.total)} (goal <= 5 %)")
    print(
        f"new patients shown only a family note: {pct(new.family_note, new.total)} (not a warning)"
    )
    met = (
        new_blocked <= GOAL_NEW_BLOCKED
        and new_warned <= GOAL_NEW_WARNED
        and ret_found >= GOAL_RETURNING_FOUND
        and ret_blocked >= GOAL_RETURNING_BLOCKED
    )
    if tmp is not None:
        from django.db import connection

        connection.close()
        shutil.rmtree(tmp, ignore_errors=True)  # the scratch database
    figure = (
        f"returning blocked {100 * ret_blocked:.1f} %, warned or blocked {100 * ret_found:.2f} %; "
        f"new blocked {100 * new_blocked:.2f} %, warned {100 * new_warned:.2f} % "
        f"({new_warned / GOAL_NEW_WARNED:.2f} vs the 5 % warning budget)"
    )
    return met, figure


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="use this database instead of a scratch SQLite file")
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--returning", type=int, default=1000)
    parser.add_argument("--lookalikes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--examples", type=int, default=0, help="print so many misses")
    parser.add_argument("--no-febrl", action="store_true", help="skip bench/matching_febrl.py")
    args = parser.parse_args(argv)
    met, figure = run(args)
    goal = "returning blocked >= 85 %, found >= 99 %, new blocked <= 0.1 %, new warned <= 5 %"
    if not args.no_febrl:
        febrl = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "matching_febrl.py")],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = febrl.stdout.strip().splitlines()
        for line in lines[-3:]:
            print(line)
        met = met and bool(lines) and lines[-1].endswith(": met")
        goal += ", and matching_febrl's goal"
    print(f"bench matching_population: {figure}; goal {goal}: {'met' if met else 'missed'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
