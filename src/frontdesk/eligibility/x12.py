"""The 270 eligibility inquiry built, the 271 response read, both validated by pyx12.

`inquiry_build` writes one 005010X279A1 270 per coverage and date of service; `x12_validate`
runs pyx12's `x12n_document` over any 270 or 271 with the maps of `x12maps.py`;
`response_read` walks a 271's segments as pyx12's own segment reader (`X12Reader`) splits them
and keeps what the desk needs. The reader is a small loop over pyx12's segments rather than
pyx12's XML output, because the desk needs a few values per benefit (EB) line, in words.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyx12.errors
import pyx12.map_if
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

from frontdesk.eligibility.x12maps import VERSION, map_directory

logger = logging.getLogger(__name__)
# pyx12 logs each finding as an error; the findings are returned to the caller instead, and the
# documents may hold PHI, which logs never show.
logging.getLogger("pyx12").setLevel(logging.CRITICAL)

SEGMENT_END = "~"
ELEMENT_SEP = "*"
COMPONENT_SEP = ":"
REPETITION_SEP = "^"

# Service type codes (X12 data element 1365) the desk meets, in its words.
SERVICE_TYPES: dict[str, str] = {
    "1": "medical care",
    "30": "health benefit plan coverage",
    "33": "chiropractic",
    "35": "dental care",
    "47": "hospital",
    "48": "hospital inpatient",
    "50": "hospital outpatient",
    "86": "emergency services",
    "88": "pharmacy",
    "98": "an office visit",
    "A0": "a professional office visit",
    "AL": "vision",
    "BZ": "a physician visit (sick)",
    "MH": "mental health",
    "PT": "physical therapy",
    "UC": "urgent care",
}

# AAA03 reject reasons, in the words the desk acts on.
REJECT_REASONS: dict[str, str] = {
    "15": "The payer says required information is missing: check the coverage details",
    "41": "The payer refused the request: the clinic is not authorised to ask",
    "42": "The payer could not answer now: try again later",
    "43": "The payer does not recognise the clinic's provider ID (NPI)",
    "44": "The payer does not recognise the clinic's name",
    "51": "The payer has no record of this provider",
    "52": "The date of service is outside the provider's enrolment with this plan",
    "56": "The payer found the date inappropriate: check the date of service",
    "57": "The payer says the date of service is invalid or missing",
    "58": "The payer says the birth date is invalid or missing: check it",
    "60": "The birth date is after the date of service: check the birth date",
    "61": "The payer records a date of death before the date of service",
    "62": "The date of service is outside the period the payer answers for",
    "63": "The date of service is in the future for this payer: ask again nearer the day",
    "64": "The payer says the patient ID is invalid or missing",
    "65": "The payer says the patient's name is invalid or missing: check the spelling",
    "66": "The payer says the patient's gender is invalid or missing",
    "67": "Patient not found: check the name and birth date against the card",
    "68": "The payer has this patient ID twice: call the payer",
    "71": "Birth date does not match the payer's record: check the birth date",
    "72": "The payer says the member ID is invalid or missing: check it against the card",
    "73": "The payer says the subscriber's name is invalid or missing: check the spelling",
    "74": "The payer says the subscriber's gender is invalid or missing",
    "75": "Subscriber not found: check the member ID and birth date",
    "76": "The payer has this member ID twice: call the payer",
    "78": "Subscriber not in the group or plan named: check the group number",
    "79": "The payer could not read the request: it will be checked and sent again",
    "80": "The payer's system did not answer in time: try again later",
    "97": "The payer says the provider's address is invalid or missing",
    "T4": "The payer's name or ID is missing: check the payer on the coverage",
}
FOLLOW_UP = {
    "C": "correct and ask again",
    "N": "do not ask again",
    "P": "ask again as it was",
    "R": "ask again",
    "S": "do not ask again; the payer is asking a third party",
    "W": "ask again in 30 days",
    "X": "ask again in 10 days",
    "Y": "do not ask again; the payer will answer",
}
# EB06 time period qualifiers that mean "what is left" rather than the whole allowance.
REMAINING = {"29"}
NETWORK = {"Y": "in network", "N": "out of network", "W": "in or out of network", "U": ""}


class X12Error(Exception):
    """A 270 or 271 that is not sound X12, or not the answer asked for: the text says why."""


# --- Building the 270 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Inquiry:
    """Everything a 270 says: who asks, whom, about whom, for which day and services."""

    sender_id: str  # ISA06 / GS02: the clinic's ID at its clearinghouse
    receiver_id: str  # ISA08 / GS03: the clearinghouse's or payer's ID
    control_number: int  # ISA13 / GS06: unique per interchange the clinic sends
    trace: str  # TRN02: the check's own trace number, echoed in the 271
    payer_name: str
    payer_id: str
    provider_name: str
    provider_npi: str
    member_id: str
    last_name: str
    first_name: str
    birth_date: dt.date | None
    date_of_service: dt.date
    service_types: tuple[str, ...]
    now: dt.datetime
    production: bool = False


_UNSAFE = re.compile(r"[~*:^\r\n]")


def _clean(value: str, limit: int) -> str:
    """Separators cannot appear inside an element; names are sent in capitals, cut to size."""
    return _UNSAFE.sub(" ", value).strip().upper()[:limit]


def segment(*elements: str) -> str:
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    return ELEMENT_SEP.join(values) + SEGMENT_END


def inquiry_build(inquiry: Inquiry) -> str:
    """The 270 as text, one segment per line, for the date of service (DTP*291)."""
    stamp = inquiry.now.astimezone(dt.UTC)
    control = f"{inquiry.control_number % 1_000_000_000:09d}"
    body = [
        segment("ST", "270", "0001", VERSION),
        segment(
            "BHT",
            "0022",
            "13",
            _clean(inquiry.trace, 50),
            stamp.strftime("%Y%m%d"),
            stamp.strftime("%H%M"),
        ),
        segment("HL", "1", "", "20", "1"),
        segment(
            "NM1",
            "PR",
            "2",
            _clean(inquiry.payer_name, 60),
            "",
            "",
            "",
            "",
            "PI",
            _clean(inquiry.payer_id, 80),
        ),
        segment("HL", "2", "1", "21", "1"),
        segment(
            "NM1",
            "1P",
            "2",
            _clean(inquiry.provider_name, 60),
            "",
            "",
            "",
            "",
            "XX",
            _clean(inquiry.provider_npi, 80),
        ),
        segment("HL", "3", "2", "22", "0"),
        segment("TRN", "1", _clean(inquiry.trace, 50), "9FRONTDESK"),
        segment(
            "NM1",
            "IL",
            "1",
            _clean(inquiry.last_name, 60),
            _clean(inquiry.first_name, 35),
            "",
            "",
            "",
            "MI",
            _clean(inquiry.member_id, 80),
        ),
    ]
    if inquiry.birth_date:
        body.append(segment("DMG", "D8", inquiry.birth_date.strftime("%Y%m%d")))
    body.append(segment("DTP", "291", "D8", inquiry.date_of_service.strftime("%Y%m%d")))
    body.extend(segment("EQ", code) for code in inquiry.service_types)
    body.append(segment("SE", str(len(body) + 1), "0001"))
    return interchange_wrap(
        body,
        fic="HS",
        sender=inquiry.sender_id,
        receiver=inquiry.receiver_id,
        control=control,
        stamp=stamp,
        production=inquiry.production,
    )


def interchange_wrap(
    body: Sequence[str],
    *,
    fic: str,
    sender: str,
    receiver: str,
    control: str,
    stamp: dt.datetime,
    production: bool,
) -> str:
    isa = (
        ELEMENT_SEP.join(
            [
                "ISA",
                "00",
                " " * 10,
                "00",
                " " * 10,
                "ZZ",
                _clean(sender, 15).ljust(15),
                "ZZ",
                _clean(receiver, 15).ljust(15),
                stamp.strftime("%y%m%d"),
                stamp.strftime("%H%M"),
                REPETITION_SEP,
                "00501",
                control,
                "0",
                "P" if production else "T",
                COMPONENT_SEP,
            ]
        )
        + SEGMENT_END
    )
    group = str(int(control))
    lines = [
        isa,
        segment(
            "GS",
            fic,
            _clean(sender, 15),
            _clean(receiver, 15),
            stamp.strftime("%Y%m%d"),
            stamp.strftime("%H%M"),
            group,
            "X",
            VERSION,
        ),
        *body,
        segment("GE", "1", group),
        segment("IEA", "1", control),
    ]
    return "\n".join(lines) + "\n"


# --- Validating ----------------------------------------------------------------------------------

# x12n_document loads its maps from XML on every call (about 40 ms, most of a validation); a map
# is only read while walking a document (the walker keeps its own counts), so the maps of our
# directory are loaded once per process. Other directories load as pyx12 always does.
_load_map_file = pyx12.map_if.load_map_file
_maps: dict[str, Any] = {}
_maps_lock = threading.Lock()


def _load_map_cached(map_file: str, param: Any, map_path: str | None = None) -> Any:
    if map_path != map_directory():
        return _load_map_file(map_file, param, map_path)
    with _maps_lock:
        if map_file not in _maps:
            _maps[map_file] = _load_map_file(map_file, param, map_path)
        return _maps[map_file]


pyx12.map_if.load_map_file = _load_map_cached
_validate_lock = threading.Lock()


def x12_validate(text: str) -> list[str]:
    """pyx12's findings on a 270 or 271 (empty when it is valid), in pyx12's words."""
    if not text.lstrip().startswith("ISA"):
        return ["This is not an X12 interchange: it does not start with ISA."]
    report = io.StringIO()
    try:
        with _validate_lock:  # the shared maps are walked by one document at a time
            valid = pyx12.x12n_document.x12n_document(
                pyx12.params.ParamsBase(),
                io.StringIO(text),
                fd_997=None,
                fd_html=None,
                fd_json=report,
                map_path=map_directory(),
            )
    except (pyx12.errors.X12Error, pyx12.errors.EngineError, IndexError, KeyError) as exc:
        return [f"pyx12 could not read it: {exc}"]
    findings = _findings(json.loads(report.getvalue() or "{}"))
    if not valid and not findings:
        findings = ["pyx12 found it not valid (truncated or out of order)."]
    return findings


def _findings(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        found.extend(
            f"{error.get('err_cde', '')}: {error.get('err_str', '')}".strip()
            for error in node.get("errors", ())
            if isinstance(error, dict)
        )
        for value in node.values():
            if isinstance(value, list):
                for item in value:
                    found.extend(_findings(item))
    return found


# --- Reading the 271 -----------------------------------------------------------------------------


@dataclass
class Benefit:
    """What the payer says about one service type."""

    code: str
    words: str
    copay: str | None = None  # Decimal as text: JSON keeps it exact
    coinsurance: str | None = None  # a fraction: "0.2" is 20 %
    deductible: str | None = None
    deductible_remaining: str | None = None
    out_of_pocket: str | None = None
    out_of_pocket_remaining: str | None = None
    network: str = ""
    prior_authorisation: bool = False
    not_covered: bool = False


@dataclass
class Answer:
    """A 271 as the desk reads it."""

    trace: str
    member_id: str
    last_name: str
    first_name: str
    active: bool | None  # None: rejected, no coverage line
    rejections: list[dict[str, str]] = field(default_factory=list)  # code, words, follow-up
    plan_name: str = ""
    plan_begin: str = ""  # ISO dates
    plan_end: str = ""
    benefits: dict[str, Benefit] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["benefits"] = {code: asdict(b) for code, b in self.benefits.items()}
        return data


def _money(value: str) -> str | None:
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return str(amount) if amount.is_finite() and amount >= 0 else None


def _date(value: str) -> str:
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date().isoformat()  # noqa: DTZ007 - a date
    except ValueError:
        return ""


def response_read(text: str) -> Answer:
    """The 271's facts. Raises X12Error when pyx12 cannot split it into segments or the
    subscriber loop is missing; validation (`x12_validate`) is the caller's first step."""
    try:
        reader = pyx12.x12file.X12Reader(io.StringIO(text))
        segments = [
            (
                seg.get_seg_id() or "",
                [seg.get_value(f"{seg.get_seg_id()}{i:02d}") or "" for i in range(1, len(seg) + 1)],
            )
            for seg in reader
        ]
    except (pyx12.errors.X12Error, IndexError, ValueError) as exc:
        raise X12Error(f"The answer could not be read as X12 ({exc}).") from None
    trace = ""
    member = ("", "", "")
    level = ""
    answer = Answer(trace="", member_id="", last_name="", first_name="", active=None)
    current: Benefit | None = None
    seen_subscriber = False
    for seg_id, el in segments:
        if seg_id == "HL":
            level = el[2] if len(el) > 2 else ""
            current = None
        elif seg_id == "TRN" and level == "22" and el[:1] == ["2"] and len(el) > 1:
            trace = el[1]
        elif seg_id == "NM1" and el[:1] == ["IL"]:
            seen_subscriber = True
            member = (
                el[8] if len(el) > 8 else "",
                el[2] if len(el) > 2 else "",
                el[3] if len(el) > 3 else "",
            )
        elif seg_id == "AAA" and len(el) > 2 and el[0] == "N":
            code = el[2]
            answer.rejections.append(
                {
                    "code": code,
                    "words": REJECT_REASONS.get(
                        code, f"The payer refused the request (code {code})"
                    ),
                    "follow_up": FOLLOW_UP.get(el[3] if len(el) > 3 else "", ""),
                }
            )
        elif seg_id == "DTP" and level == "22" and current is None and len(el) > 2:
            first, _, last = el[2].partition("-")
            if el[0] in {"346", "356", "307"} or (el[0] == "291" and el[1] == "RD8"):
                answer.plan_begin = answer.plan_begin or _date(first)
                if last:
                    answer.plan_end = _date(last)
            elif el[0] in {"347", "357"}:
                answer.plan_end = _date(last or first)
        elif seg_id == "EB" and el:
            current = _benefit_line(answer, el)
    if not seen_subscriber:
        raise X12Error("The answer names no subscriber: it is incomplete.")
    answer.trace, (answer.member_id, answer.last_name, answer.first_name) = trace, member
    if answer.active is None and not answer.rejections:
        raise X12Error("The answer says neither active nor inactive, and gives no reason.")
    return answer


