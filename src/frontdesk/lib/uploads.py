"""Files people upload: the type read from the content, pictures re-encoded, responses inert.

A file's first bytes can be a valid picture signature and valid JavaScript or HTML at once
(`FF D8 FF` reads as `ÿØÿ` in windows-1252), so neither the uploaded name nor a signature
decides anything here. Pictures are decoded and encoded afresh, so only their pixels survive
(no metadata, no trailing bytes); a PDF is kept only when it parses as one and is always served
as a download; every response carries headers under which a browser runs nothing from it.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

import pypdfium2
from django.http import FileResponse
from PIL import Image, ImageOps
from pypdf import PasswordType, PdfReader

# A phone camera takes 12 to 50 megapixels; decoded, 50 million RGB pixels take 150 MB. Pillow
# refuses twice its limit itself (DecompressionBombError); we refuse anything over it, so its
# warning between the two would only repeat our refusal in the log.
IMAGE_MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = IMAGE_MAX_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# Only these decoders ever see an upload: each one more is more parser exposed to strangers.
IMAGE_FORMATS = ("JPEG", "PNG")
# A card is 86 mm wide: 3,000 pixels is over 800 per inch, finer than any desk scanner setting,
# and keeps a stored picture near a megabyte.
IMAGE_MAX_SIDE = 3000
PDF_MAX_PAGES = 10

JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PDF_SIGNATURE = b"%PDF-"

# Every response with a file a person uploaded: no script, plugin, form or request runs from it
# even if a browser renders it as a page; it is never sniffed into another type, never embedded
# by another site, and never kept in a cache (it is PHI).
USER_FILE_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "private, no-store",
}

NOT_A_CARD = (
    "This file is not a picture or a PDF. Upload the card as a JPEG, PNG or PDF file: a photo "
    "of the card, or a scan of it."
)


class UploadRefusedError(ValueError):
    """The file cannot be kept; the message says why in the words of the person uploading."""


@dataclass(frozen=True)
class CleanFile:
    """What to store: the bytes, and the extension and type they were found to be."""

    content: bytes
    extension: str
    content_type: str


@dataclass(frozen=True)
class ServedKind:
    """How to serve a stored file: its type, the extension to name it by, shown or downloaded."""

    content_type: str
    extension: str
    inline: bool


def upload_clean(data: bytes) -> CleanFile:
    """A picture (JPEG or PNG) re-encoded as JPEG, or a PDF as it came if it parses as one.

    Raises UploadRefusedError for anything else, naming the problem in plain words.
    """
    if data.startswith(PDF_SIGNATURE):
        return CleanFile(_pdf_checked(data), "pdf", "application/pdf")
    if data.startswith((JPEG_SIGNATURE, PNG_SIGNATURE)):
        return CleanFile(_image_reencoded(data), "jpg", "image/jpeg")
    raise UploadRefusedError(NOT_A_CARD)


def _image_reencoded(data: bytes) -> bytes:
    too_large = UploadRefusedError(
        f"The picture is too large to open (over {IMAGE_MAX_PIXELS // 1_000_000} megapixels); "
        "take it again at a lower resolution."
    )
    # Pillow raises many kinds of error on a damaged or crafted file (OSError, SyntaxError,
    # ValueError, struct.error, DecompressionBombError…): each means the same to the person.
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as probe:
            probe.verify()  # checks what it can without decoding (PNG chunk checksums)
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
            if image.width * image.height > IMAGE_MAX_PIXELS:
                raise too_large
            image.load()
            return _pixels_as_jpeg(image)
    except UploadRefusedError:
        raise
    except Image.DecompressionBombError as error:
        raise too_large from error
    except Exception as error:
        raise UploadRefusedError(
            "The picture could not be opened; it may be damaged or not really a JPEG or PNG. "
            "Take the photo again."
        ) from error


def _pixels_as_jpeg(image: Image.Image) -> bytes:
    # The camera's orientation first, since dropping the metadata loses it.
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
        # JPEG has no transparency: lay the picture on white, as it would look on paper.
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        upright = flat
    picture = upright.convert("RGB")
    picture.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
    # A new image holding the pixels alone: Pillow's encoders copy some of the source's `info`
    # (its JPEG comment, for one) into what they write.
    picture = Image.frombytes("RGB", picture.size, picture.tobytes())
    out = io.BytesIO()
    # JPEG, whatever came in: a card is a photo or a scan, which JPEG keeps legible at a fraction
    # of PNG's size, and every viewer shows it. 4:4:4 keeps small coloured print sharp. Nothing
    # but the pixels is passed on: no EXIF (it can hold where and when the photo was taken),
    # no comments, no colour profile, nothing after the image's end.
    picture.save(out, "JPEG", quality=90, subsampling=0, optimize=True)
    return out.getvalue()


def _pdf_checked(data: bytes, *, max_pages: int = PDF_MAX_PAGES, what: str = "card") -> bytes:
    damaged = UploadRefusedError(
        f"The PDF could not be opened; it may be damaged. Scan the {what} again and choose "
        "the new file."
    )
    # A PDF ends with its trailer: `startxref`, the offset, then `%%EOF` (PDF 1.7, 7.5.5).
    tail = data[-1024:]
    if b"startxref" not in tail or b"%%EOF" not in tail:
        raise damaged
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise UploadRefusedError(
                "The PDF is protected by a password, so no one could open it later. Scan the "
                f"{what} again without a password."
            )
        pages = len(reader.pages)
    except UploadRefusedError:
        raise
    except Exception as error:  # pypdf's errors, and what a crafted file makes it raise
        raise damaged from error
    if pages < 1:
        raise damaged
    if pages > max_pages:
        raise UploadRefusedError(
            f"The PDF has {pages} pages; scan only the {what} ({max_pages} pages at most)."
        )
    return data


def stored_kind(stream: IO[bytes]) -> ServedKind:
    """The type to serve a stored file as, read from its bytes, never from its name.

    Files stored before pictures were re-encoded may be anything: only a file Pillow reads as a
    JPEG or PNG is shown; a PDF and anything else are downloaded.
    """
    head = stream.read(16)
    stream.seek(0)
    if head.startswith((JPEG_SIGNATURE, PNG_SIGNATURE)):
        try:
            with Image.open(stream, formats=IMAGE_FORMATS) as image:
                image_format = image.format
        except Exception:  # not a picture after all: served as a download below
            image_format = None
        stream.seek(0)
        if image_format == "JPEG":
            return ServedKind("image/jpeg", "jpg", inline=True)
        if image_format == "PNG":
            return ServedKind("image/png", "png", inline=True)
    if head.startswith(PDF_SIGNATURE):
        return ServedKind("application/pdf", "pdf", inline=False)
    return ServedKind("application/octet-stream", "bin", inline=False)


def user_file_response(stream: IO[bytes], *, name: str, pdf_inline: bool = False) -> FileResponse:
    """A response with a file someone uploaded: typed from its bytes, named `name` plus the
    extension of that type, with the headers above. `pdf_inline`: a PDF is shown rather than
    downloaded (documents, whose PDFs were parsed when filed); anything else unknown is always
    a download."""
    kind = stored_kind(stream)
    inline = kind.inline or (pdf_inline and kind.content_type == "application/pdf")
    response = FileResponse(
        stream,
        content_type=kind.content_type,
        as_attachment=not inline,
        filename=f"{name}.{kind.extension}",
    )
    for header, value in USER_FILE_HEADERS.items():
        response[header] = value
    return response


# --- Documents filed to a patient (documents/) ---------------------------------------------
# A scanned letter or outside record runs to many pages; a whole chart from another practice
# can run to hundreds.
DOCUMENT_PDF_MAX_PAGES = 500
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*")
# What a name's extension claims, by the type read from the content.
_EXTENSION_CLAIMS = {
    "pdf": "pdf",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "jpe": "jpeg",
    "png": "png",
    "tif": "tiff",
    "tiff": "tiff",
}
_TYPE_WORDS = {
    "pdf": "a PDF",
    "jpeg": "a JPEG picture",
    "png": "a PNG picture",
    "tiff": "a TIFF scan",
}
NOT_A_DOCUMENT = (
    "This file is not a PDF, JPEG, PNG or TIFF, so it cannot be filed. Scan or save the "
    "document as a PDF (or photograph it) and upload that file."
)
THUMBNAIL_SIDE = 240


def _content_type_of(data: bytes) -> str | None:
    if data.startswith(PDF_SIGNATURE):
        return "pdf"
    if data.startswith(JPEG_SIGNATURE):
        return "jpeg"
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(TIFF_SIGNATURES):
        return "tiff"
    return None


def document_clean(data: bytes, *, name: str, max_bytes: int) -> CleanFile:
    """A document to file: a PDF as it came if it parses, a picture re-encoded as JPEG, a TIFF
    re-encoded (one page: JPEG; several: a PDF of its pages, which every browser shows).

    The type is read from the content. A name whose extension claims another type than the
    content holds (a PNG renamed `.pdf`) is refused too: either someone made a mistake that the
    desk should see, or the file is dressed up as what it is not. Raises UploadRefusedError.
    """
    if not data:
        raise UploadRefusedError(
            f"“{name}” is empty (0 bytes); nothing was scanned into it. Scan it again."
        )
    if len(data) > max_bytes:
        raise UploadRefusedError(
            f"“{name}” is {len(data) / 1_048_576:.1f} MB; files may be up to "
            f"{max_bytes / 1_048_576:.0f} MB. Scan it at a lower resolution or in parts."
        )
    found = _content_type_of(data)
    if found is None:
        raise UploadRefusedError(f"“{name}”: {NOT_A_DOCUMENT}")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    claimed = _EXTENSION_CLAIMS.get(extension)
    if claimed is not None and claimed != found:
        raise UploadRefusedError(
            f"“{name}” is named .{extension} but holds {_TYPE_WORDS[found]}. Save it again "
            "with its own type and upload that file."
        )
    if found == "pdf":
        return CleanFile(
            _pdf_checked(data, max_pages=DOCUMENT_PDF_MAX_PAGES, what="document"),
            "pdf",
            "application/pdf",
        )
    if found == "tiff":
        return _tiff_reencoded(data)
    return CleanFile(_image_reencoded(data), "jpg", "image/jpeg")


def _tiff_reencoded(data: bytes) -> CleanFile:
    damaged = UploadRefusedError(
        "The TIFF scan could not be opened; it may be damaged. Scan the document again."
    )
    try:
        with Image.open(io.BytesIO(data), formats=("TIFF",)) as image:
            pages: list[Image.Image] = []
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                if image.width * image.height > IMAGE_MAX_PIXELS:
                    raise UploadRefusedError(
                        "A page of the TIFF scan is too large to open; scan it again at a "
                        "lower resolution."
                    )
                page = ImageOps.exif_transpose(image).convert("RGB")
                page.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
                pages.append(Image.frombytes("RGB", page.size, page.tobytes()))
                if len(pages) > DOCUMENT_PDF_MAX_PAGES:
                    raise UploadRefusedError(
                        f"The TIFF scan has more than {DOCUMENT_PDF_MAX_PAGES} pages; scan the "
                        "document in parts."
                    )
    except UploadRefusedError:
        raise
    except Exception as error:  # Pillow's many errors on a damaged or crafted file
        raise damaged from error
    out = io.BytesIO()
    if len(pages) == 1:
        pages[0].save(out, "JPEG", quality=90, subsampling=0, optimize=True)
        return CleanFile(out.getvalue(), "jpg", "image/jpeg")
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=150.0)
    return CleanFile(out.getvalue(), "pdf", "application/pdf")


def thumbnail_make(clean: CleanFile) -> bytes | None:
    """A small JPEG of the first page (a PDF rendered by PDFium, a picture scaled by Pillow),
    or None when the first page cannot be drawn: the document is kept all the same."""
    try:
        if clean.content_type == "application/pdf":
            # pypdfium2 (PDFium, the renderer of Chromium's viewer) draws a page faithfully
            # where pypdf only parses; only the first page is ever rendered.
            pdf = pypdfium2.PdfDocument(clean.content)
            try:
                page = pdf[0]
                width, height = page.get_size()
                scale = THUMBNAIL_SIDE / max(width, height, 1.0)
                picture = page.render(scale=scale).to_pil()
                page.close()
            finally:
                pdf.close()
        else:
            with Image.open(io.BytesIO(clean.content), formats=("JPEG",)) as image:
                image.load()
                picture = image.copy()
        picture = picture.convert("RGB")
        picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=80, optimize=True)
        return out.getvalue()
    except Exception:  # a page PDFium cannot draw: no thumbnail, the document is still filed
        return None
