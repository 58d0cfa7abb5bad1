"""Document files on disk: checked, thumbnailed and written before their row, removed if the row
is never committed.

Reading a file's content, re-encoding pictures and drawing a thumbnail take tens of
milliseconds each; done before the transaction, they never hold SQLite's write lock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from frontdesk.documents.models import (
    DOCUMENT_DIRECTORY,
    THUMBNAIL_DIRECTORY,
    Document,
    document_storage_name,
)
from frontdesk.lib.uploads import UploadRefusedError, document_clean, thumbnail_make

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    """A file as it came: the name it was given (shown to staff only) and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class StoredFile:
    original_name: str
    file: str
    thumbnail: str
    content_type: str
    size: int


class DocumentsRefusedError(ValueError):
    """Some of the files cannot be kept; `problems` says why for each, in the desk's words."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = list(problems)


def document_max_bytes() -> int:
    return int(settings.DOCUMENT_MAX_MB) * 1024 * 1024


def document_files_store(uploads: Sequence[Upload]) -> list[StoredFile]:
    """Check every file, then write each with its thumbnail under random names.

    All or nothing: when one file is refused, none is written, and every refusal is named (the
    person fixes them all at once)."""
    if not uploads:
        raise DocumentsRefusedError(["Choose at least one file to upload."])
    problems: list[str] = []
    cleaned = []
    for upload in uploads:
        try:
            cleaned.append(
                (
                    upload,
                    document_clean(upload.data, name=upload.name, max_bytes=document_max_bytes()),
                )
            )
        except UploadRefusedError as error:
            # Several files at once: each refusal names its file.
            words = str(error)
            problems.append(words if upload.name in words else f"“{upload.name}”: {words}")
    if problems:
        raise DocumentsRefusedError(problems)
    stored: list[StoredFile] = []
    try:
        for upload, clean in cleaned:
            name = default_storage.save(
                document_storage_name(clean.extension), ContentFile(clean.content)
            )
            thumbnail = ""
            picture = thumbnail_make(clean)
            if picture is not None:
                thumbnail = default_storage.save(
                    document_storage_name("jpg", thumbnail=True), ContentFile(picture)
                )
            stored.append(
                StoredFile(
                    original_name=upload.name[:200],
                    file=name,
                    thumbnail=thumbnail,
                    content_type=clean.content_type,
                    size=len(clean.content),
                )
            )
    except BaseException:
        document_files_remove(stored)
        raise
    return stored


def document_files_remove(files: Iterable[StoredFile]) -> None:
    """Remove files whose rows were never committed."""
    for stored in files:
        for name in (stored.file, stored.thumbnail):
            if not name:
                continue
            try:
                default_storage.delete(name)
            except OSError:
                logger.warning("Document file %s not removed.", name)


# A save in flight has written its files but not yet committed the rows that refer to them:
# files younger than this are never called orphans.
ORPHAN_MIN_AGE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class DocumentOrphan:
    name: str  # random (models.document_storage_name), so naming it reveals nothing
    size: int
    modified: dt.datetime


def document_orphans(
    *, now: dt.datetime, min_age: dt.timedelta = ORPHAN_MIN_AGE
) -> list[DocumentOrphan]:
    """Document files and thumbnails no document refers to (left by a process stopped between
    writing its files and committing its rows), older than `min_age`."""
    orphans = []
    for directory in (DOCUMENT_DIRECTORY, THUMBNAIL_DIRECTORY):
        try:
            _, files = default_storage.listdir(directory)
        except FileNotFoundError:  # nothing uploaded yet
            continue
        names = [f"{directory}/{file}" for file in sorted(files)]
        referenced = set(
            Document.objects.filter(file__in=names).values_list("file", flat=True)
        ) | set(Document.objects.filter(thumbnail__in=names).values_list("thumbnail", flat=True))
        for name in names:
            if name in referenced:
                continue
            modified = default_storage.get_modified_time(name)
            if now - modified >= min_age:
                orphans.append(DocumentOrphan(name, default_storage.size(name), modified))
    return orphans
