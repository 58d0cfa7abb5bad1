"""The CAQH CORE connectivity envelope (real-time SOAP 1.2, CORE rule version 2.2.0) around a
270 request and a 271 response; the same code serves the client and the payer simulator.

XML from outside is parsed with defusedxml (no entities, no external references)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET

SOAP_NS = "http://www.w3.org/2003/05/soap-envelope"
CORE_NS = "http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
RULE_VERSION = "2.2.0"
REQUEST_TYPE = "X12_270_Request_005010X279A1"
RESPONSE_TYPE = "X12_271_Response_005010X279A1"
CONTENT_TYPE = 'application/soap+xml; charset=utf-8; action="RealTimeTransaction"'
SUCCESS = "Success"
# CORE error codes the simulator answers with and the client explains.
ERROR_WORDS = {
    "PayloadTypeIncorrect": "the connection sent the wrong kind of document",
    "PayloadTypeNotSupported": "the payer does not take this kind of document",
    "SenderIDNotAuthorized": "the clinic's sender ID is not authorised at the payer",
    "UnAuthorized": "the clinic's user name or password was refused",
    "Receiver Down": "the payer's system is down",
    "ReceiverNotAvailable": "the payer's system is down",
    "EnvelopeError": "the payer could not read the envelope",
}


class EnvelopeError(Exception):
    """The envelope is not a CORE real-time envelope, or not the one expected: words say why."""


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload_id: str
    sender_id: str
    receiver_id: str
    payload: str
    timestamp: str = ""
    error_code: str = ""
    error_message: str = ""
    username: str = ""
    password: str = ""


def _timestamp(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope_build(envelope: Envelope, *, response: bool, now: dt.datetime) -> bytes:
    ET.register_namespace("soapenv", SOAP_NS)
    ET.register_namespace("cor", CORE_NS)
    ET.register_namespace("wsse", WSSE_NS)
    root = ET.Element(f"{{{SOAP_NS}}}Envelope")
    header = ET.SubElement(root, f"{{{SOAP_NS}}}Header")
    if envelope.username:
        security = ET.SubElement(header, f"{{{WSSE_NS}}}Security")
        token = ET.SubElement(security, f"{{{WSSE_NS}}}UsernameToken")
        ET.SubElement(token, f"{{{WSSE_NS}}}Username").text = envelope.username
        ET.SubElement(token, f"{{{WSSE_NS}}}Password").text = envelope.password
    body = ET.SubElement(root, f"{{{SOAP_NS}}}Body")
    name = "COREEnvelopeRealTimeResponse" if response else "COREEnvelopeRealTimeRequest"
    core = ET.SubElement(body, f"{{{CORE_NS}}}{name}")
    fields = [
        ("PayloadType", envelope.payload_type),
        ("ProcessingMode", "RealTime"),
        ("PayloadID", envelope.payload_id),
        ("TimeStamp", envelope.timestamp or _timestamp(now)),
        ("SenderID", envelope.sender_id),
        ("ReceiverID", envelope.receiver_id),
        ("CORERuleVersion", RULE_VERSION),
        ("Payload", envelope.payload),
    ]
    if response:
        fields += [
            ("ErrorCode", envelope.error_code or SUCCESS),
            ("ErrorMessage", envelope.error_message or "None"),
        ]
    for tag, text in fields:
        ET.SubElement(core, tag).text = text
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def envelope_read(data: bytes, *, response: bool) -> Envelope:
    """The envelope's fields; EnvelopeError when it is not a CORE real-time envelope."""
    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, SafeET.DefusedXmlException, ValueError) as exc:
        raise EnvelopeError(f"The answer is not a readable SOAP envelope ({exc}).") from None
    name = "COREEnvelopeRealTimeResponse" if response else "COREEnvelopeRealTimeRequest"
    core = root.find(f"./{{{SOAP_NS}}}Body/{{{CORE_NS}}}{name}")
    if core is None:
        raise EnvelopeError(f"The envelope holds no {name}.")

    def text(tag: str) -> str:
        node = core.find(tag)
        if node is None:
            node = core.find(f"{{{CORE_NS}}}{tag}")
        return (node.text or "").strip() if node is not None else ""

    token = root.find(f"./{{{SOAP_NS}}}Header/{{{WSSE_NS}}}Security/{{{WSSE_NS}}}UsernameToken")
    username = password = ""
    if token is not None:
        username = (token.findtext(f"{{{WSSE_NS}}}Username") or "").strip()
        password = token.findtext(f"{{{WSSE_NS}}}Password") or ""
    return Envelope(
        payload_type=text("PayloadType"),
        payload_id=text("PayloadID"),
        sender_id=text("SenderID"),
        receiver_id=text("ReceiverID"),
        payload=text("Payload"),
        timestamp=text("TimeStamp"),
        error_code=text("ErrorCode"),
        error_message=text("ErrorMessage"),
        username=username,
        password=password,
    )


def error_words(code: str, message: str) -> str:
    known = ERROR_WORDS.get(code)
    return f"The payer refused the envelope: {known or message or code}."
