"""The seeded clinic population of bench/matching_population.py: people in households,
second registrations corrupted as desks corrupt data, and look-alikes, in time order."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass

from _population_names import (
    ARABIC_FAMILY,
    ARABIC_FEMALE,
    ARABIC_MALE,
    KINDS,
    LOCALE_WEIGHTS,
    LOCALES,
    SHORT_FORMS,
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
