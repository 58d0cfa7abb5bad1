"""The CORE real-time client against the payer simulator over real HTTP on loopback, and
against the tests' own minimal, independent implementation of the envelope."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from frontdesk.eligibility import transport, x12
from frontdesk.eligibility.simulator import Simulator
from frontdesk.eligibility.tests.test_x12 import inquiry

NOW = dt.datetime(2026, 11, 24, 4, 30, tzinfo=dt.UTC)


def settings_for(url: str, **changes: object) -> transport.Settings:
    values: dict[str, object] = {
        "url": url,
        "sender_id": "RIVERSIDE",
        "receiver_id": "ACMEHEALTH",
        "timeout": 2.0,
        "retries": 0,
    }
    values.update(changes)
    return transport.Settings(**values)  # type: ignore[arg-type]


def test_the_client_gets_a_valid_271_from_the_simulator_over_http(simulator: Simulator) -> None:
    request = x12.inquiry_build(inquiry())

    reply = transport.core_send(
        settings_for(simulator.url),
        x12=request,
        payload_id="EC0001",
        now=NOW,
    )

    assert x12.x12_validate(reply.x12) == []
    answer = x12.response_read(reply.x12)
    assert answer.active is True and answer.benefits["98"].copay == "25.00"
    assert "(SIMULATOR)" in reply.x12  # labelled a simulator in every answer
    assert simulator.answered == {"EC0001": 1}


def test_a_payer_slower_than_the_timeout_is_no_answer_after_each_retry(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "RETRY_PAUSE", 0.01)
    simulator.control.latency_ms = 800

    with pytest.raises(transport.NoAnswerError, match=r"did not answer within 0\.2 s"):
        transport.core_send(
            settings_for(simulator.url, timeout=0.2, retries=1),
            x12=x12.inquiry_build(inquiry()),
            payload_id="EC0001",
            now=NOW,
        )


def test_a_payer_that_is_down_is_no_answer(simulator: Simulator) -> None:
    simulator.control.down = True

    with pytest.raises(transport.NoAnswerError, match="HTTP 503"):
        transport.core_send(
            settings_for(simulator.url),
            x12=x12.inquiry_build(inquiry()),
            payload_id="EC0001",
            now=NOW,
        )


def test_a_payer_that_refuses_the_connection_is_no_answer() -> None:
    with pytest.raises(transport.NoAnswerError, match="could not be reached"):
        transport.core_send(
            settings_for("http://127.0.0.1:9/core"),
            x12=x12.inquiry_build(inquiry()),
            payload_id="EC0001",
            now=NOW,
        )


def test_an_answer_of_the_wrong_payload_type_is_refused_in_words(simulator: Simulator) -> None:
    simulator.control.mode = "wrong_payload_type"

    with pytest.raises(transport.RefusedError, match="not a X12_271_Response_005010X279A1"):
        transport.core_send(
            settings_for(simulator.url),
            x12=x12.inquiry_build(inquiry()),
            payload_id="EC0001",
            now=NOW,
        )


def test_the_simulator_refuses_a_request_envelope_of_the_wrong_payload_type(
    simulator: Simulator,
) -> None:
    status, body = simulator.respond(
        b'<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
        b'<s:Body><c:COREEnvelopeRealTimeRequest xmlns:c="http://www.caqh.org/SOAP/WSDL/'
        b'CORERule2.2.0.xsd"><PayloadType>X12_276_Request_005010X212</PayloadType>'
        b"<PayloadID>P1</PayloadID><Payload>ISA</Payload></c:COREEnvelopeRealTimeRequest>"
        b"</s:Body></s:Envelope>",
        now=NOW,
    )

    assert status == 200
    assert b"<ErrorCode>PayloadTypeIncorrect</ErrorCode>" in body
    with pytest.raises(transport.RefusedError, match="wrong kind of document"):
        transport._reply(body, payload_id="P1")


# --- A second, independent implementation of the envelope -------------------------------------

FIXTURE_271 = (
    "\n".join(
        [
            "ISA*00*          *00*          *ZZ*OTHERPAYER     *ZZ*RIVERSIDE      "
            "*261124*0430*^*00501*000000009*0*T*:~",
            "GS*HB*OTHERPAYER*RIVERSIDE*20261124*0430*9*X*005010X279A1~",
            "ST*271*0001*005010X279A1~",
            "BHT*0022*11*EC0001*20261124*0430~",
            "HL*1**20*1~",
            "NM1*PR*2*OTHER PAYER*****PI*OP1~",
            "HL*2*1*21*1~",
            "NM1*1P*2*RIVERSIDE FAMILY CLINIC*****XX*1234567893~",
            "HL*3*2*22*0~",
            "TRN*2*EC0001*9FRONTDESK~",
            "NM1*IL*1*SMITH*JOHN****MI*W123456789~",
            "DMG*D8*19800102~",
            "DTP*346*D8*20260101~",
            "EB*1*IND*30**GOLD HMO~",
            "EB*B*IND*98***27*35*****Y~",
            "SE*14*0001~",
            "GE*1*9~",
            "IEA*1*000000009~",
        ]
    )
    + "\n"
)

# Written from the CORE rule's example by hand, sharing no code with envelope.py.
TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">
<soap:Body>
<ns1:COREEnvelopeRealTimeResponse xmlns:ns1="http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd">
<PayloadType>X12_271_Response_005010X279A1</PayloadType>
<ProcessingMode>RealTime</ProcessingMode>
<PayloadID>{payload_id}</PayloadID>
<TimeStamp>2026-11-24T04:30:00Z</TimeStamp>
<SenderID>OTHERPAYER</SenderID>
<ReceiverID>RIVERSIDE</ReceiverID>
<CORERuleVersion>2.2.0</CORERuleVersion>
<Payload><![CDATA[{payload}]]></Payload>
<ErrorCode>Success</ErrorCode>
<ErrorMessage>None</ErrorMessage>
</ns1:COREEnvelopeRealTimeResponse>
</soap:Body>
</soap:Envelope>"""


@pytest.fixture
def minimal_server() -> Iterator[tuple[str, list[bytes]]]:
    seen: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(body)
            found = re.search(rb"<PayloadID>([^<]*)</PayloadID>", body)
            payload_id = found.group(1).decode() if found else ""
            data = TEMPLATE.format(payload_id=payload_id, payload=FIXTURE_271).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/soap+xml")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", seen
    server.shutdown()
    server.server_close()


def test_the_same_client_talks_to_an_independent_minimal_server(
    minimal_server: tuple[str, list[bytes]],
) -> None:
    url, seen = minimal_server
    assert x12.x12_validate(FIXTURE_271) == []  # the fixture is one pyx12 accepts

    reply = transport.core_send(
        settings_for(url), x12=x12.inquiry_build(inquiry()), payload_id="EC0001", now=NOW
    )

    assert b"<PayloadType>X12_270_Request_005010X279A1</PayloadType>" in seen[0]
    assert b"DTP*291*D8*20261130~" in seen[0]
    answer = x12.response_read(reply.x12)
    assert answer.plan_name == "GOLD HMO"
    assert answer.benefits["98"].copay == "35"
