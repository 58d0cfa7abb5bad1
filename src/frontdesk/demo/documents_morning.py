"""The demo's morning mail: a referral accepted and waiting to be booked (on the desk queue, due
by the clinic's target), and two faxes not yet filed (in the filing inbox)."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image, ImageDraw

from frontdesk.accounts.models import User
from frontdesk.clinic.models import Clinic
from frontdesk.documents.models import Document, DocumentKind, DocumentSource
from frontdesk.documents.storage import StoredFile, Upload, document_files_store
from frontdesk.patients.models import Patient
from frontdesk.referrals.models import Direction, Referral, ReferralStatus, Urgency
from frontdesk.referrals.services import referral_due

# A valid NPI (CMS's example): the check digit is right.
DEMO_NPI = "1234567893"


def _page_pdf(lines: list[str]) -> bytes:
    """A one-page PDF of these lines, as a scanner would make it (a picture of the page)."""
    page = Image.new("RGB", (850, 1100), "white")
    draw = ImageDraw.Draw(page)
    for index, line in enumerate(lines):
        draw.text((80, 100 + 40 * index), line, fill="black")
    out = io.BytesIO()
    page.save(out, "PDF", resolution=100.0)
    return out.getvalue()


def demo_documents_morning(*, clinic: Clinic, now: dt.datetime) -> None:
    """Two unfiled faxes and one referral waiting to be booked.

    The files go through the desk's own checks and thumbnails (`document_files_store`); the
    rows are written directly, as the rest of the demo is, under the build's one audit event."""
    officer = User.objects.filter(clinic=clinic, role="front_desk").order_by("pk").first()
    patient = (
        Patient.objects.filter(clinic=clinic, is_active=True, merged_into=None)
        .order_by("pk")
        .first()
    )
    if officer is None or patient is None:
        return
    faxes = document_files_store(
        [
            Upload("fax-0712.pdf", _page_pdf(["FAX", "Laboratory results", "(demo)"])),
            Upload("fax-0745.pdf", _page_pdf(["FAX", "Imaging report", "(demo)"])),
        ]
    )
    (letter_file,) = document_files_store(
        [
            Upload(
                "referral-letter.pdf",
                _page_pdf(["Referral letter", "From Dr Ada Grey, Grey Family Practice", "(demo)"]),
            )
        ]
    )
    for fax in faxes:
        _document(clinic, fax, officer, received_at=now - dt.timedelta(hours=2))
    received = now - dt.timedelta(days=1)
    letter = _document(
        clinic,
        letter_file,
        officer,
        received_at=received,
        patient=patient,
        kind=DocumentKind.REFERRAL,
        title="Referral letter from Dr Ada Grey",
    )
    referral = Referral.objects.create(
        clinic=clinic,
        direction=Direction.INCOMING,
        patient=patient,
        status=ReferralStatus.ACCEPTED,
        urgency=Urgency.ROUTINE,
        reason="Recurring headaches; please assess.",
        provider_name="Dr Ada Grey",
        practice_name="Grey Family Practice",
        npi=DEMO_NPI,
        phone="+12025550143",
        fax="+12025550199",
        auth_number="AUTH-DEMO-1",
        auth_visits=2,
        auth_expires=(now + dt.timedelta(days=60)).date(),
        received_at=received,
        due_at=referral_due(clinic.pk, received, Urgency.ROUTINE),
        decided_at=now,
        created_by=officer,
    )
    referral.documents.add(letter)


def _document(
    clinic: Clinic,
    stored: StoredFile,
    officer: User,
    *,
    received_at: dt.datetime,
    patient: Patient | None = None,
    kind: str = "",
    title: str = "",
) -> Document:
    return Document.objects.create(
        clinic=clinic,
        patient=patient,
        kind=kind,
        title=title,
        source=DocumentSource.SCAN,
        original_name=stored.original_name,
        file=stored.file,
        thumbnail=stored.thumbnail,
        content_type=stored.content_type,
        size=stored.size,
        received_at=received_at,
        received_by=officer,
        filed_at=received_at if patient else None,
        filed_by=officer if patient else None,
    )
