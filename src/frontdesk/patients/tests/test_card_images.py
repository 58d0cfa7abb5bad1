"""Insurance card files: only re-encoded pictures and real PDFs are kept, and every stored file,
old or new, is served so that a browser runs nothing from it."""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from django.test import Client
from PIL import Image

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.patients.models import Coverage, Patient, Payer
from frontdesk.patients.tests.card_files import (
    ACTIVE_EXTENSIONS,
    GPS_IFD,
    HTML_PAGE,
    JPEG_SCRIPT,
    PDF_HTML,
    SVG_SCRIPT,
    jpeg,
    jpeg_with_page,
    pdf,
    pdf_with_page,
    png,
)

SANDBOX = "sandbox; default-src 'none'"


@pytest.fixture(autouse=True)
def _media(tmp_path: Path, settings: object) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]


@pytest.fixture
def payer(personas: Personas) -> Payer:
    return Payer.objects.create(clinic=personas.clinic, name="Blue Harbor Health")


@pytest.fixture
def desk(personas: Personas, client_for: Callable[[User], Client]) -> Client:
    return client_for(personas.front_desk)


def _post(client: Client, patient: Patient, payer: Payer, **cards: object) -> str:
    data: dict[str, object] = {
        "rank": "1",
        "payer": str(payer.pk),
        "member_id": "M1",
        "relationship": "self",
        **cards,
    }
    response = client.post(f"/patients/{patient.pk}/coverages/new/", data)
    return f"{response.status_code} {response.content.decode()}"


def _served(client: Client, patient: Patient, coverage: Coverage, side: str) -> FileResponse:
    response = client.get(f"/patients/{patient.pk}/coverages/{coverage.pk}/card/{side}/")
    assert isinstance(response, FileResponse)
    return response


def _body(response: FileResponse) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[arg-type]


@pytest.mark.parametrize("extension", ACTIVE_EXTENSIONS)
def test_it_refuses_a_jpeg_signature_followed_by_script_whatever_its_name(
    desk: Client, patient: Patient, payer: Payer, extension: str
) -> None:
    card = SimpleUploadedFile(f"card.{extension}", JPEG_SCRIPT, "image/jpeg")
    result = _post(desk, patient, payer, card_front=card)
    assert result.startswith("400")
    assert "The picture could not be opened" in result
    assert not Coverage.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("card.html", PDF_HTML),
        ("card.pdf", PDF_HTML),
        ("card.svg", SVG_SCRIPT),
        ("card.jpg", HTML_PAGE),
        ("card.jpg", SVG_SCRIPT),
    ],
)
def test_it_refuses_pages_and_drawings_passing_for_a_card(
    desk: Client, patient: Patient, payer: Payer, name: str, content: bytes, tmp_path: Path
) -> None:
    result = _post(desk, patient, payer, card_back=SimpleUploadedFile(name, content))
    assert result.startswith("400")
    assert "Upload the card as a JPEG, PNG or PDF" in result or "The PDF could not" in result
    assert not Coverage.objects.exists()
    assert not any(tmp_path.rglob("*.*"))  # MEDIA_ROOT


def test_it_stores_a_picture_re_encoded_as_jpeg_with_nothing_but_its_pixels(
    desk: Client, patient: Patient, payer: Payer
) -> None:
    card = SimpleUploadedFile("smith.html", jpeg_with_page(), "text/html")
    assert _post(desk, patient, payer, card_front=card).startswith("302")
    stored = Coverage.objects.get().card_front
    assert str(stored.name).startswith("cards/") and str(stored.name).endswith(".jpg")
    content = stored.read()
    assert b"<script" not in content and b"Smith" not in content
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert GPS_IFD not in image.getexif()


def test_it_turns_the_picture_upright_before_dropping_the_orientation(
    desk: Client, patient: Patient, payer: Payer
) -> None:
    # Orientation 6: the camera was turned, so 40 by 20 is stored turned back, 20 by 40.
    card = SimpleUploadedFile("card.jpg", jpeg((40, 20), orientation=6))
    assert _post(desk, patient, payer, card_front=card).startswith("302")
    with Image.open(Coverage.objects.get().card_front) as image:
        assert image.size == (20, 40)


def test_it_stores_a_transparent_png_as_jpeg_on_white(
    desk: Client, patient: Patient, payer: Payer
) -> None:
    card = SimpleUploadedFile("card.png", png(mode="RGBA"))
    assert _post(desk, patient, payer, card_back=card).startswith("302")
    with Image.open(Coverage.objects.get().card_back) as image:
        assert image.format == "JPEG"
        assert image.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("mode", "image_format"),
    [("1", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("I;16", "PNG"), ("CMYK", "JPEG")],
)
def test_it_keeps_pictures_of_every_colour_mode_scanners_write(
    desk: Client, patient: Patient, payer: Payer, mode: str, image_format: str
) -> None:
    out = io.BytesIO()
    Image.new(mode, (30, 20)).save(out, image_format)
    card = SimpleUploadedFile("scan", out.getvalue())
    assert _post(desk, patient, payer, card_front=card).startswith("302")
    with Image.open(Coverage.objects.get().card_front) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (30, 20))


def test_it_scales_a_picture_down_to_3000_pixels_on_its_long_side(
    desk: Client, patient: Patient, payer: Payer
) -> None:
    card = SimpleUploadedFile("card.png", png((4000, 1000)))
    assert _post(desk, patient, payer, card_front=card).startswith("302")
    with Image.open(Coverage.objects.get().card_front) as image:
        assert image.size == (3000, 750)


