"""Files for the card tests: real pictures and PDFs, and files built to pass for them."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfWriter

# Read as windows-1252, `FF D8 FF` is `ÿØÿ`, an identifier: the file is a JPEG signature and a
# script at once. It records that it ran where a test can see it.
JPEG_SCRIPT = b"\xff\xd8\xff=1;document.title='PWNED';window.pwned=1;fetch('/pwned-js');"
# Starts like a PDF and is a page that loads the script above and calls home.
PDF_HTML = (
    b"%PDF-1.4\n<html><body><script>document.title='PWNED';fetch('/pwned-html')</script>"
    b"<script src='card.js'></script></body></html>"
)
SVG_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>document.title='PWNED';fetch('/pwned-svg')</script></svg>"
)
HTML_PAGE = b"<!doctype html><html><script>document.title='PWNED';fetch('/pwned-page')</script>"
# The extensions the review found stored and served as pages, scripts or styles.
ACTIVE_EXTENSIONS = ("html", "htm", "xhtml", "svg", "js", "mjs", "css")

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(
    size: tuple[int, int] = (40, 20), *, orientation: int | None = None, gps: bool = False
) -> bytes:
    """A real JPEG, with EXIF orientation and a GPS position if asked."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"Smith, John 1980-01-02")
    return out.getvalue()


def png(size: tuple[int, int] = (30, 30), *, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def pdf(pages: int = 1, *, password: str = "") -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=243, height=153)  # a card, in points
    if password:
        writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_with_page() -> bytes:
    """A JPEG every decoder accepts, followed by a page after the image's end marker."""
    return jpeg(gps=True) + HTML_PAGE


def pdf_with_page() -> bytes:
    """A PDF that parses, with a page hidden in a comment before its trailer."""
    body = pdf()
    at = body.rindex(b"startxref")
    # Inserted before the trailer, the comment shifts nothing the cross-reference points to
    # (the objects all come earlier), so the PDF still opens.
    return body[:at] + b"%" + HTML_PAGE + b"\n" + body[at:]