def _benefit_line(answer: Answer, el: list[str]) -> Benefit | None:
    def at(i: int) -> str:
        return el[i - 1] if len(el) >= i else ""

    info = at(1)
    codes = [c for c in at(3).split(REPETITION_SEP) if c] or ["30"]
    if info in {"1", "2", "3", "4", "5"}:
        answer.active = True if answer.active is None else answer.active or True
        if at(5) and not answer.plan_name:
            answer.plan_name = at(5)
    elif info in {"6", "7", "8"}:
        answer.active = False if answer.active is None else answer.active
        return None
    last: Benefit | None = None
    for code in codes:
        benefit = answer.benefits.setdefault(
            code, Benefit(code=code, words=SERVICE_TYPES.get(code, f"service type {code}"))
        )
        network = NETWORK.get(at(12), "")
        if network and (not benefit.network or network == "in network"):
            benefit.network = network
        if at(11) == "Y":
            benefit.prior_authorisation = True
        remaining = at(6) in REMAINING
        in_network = at(12) in {"Y", "W", ""}
        if info == "B" and in_network and at(7):
            benefit.copay = benefit.copay or _money(at(7))
        elif info == "A" and in_network and at(8):
            benefit.coinsurance = benefit.coinsurance or _money(at(8))
        elif info == "C" and in_network and at(7):
            if remaining:
                benefit.deductible_remaining = _money(at(7))
            else:
                benefit.deductible = benefit.deductible or _money(at(7))
        elif info == "G" and in_network and at(7):
            if remaining:
                benefit.out_of_pocket_remaining = _money(at(7))
            else:
                benefit.out_of_pocket = benefit.out_of_pocket or _money(at(7))
        elif info == "I":
            benefit.not_covered = True
        last = benefit
    return last
