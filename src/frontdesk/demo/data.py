"""The demo clinic's fixed data: locations, providers, appointment types, payers and their
member ID formats, nicknames, and the staff accounts."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from frontdesk.accounts.roles import Role
from frontdesk.patients.models import Sex

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
    # The specialties whose providers see it (its allowed providers); empty: every provider.
    specialties: tuple[str, ...] = ()


_BRING_CARDS = "Bring photo ID, your insurance card and a list of your current medicines."

# Who sees which kind of visit, by the providers' specialties (PROVIDER_SPECS).
_PRIMARY = ("Family medicine", "Internal medicine")
_PHYSICIANS = (
    *_PRIMARY,
    "Pediatrics",
    "Cardiology",
    "Dermatology",
    "Obstetrics and gynecology",
)
_THERAPISTS = ("Physical therapy",)

APPOINTMENT_TYPE_SPECS = (
    AppointmentTypeSpec(
        "New patient visit",
        40,
        "#2f6f9f",
        True,
        preparation=_BRING_CARDS,
        specialties=_PHYSICIANS,
    ),
    AppointmentTypeSpec("Follow-up visit", 20, "#4f6d8f", specialties=_PHYSICIANS),
    AppointmentTypeSpec(
        "Annual physical",
        40,
        "#3d8b5a",
        preparation="Fast for 8 hours beforehand if your provider has ordered blood work.",
        specialties=(*_PRIMARY, "Obstetrics and gynecology"),
    ),
    AppointmentTypeSpec(
        "Telehealth follow-up",
        20,
        "#7a5ea8",
        telehealth=True,
        preparation="Join the video link 5 minutes early from a quiet, private room.",
        specialties=_PHYSICIANS,
    ),
    AppointmentTypeSpec("Sick visit", 20, "#b0503c", specialties=(*_PRIMARY, "Pediatrics")),
    AppointmentTypeSpec(
        "Well-child check",
        30,
        "#d08a2e",
        preparation="Bring your child's vaccination record.",
        specialties=("Family medicine", "Pediatrics"),
    ),
    AppointmentTypeSpec(
        "Vaccination",
        10,
        "#5f9ea0",
        specialties=(*_PRIMARY, "Pediatrics", "Obstetrics and gynecology"),
    ),
    AppointmentTypeSpec(
        "Cardiology consultation",
        60,
        "#a23b5b",
        True,
        preparation=_BRING_CARDS,
        specialties=("Cardiology",),
    ),
    AppointmentTypeSpec(
        "Skin check", 20, "#8f6a3a", specialties=("Dermatology", "Family medicine")
    ),
    AppointmentTypeSpec(
        "Physical therapy evaluation",
        60,
        "#3b7f7a",
        True,
        preparation="Wear loose, comfortable clothing.",
        specialties=_THERAPISTS,
    ),
    AppointmentTypeSpec("Physical therapy session", 45, "#4c9a94", specialties=_THERAPISTS),
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
PAYER_BY_NAME = {spec.name: spec for spec in PAYER_SPECS}
COMMERCIAL_PAYERS = tuple(spec for spec in PAYER_SPECS if spec.kind == "commercial")


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


DEMO_STAFF: tuple[tuple[Role, str], ...] = (
    (Role.FRONT_DESK, "frontdesk"),
    (Role.NURSE, "nurse"),
    (Role.PHYSICIAN, "physician"),
    (Role.BILLING, "billing"),
    (Role.SUPERVISOR, "supervisor"),
    (Role.ADMIN, "admin"),
)
