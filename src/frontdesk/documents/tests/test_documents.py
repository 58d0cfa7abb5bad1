"""Documents: refused by content, kept under random names, served with the right headers to the
right people only, filed from the inbox (and off the desk queue), listed on the chart, moved
with the move audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.desk.live import desk_version
from frontdesk.desk.sources import desk_sources
from frontdesk.documents import services
from frontdesk.documents.models import Document, DocumentMove
from frontdesk.documents.storage import DocumentsRefusedError, Upload
from frontdesk.documents.tests.conftest import pdf_bytes, picture_bytes
from frontdesk.patients.models import Patient

SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def _upload(personas: Personas, *uploads: Upload, patient: Patient | None = None) -> list[Document]:
    return services.documents_upload(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        clinic=personas.clinic,
        uploads=list(uploads),
        patient=patient,
        kind="consent" if patient else "",
    )


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("letter.pdf", picture_bytes("PNG"), "named .pdf but holds a PNG picture"),
        ("scan.jpg", HTML, "not a PDF, JPEG, PNG or TIFF"),
        ("drawing.svg", SVG_WITH_SCRIPT, "not a PDF, JPEG, PNG or TIFF"),
        ("empty.pdf", b"", "is empty (0 bytes)"),
    ],
)
def test_a_file_that_is_not_what_it_claims_or_not_a_document_is_refused_in_words(
    personas: Personas, name: str, data: bytes, words: str
) -> None:
    with pytest.raises(DocumentsRefusedError) as refused:
        _upload(personas, Upload(name, data))
    assert words in str(refused.value)
    assert name in str(refused.value)
    assert not Document.objects.exists()


def test_a_file_over_the_configured_size_is_refused_naming_the_limit(
    personas: Personas, settings: object
) -> None:
    settings.DOCUMENT_MAX_MB = 1  # type: ignore[attr-defined]
    big = pdf_bytes() + b"%" * (1_200_000)
    with pytest.raises(DocumentsRefusedError) as refused:
        _upload(personas, Upload("records.pdf", big))
    assert "up to 1 MB" in str(refused.value)


def test_one_refused_file_of_several_keeps_none_and_names_each_problem(
    personas: Personas, settings: object
) -> None:
    with pytest.raises(DocumentsRefusedError) as refused:
        _upload(
            personas,
            Upload("good.pdf", pdf_bytes()),
            Upload("bad.jpg", HTML),
            Upload("empty.png", b""),
        )
    assert len(refused.value.problems) == 2
    assert not Document.objects.exists()
    media = settings.MEDIA_ROOT  # type: ignore[attr-defined]
    assert not list(media.rglob("*.pdf")) if media.exists() else True


def test_several_files_go_to_the_inbox_under_random_names_with_thumbnails(
    personas: Personas,
) -> None:
    before = desk_version(personas.clinic.pk)
    documents = _upload(
        personas,
        Upload("smith-john-referral.pdf", pdf_bytes(pages=3)),
        Upload("photo.png", picture_bytes("PNG")),
        Upload("fax.tiff", picture_bytes("TIFF", frames=2)),
    )
    assert len(documents) == 3
    assert all(d.patient_id is None for d in documents)
    assert all("smith" not in d.file and d.file.startswith("documents/") for d in documents)
    assert [d.content_type for d in documents] == [
        "application/pdf",
        "image/jpeg",  # a PNG is re-encoded: only its pixels survive
        "application/pdf",  # a multi-page TIFF becomes a PDF of its pages
    ]
    assert all(d.thumbnail for d in documents)
    assert desk_version(personas.clinic.pk) > before


def test_unfiled_documents_are_on_the_desk_queue_until_filed(
    personas: Personas, patient: Patient
) -> None:
    source = desk_sources()["document_unfiled"]
    (document,) = _upload(personas, Upload("letter.pdf", pdf_bytes()))
    rows = list(source.rows(clinic_id=personas.clinic.pk, now=timezone.now()))
    assert [r["ref"] for r in rows] == [document.pk]
    assert rows[0]["pool"] == "desk"
    assert rows[0]["due"] > rows[0]["since"]
    assert source.describe([document.pk], now=timezone.now())[document.pk].url.endswith(
        f"/documents/{document.pk}/"
    )
    services.document_file(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        document=document,
        patient=patient,
        kind="referral",
    )
    assert not source.rows(clinic_id=personas.clinic.pk, now=timezone.now()).exists()


def test_the_content_is_served_inline_typed_from_its_bytes_sandboxed_and_audited(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    (document,) = _upload(personas, Upload("consent.pdf", pdf_bytes()), patient=patient)
    response = client_for(personas.nurse).get(reverse("documents:content", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Disposition"].startswith("inline")
    b"".join(response.streaming_content)  # type: ignore[attr-defined]
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert event.object_type == "document_content"
    assert event.patient_ids == [patient.pk]
    thumbnail = client_for(personas.nurse).get(reverse("documents:thumbnail", args=[document.pk]))
    assert thumbnail["Content-Type"] == "image/jpeg"


def test_a_stored_file_of_no_known_type_is_downloaded_never_shown(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client], settings: object
) -> None:
    (document,) = _upload(personas, Upload("consent.pdf", pdf_bytes()), patient=patient)
    # A file changed on disk behind the row (or stored before these checks): still inert.
    path = settings.MEDIA_ROOT / document.file  # type: ignore[attr-defined]
    path.write_bytes(HTML)
    response = client_for(personas.front_desk).get(reverse("documents:content", args=[document.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_only_allowed_roles_of_the_same_clinic_reach_a_document(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    (filed,) = _upload(personas, Upload("consent.pdf", pdf_bytes()), patient=patient)
    (unfiled,) = _upload(personas, Upload("fax.pdf", pdf_bytes()))
    content = reverse("documents:content", args=[filed.pk])
    assert client_for(personas.outsider).get(content).status_code == 404
    assert client_for(personas.admin).get(content).status_code == 403
    assert client_for(personas.billing).get(content).status_code == 200
    # Unfiled documents are anyone's PHI: only those who file them open them.
    unfiled_url = reverse("documents:document", args=[unfiled.pk])
    assert client_for(personas.nurse).get(unfiled_url).status_code == 404
    assert client_for(personas.front_desk).get(unfiled_url).status_code == 200


def test_the_chart_lists_documents_by_kind_newest_first(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    for kind, title in [("consent", "Consent 2025"), ("referral", "From Dr Who")]:
        services.documents_upload(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            clinic=personas.clinic,
            uploads=[Upload("x.pdf", pdf_bytes())],
            patient=patient,
            kind=kind,
            title=title,
        )
    page = client_for(personas.front_desk).get(reverse("patients:chart", args=[patient.pk]))
    text = page.content.decode()
    assert "Documents" in text
    assert text.index("Referral") < text.index("From Dr Who")
    assert text.index("From Dr Who") < text.index("Consent 2025")  # kinds in DocumentKind order


def test_filing_from_the_inbox_by_mrn_keeps_what_was_typed_on_a_wrong_mrn(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    (document,) = _upload(personas, Upload("fax.pdf", pdf_bytes()))
    client = client_for(personas.front_desk)
    url = reverse("documents:file", args=[document.pk])
    wrong = client.post(url, {"mrn": "NOPE", "kind": "referral", "title": "Cardiology letter"})
    assert wrong.status_code == 400
    assert "No patient of this clinic has that MRN" in wrong.content.decode()
    assert "Cardiology letter" in wrong.content.decode()
    ok = client.post(url, {"mrn": patient.mrn, "kind": "referral", "title": "Cardiology letter"})
    assert ok.status_code == 302
    document.refresh_from_db()
    assert (document.patient_id, document.kind) == (patient.pk, "referral")


def test_a_patient_of_another_clinic_cannot_be_filed_to(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    stranger = make_patient(personas.other_clinic, given_name="Stranger")
    (document,) = _upload(personas, Upload("fax.pdf", pdf_bytes()))
    response = client_for(personas.front_desk).post(
        reverse("documents:file", args=[document.pk]), {"mrn": stranger.mrn, "kind": "other"}
    )
    assert response.status_code == 400
    document.refresh_from_db()
    assert document.patient_id is None


def test_a_misfiled_document_moves_with_a_reason_and_the_move_is_audited(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    right = make_patient(personas.clinic, given_name="Joan")
    (document,) = _upload(personas, Upload("consent.pdf", pdf_bytes()), patient=patient)
    client = client_for(personas.front_desk)
    url = reverse("documents:move", args=[document.pk])
    no_reason = client.post(url, {"mrn": right.mrn, "reason": ""})
    assert no_reason.status_code == 400
    assert client.post(url, {"mrn": right.mrn, "reason": "Wrong MRN"}).status_code == 302
    document.refresh_from_db()
    assert document.patient_id == right.pk
    move = DocumentMove.objects.get()
    assert (move.from_patient_id, move.to_patient_id, move.reason) == (
        patient.pk,
        right.pk,
        "Wrong MRN",
    )
    event = AuditEvent.objects.filter(object_type="document", action="update").latest("seq")
    assert sorted(event.patient_ids) == sorted([patient.pk, right.pk])
    assert event.detail["reason"] == "Wrong MRN"


def test_the_inbox_page_uploads_several_files_and_shows_refusals_in_words(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.front_desk)
    url = reverse("documents:inbox")
    refused = client.post(
        url,
        {
            "upload": [
                SimpleUploadedFile("a.pdf", pdf_bytes()),
                SimpleUploadedFile("b.jpg", HTML, content_type="image/jpeg"),
            ],
            "title": "Morning fax",
        },
    )
    assert refused.status_code == 400
    assert "not a PDF, JPEG, PNG or TIFF" in refused.content.decode()
    assert "Morning fax" in refused.content.decode()
    ok = client.post(
        url,
        {
            "upload": [
                SimpleUploadedFile("a.pdf", pdf_bytes()),
                SimpleUploadedFile("b.pdf", pdf_bytes()),
            ]
        },
    )
    assert ok.status_code == 302
    assert Document.objects.filter(patient=None).count() == 2
    page = client.get(url)
    assert page.content.decode().count("/documents/") >= 2


def _queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_inbox_and_the_chart_cost_the_same_queries_for_one_document_or_many(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.front_desk)
    inbox, chart = reverse("documents:inbox"), reverse("patients:chart", args=[patient.pk])
    _upload(personas, Upload("a.pdf", pdf_bytes()))
    _upload(personas, Upload("b.pdf", pdf_bytes()), patient=patient)
    one = (_queries(client, inbox), _queries(client, chart))
    for index in range(6):
        _upload(personas, Upload(f"c{index}.pdf", pdf_bytes()))
        _upload(personas, Upload(f"d{index}.pdf", pdf_bytes()), patient=patient)
    assert (_queries(client, inbox), _queries(client, chart)) == one


def test_a_merged_records_documents_move_to_the_record_kept_and_open_there(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    from frontdesk.patients.merging import patient_merge

    twin = make_patient(personas.clinic, given_name="Jon")
    (document,) = _upload(personas, Upload("consent.pdf", pdf_bytes()), patient=twin)
    patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=patient,
        merged=twin,
        take_from_merged=set(),
        reason="registered twice",
    )
    document.refresh_from_db()
    assert document.patient_id == patient.pk
    page = client_for(personas.front_desk).get(reverse("documents:document", args=[document.pk]))
    assert page.status_code == 200
    assert patient.mrn in page.content.decode()


def test_files_no_document_refers_to_are_listed_then_removed_audited(
    personas: Personas, patient: Patient, settings: object
) -> None:
    import datetime as dt
    import io
    import os

    from django.core.management import call_command

    from frontdesk.documents.storage import document_files_store

    (kept,) = _upload(personas, Upload("consent.pdf", pdf_bytes()), patient=patient)
    (stray,) = document_files_store([Upload("lost.pdf", pdf_bytes())])  # never recorded
    media = settings.MEDIA_ROOT  # type: ignore[attr-defined]
    old = (timezone.now() - dt.timedelta(hours=2)).timestamp()
    for name in (kept.file, kept.thumbnail, stray.file, stray.thumbnail):
        os.utime(media / name, (old, old))
    listed = io.StringIO()
    call_command("documents-orphans", stdout=listed)
    assert stray.file in listed.getvalue() and stray.thumbnail in listed.getvalue()
    assert kept.file not in listed.getvalue()
    call_command("documents-orphans", "--delete", stdout=io.StringIO())
    assert not (media / stray.file).exists()
    assert (media / kept.file).exists()
    event = AuditEvent.objects.filter(action="system", object_type="document").get()
    assert sorted(event.detail["orphans_removed"]) == sorted([stray.file, stray.thumbnail])