# Pillow warns between its limit and twice it; production ignores the warning (lib/uploads.py),
# pytest resets warning filters per test.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_it_refuses_a_picture_of_too_many_pixels_in_plain_words(
    desk: Client, patient: Patient, payer: Payer
) -> None:
    for size in ((8000, 7000), (11000, 10000)):  # over our limit; over Pillow's own
        out = io.BytesIO()
        Image.new("1", size).save(out, "PNG")
        card = SimpleUploadedFile("card.png", out.getvalue())
        result = _post(desk, patient, payer, card_front=card)
        assert result.startswith("400")
        assert "too large to open (over 50 megapixels)" in result
    assert not Coverage.objects.exists()


def test_it_refuses_a_cut_off_picture(desk: Client, patient: Patient, payer: Payer) -> None:
    card = SimpleUploadedFile("card.jpg", jpeg((400, 300))[:300])
    result = _post(desk, patient, payer, card_front=card)
    assert result.startswith("400") and "may be damaged" in result


def test_it_keeps_a_pdf_that_parses_named_pdf_whatever_its_name(
    desk: Client, patient: Patient, payer: Payer
) -> None:
    content = pdf(2)
    card = SimpleUploadedFile("card.html", content, "text/html")
    assert _post(desk, patient, payer, card_front=card).startswith("302")
    stored = Coverage.objects.get().card_front
    assert str(stored.name).endswith(".pdf")
    assert stored.read() == content


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (pdf(password="secret"), "protected by a password"),
        (pdf(11), "The PDF has 11 pages"),
        (pdf()[:-40], "The PDF could not be opened"),
    ],
)
def test_it_refuses_a_pdf_no_one_could_read_in_plain_words(
    desk: Client, patient: Patient, payer: Payer, content: bytes, words: str
) -> None:
    result = _post(desk, patient, payer, card_front=SimpleUploadedFile("card.pdf", content))
    assert result.startswith("400") and words in result


def test_it_serves_a_card_picture_inline_with_headers_under_which_nothing_runs(
    desk: Client, patient: Patient, payer: Payer
) -> None:
    _post(desk, patient, payer, card_front=SimpleUploadedFile("card.png", png()))
    response = _served(desk, patient, Coverage.objects.get(), "front")
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'inline; filename="insurance-card-front.jpg"'
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Cache-Control"] == "private, no-store"
    assert _body(response).startswith(b"\xff\xd8\xff")


def test_it_serves_a_pdf_card_as_a_download(desk: Client, patient: Patient, payer: Payer) -> None:
    _post(desk, patient, payer, card_front=SimpleUploadedFile("card.pdf", pdf_with_page()))
    response = _served(desk, patient, Coverage.objects.get(), "front")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="insurance-card-front.pdf"'
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("stored_name", "content", "served_as", "disposition"),
    [
        ("cards/a.js", JPEG_SCRIPT, "application/octet-stream", "attachment"),
        ("cards/b.html", PDF_HTML, "application/pdf", "attachment"),
        ("cards/c.svg", SVG_SCRIPT, "application/octet-stream", "attachment"),
        ("cards/d.jpg", HTML_PAGE, "application/octet-stream", "attachment"),
        ("cards/e.css", b"body{}", "application/octet-stream", "attachment"),
        ("cards/f.html", png(), "image/png", "inline"),
    ],
    ids=["jpeg-script", "pdf-page", "svg", "page-named-jpg", "css", "png-named-html"],
)
def test_it_serves_a_file_stored_before_re_encoding_by_its_bytes_never_its_name(
    desk: Client,
    patient: Patient,
    payer: Payer,
    stored_name: str,
    content: bytes,
    served_as: str,
    disposition: str,
) -> None:
    name = default_storage.save(stored_name, ContentFile(content))
    coverage = Coverage.objects.create(
        patient=patient, payer=payer, rank=1, member_id="M1", card_back=name
    )
    response = _served(desk, patient, coverage, "back")
    assert response["Content-Type"] == served_as
    assert response["Content-Disposition"].startswith(f"{disposition}; ")
    assert "insurance-card-back." in response["Content-Disposition"]
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Cache-Control"] == "private, no-store"
    assert _body(response) == content


def test_the_migration_re_encodes_cards_stored_before_and_leaves_the_rest_served_inert(
    desk: Client,
    patient: Patient,
    payer: Payer,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[object]],
) -> None:
    migration = importlib.import_module("frontdesk.patients.migrations.0010_card_files_reencoded")
    picture = default_storage.save("cards/a.js", ContentFile(jpeg_with_page()))
    scan = default_storage.save("cards/b.png", ContentFile(pdf()))
    script = default_storage.save("cards/c.js", ContentFile(JPEG_SCRIPT))
    first = Coverage.objects.create(
        patient=patient, payer=payer, rank=1, member_id="M1", card_front=picture, card_back=scan
    )
    second = Coverage.objects.create(
        patient=patient, payer=payer, rank=2, member_id="M2", card_front=script
    )
    third = Coverage.objects.create(
        patient=patient, payer=payer, rank=3, member_id="M3", card_back="cards/gone.jpg"
    )

    with django_capture_on_commit_callbacks(execute=True):
        migration.card_files_reencode(apps, None)

    first.refresh_from_db()
    assert str(first.card_front.name).endswith(".jpg")
    content = first.card_front.read()
    assert b"<script" not in content and b"Smith" not in content
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "JPEG" and not image.getexif()
    assert str(first.card_back.name).endswith(".pdf")
    assert first.card_back.read() == pdf()
    assert not default_storage.exists(picture) and not default_storage.exists(scan)
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.card_front.name == script  # not a picture: left, served as a download
    assert third.card_back.name == "cards/gone.jpg"
    response = _served(desk, patient, second, "front")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Security-Policy"] == SANDBOX
