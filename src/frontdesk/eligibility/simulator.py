"""The payer simulator: a stand-in payer for the demo, the tests and the batch bench, never a
payer. It answers CORE real-time envelopes with 271s built from its own table of members,
plans and benefits, and can be made slow, down, or to refuse with an AAA reason on demand.

It runs as its own process (`frontdesk payer-simulator`) on a stdlib threading HTTP server:
`POST /core` takes a CORE envelope; `POST /control` (JSON) sets `latency_ms`, `down`,
`reject` (an AAA03 code for every answer), `mode` ("", "other_member", "truncated",
"wrong_payload_type"); `GET /health` says it is a simulator; `GET /stats` counts the requests
it answered, per trace (a duplicate is a trace asked twice). Every 271 it sends names the
payer "… (SIMULATOR)". It holds no PHI of its own: its table is what it is given."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyx12.errors
import pyx12.x12file

from frontdesk.eligibility import envelope as core
from frontdesk.eligibility.x12 import interchange_wrap, segment
from frontdesk.eligibility.x12maps import VERSION

logger = logging.getLogger(__name__)

LABEL = "SIMULATOR"


@dataclass(frozen=True)
class Member:
    member_id: str
    last_name: str
    first_name: str
    birth_date: str = ""  # YYYYMMDD; empty: not checked
    plan_name: str = "SIMULATED PPO"
    active: bool = True
    plan_begin: str = "20260101"
    plan_end: str = ""
    copay: str = "25.00"
    copay_out_of_network: str = "60.00"
    coinsurance: str = "0.20"
    deductible: str = "1500.00"
    deductible_remaining: str = "300.00"
    out_of_pocket: str = "5000.00"
    out_of_pocket_remaining: str = "4200.00"
    prior_authorisation: tuple[str, ...] = ()  # service types needing it
    reject: str = ""  # an AAA03 code always answered for this member


@dataclass
class Control:
    latency_ms: int = 0
    down: bool = False
    reject: str = ""
    mode: str = ""


@dataclass
class Table:
    members: dict[str, Member] = field(default_factory=dict)
    payer_name: str = "DEMO PAYER"

    @classmethod
    def of(cls, members: Iterable[Member], payer_name: str = "DEMO PAYER") -> Table:
        return cls({_norm(m.member_id): m for m in members}, payer_name)

    @classmethod
    def load(cls, path: Path) -> Table:
        data = json.loads(path.read_text(encoding="utf-8"))
        fields = set(Member.__dataclass_fields__)
        members = []
        for row in data.get("members", []):
            values = {k: v for k, v in row.items() if k in fields}
            if "prior_authorisation" in values:
                values["prior_authorisation"] = tuple(values["prior_authorisation"])
            members.append(Member(**values))
        return cls.of(members, data.get("payer_name", "DEMO PAYER"))


def _norm(member_id: str) -> str:
    return "".join(ch for ch in member_id.upper() if ch.isalnum())


@dataclass(frozen=True)
class Question:
    trace: str
    payer_name: str
    payer_id: str
    provider_name: str
    provider_npi: str
    member_id: str
    last_name: str
    first_name: str
    birth_date: str
    date_of_service: str
    service_types: tuple[str, ...]
    sender: str
    receiver: str


def question_read(x12: str) -> Question:
    """The 270's facts, split by pyx12's segment reader."""
    reader = pyx12.x12file.X12Reader(io.StringIO(x12))
    values: dict[str, str] = {}
    services: list[str] = []
    for seg in reader:
        seg_id = seg.get_seg_id()

        def get(ref: str, _seg: Any = seg) -> str:
            return str(_seg.get_value(ref) or "")

        if seg_id == "ISA":
            values["sender"], values["receiver"] = get("ISA06").strip(), get("ISA08").strip()
        elif seg_id == "TRN":
            values["trace"] = get("TRN02")
        elif seg_id == "NM1" and get("NM101") == "PR":
            values["payer_name"], values["payer_id"] = get("NM103"), get("NM109")
        elif seg_id == "NM1" and get("NM101") == "1P":
            values["provider_name"], values["provider_npi"] = get("NM103"), get("NM109")
        elif seg_id == "NM1" and get("NM101") == "IL":
            values["member_id"] = get("NM109")
            values["last_name"], values["first_name"] = get("NM103"), get("NM104")
        elif seg_id == "DMG":
            values["birth_date"] = get("DMG02")
        elif seg_id == "DTP" and get("DTP01") == "291":
            values["date_of_service"] = get("DTP03")
        elif seg_id == "EQ":
            services.append(get("EQ01"))
    names = Question.__dataclass_fields__
    return Question(
        **{k: values.get(k, "") for k in names if k != "service_types"},
        service_types=tuple(services) or ("30",),
    )


def answer_271(
    question: Question, table: Table, control: Control, *, now: dt.datetime, control_no: int
) -> str:
    """The simulator's 271 for a question (valid 005010X279A1, checked by the tests)."""
    member = table.members.get(_norm(question.member_id))
    reject = control.reject or (member.reject if member else "")
    if member is None and not reject:
        reject = "75"
    elif (
        member
        and question.birth_date
        and member.birth_date
        and not reject
        and member.birth_date != question.birth_date
    ):
        reject = "71"
    stamp = now.astimezone(dt.UTC)
    name = (
        (member.last_name, member.first_name)
        if member
        else (question.last_name, question.first_name)
    )
    member_id = question.member_id
    if control.mode == "other_member":
        name, member_id = ("OTHER", "PERSON"), "ZZ" + _norm(question.member_id)[:10]
    body = [
        segment("ST", "271", "0001", VERSION),
        segment(
            "BHT", "0022", "11", question.trace, stamp.strftime("%Y%m%d"), stamp.strftime("%H%M")
        ),
        segment("HL", "1", "", "20", "1"),
        segment(
            "NM1",
            "PR",
            "2",
            f"{table.payer_name} ({LABEL})"[:60],
            "",
            "",
            "",
            "",
            "PI",
            question.payer_id or "SIM",
        ),
        segment("HL", "2", "1", "21", "1"),
        segment(
            "NM1",
            "1P",
            "2",
            question.provider_name or "PROVIDER",
            "",
            "",
            "",
            "",
            "XX",
            question.provider_npi or "0000000000",
        ),
        segment("HL", "3", "2", "22", "0"),
        segment("TRN", "2", question.trace, "9FRONTDESK"),
        segment("NM1", "IL", "1", name[0], name[1], "", "", "", "MI", member_id),
    ]
    if reject:
        body.append(segment("AAA", "N", "", reject, "C"))
    if question.birth_date:
        body.append(segment("DMG", "D8", question.birth_date))
    if reject:
        if question.date_of_service:
            body.append(segment("DTP", "291", "D8", question.date_of_service))
    else:
        assert member is not None  # noqa: S101 - no member means a rejection above
        body.extend(_benefits(member, question))
    body.append(segment("SE", str(len(body) + 1), "0001"))
    text = interchange_wrap(
        body,
        fic="HB",
        sender=question.receiver or "SIMPAYER",
        receiver=question.sender or "FRONTDESK",
        control=f"{control_no:09d}",
        stamp=stamp,
        production=False,
    )
    if control.mode == "truncated":
        return text[: len(text) * 2 // 3]
    return text


def _benefits(member: Member, question: Question) -> list[str]:
    plan_dates = member.plan_begin + (f"-{member.plan_end}" if member.plan_end else "")
    lines = [
        segment(
            "DTP",
            "346" if not member.plan_end else "291",
            "RD8" if member.plan_end else "D8",
            plan_dates,
        )
    ]
    dos = question.date_of_service
    active = (
        member.active
        and (not member.plan_end or not dos or dos <= member.plan_end)
        and (not dos or dos >= member.plan_begin)
    )
    if not active:
        lines.append(segment("EB", "6", "IND", "30", "", member.plan_name))
        return lines
    lines.append(segment("EB", "1", "IND", "30", "", member.plan_name))
    for code in question.service_types:
        auth = "Y" if code in member.prior_authorisation else "N"
        lines += [
            segment("EB", "B", "IND", code, "", "", "27", member.copay, "", "", "", auth, "Y"),
            segment(
                "EB",
                "B",
                "IND",
                code,
                "",
                "",
                "27",
                member.copay_out_of_network,
                "",
                "",
                "",
                auth,
                "N",
            ),
            segment("EB", "A", "IND", code, "", "", "", "", member.coinsurance, "", "", auth, "Y"),
            segment("EB", "C", "IND", code, "", "", "23", member.deductible, "", "", "", "", "Y"),
            segment(
                "EB",
                "C",
                "IND",
                code,
                "",
                "",
                "29",
                member.deductible_remaining,
                "",
                "",
                "",
                "",
                "Y",
            ),
            segment(
                "EB", "G", "IND", code, "", "", "23", member.out_of_pocket, "", "", "", "", "Y"
            ),
            segment(
                "EB",
                "G",
                "IND",
                code,
                "",
                "",
                "29",
                member.out_of_pocket_remaining,
                "",
                "",
                "",
                "",
                "Y",
            ),
        ]
    return lines


# --- The HTTP server ----------------------------------------------------------------------------


class Simulator:
    """The table, the switches and a counter of what it answered (for the bench's "no check
    lost or duplicated"), shared by the server's threads."""

    def __init__(self, table: Table, control: Control | None = None) -> None:
        self.table = table
        self.control = control or Control()
        self.lock = threading.Lock()
        self.answered: dict[str, int] = {}
        self.url = ""  # where it listens, once a server is bound (for tests and the bench)
        self._control_no = 0

    def next_control(self) -> int:
        with self.lock:
            self._control_no += 1
            return self._control_no

    def respond(self, data: bytes, *, now: dt.datetime) -> tuple[int, bytes]:
        try:
            request = core.envelope_read(data, response=False)
        except core.EnvelopeError as exc:
            return 400, self._error("EnvelopeError", str(exc), "", now)
        if request.payload_type != core.REQUEST_TYPE:
            return 200, self._error(
                "PayloadTypeIncorrect",
                f"Expected {core.REQUEST_TYPE}, got {request.payload_type or 'nothing'}.",
                request.payload_id,
                now,
            )
        try:
            question = question_read(request.payload)
        except (pyx12.errors.X12Error, IndexError, ValueError):
            return 200, self._error(
                "EnvelopeError", "The payload is not X12.", request.payload_id, now
            )
        with self.lock:
            self.answered[question.trace] = self.answered.get(question.trace, 0) + 1
            control = Control(**vars(self.control))
        x12 = answer_271(question, self.table, control, now=now, control_no=self.next_control())
        payload_type = core.RESPONSE_TYPE
        if control.mode == "wrong_payload_type":
            payload_type = "X12_999_Response_005010X231A1"
        return 200, core.envelope_build(
            core.Envelope(
                payload_type=payload_type,
                payload_id=request.payload_id,
                sender_id=request.receiver_id,
                receiver_id=request.sender_id,
                payload=x12,
            ),
            response=True,
            now=now,
        )

    def _error(self, code: str, message: str, payload_id: str, now: dt.datetime) -> bytes:
        return core.envelope_build(
            core.Envelope(
                payload_type=core.RESPONSE_TYPE,
                payload_id=payload_id,
                sender_id="SIMPAYER",
                receiver_id="",
                payload="",
                error_code=code,
                error_message=message,
            ),
            response=True,
            now=now,
        )


def _handler(simulator: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FrontdeskPayerSimulator/1"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("payer simulator: " + format, *args)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # The client may have given up waiting (a timeout being tested, or a real one).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, b'{"simulator": true}', "application/json")
            elif self.path == "/stats":
                with simulator.lock:
                    counts = list(simulator.answered.values())
                stats = {
                    "requests": sum(counts),
                    "distinct": len(counts),
                    "duplicates": sum(c - 1 for c in counts),
                }
                self._send(200, json.dumps(stats).encode(), "application/json")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), 1_000_000)
            data = self.rfile.read(length)
            if self.path == "/control":
                changes = json.loads(data or b"{}")
                with simulator.lock:
                    for key in ("latency_ms", "down", "reject", "mode"):
                        if key in changes:
                            setattr(simulator.control, key, changes[key])
                self._send(200, json.dumps(vars(simulator.control)).encode(), "application/json")
                return
            if self.path != "/core":
                self._send(404, b"not found", "text/plain")
                return
            with simulator.lock:
                latency, down = simulator.control.latency_ms, simulator.control.down
            if latency:
                time.sleep(latency / 1000)
            if down:
                self._send(503, b"payer simulator is down", "text/plain")
                return
            status, body = simulator.respond(data, now=dt.datetime.now(dt.UTC))
            self._send(status, body, "application/soap+xml; charset=utf-8")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def simulator_server(simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> _Server:
    """A server bound to host:port (0: any free port); call `serve_forever()` to run it."""
    return _Server((host, port), _handler(simulator))


def default_table() -> Table:
    """Members for a first run without a table file."""
    return Table.of(
        [
            Member("SIM0001", "SAMPLE", "ALEX", "19800101"),
            Member("SIM0002", "SAMPLE", "JO", "19900202", active=False, plan_end="20251231"),
            Member(
                "SIM0003", "SAMPLE", "SAM", "19700303", copay="40.00", prior_authorisation=("98",)
            ),
        ]
    )


def money_text(value: Decimal | None) -> str:
    return f"{value:.2f}" if value is not None else "25.00"
