"""Put the card files stored before uploads were checked through the same check as a new one.

Earlier uploads kept the uploader's bytes and extension: EXIF (where and when a photo was
taken), comments, anything after the picture, or a page or script passing for a picture. Each
file a coverage refers to now goes through lib/uploads.py: a picture is replaced by its
re-encoded JPEG, a PDF that parses is kept and named .pdf, and anything else is left in place
(the card view serves it as a download under a sandbox) and counted in a warning. A file missing
from disk is skipped and counted: run `frontdesk migrate` where var/media/ is mounted.
"""

import logging
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import migrations, transaction
from django.db.models import Q

# The upload check itself rather than a copy: this runs once per install, so a later change
# to the check never applies to an install twice.
from frontdesk.lib.uploads import UploadRefusedError, upload_clean

logger = logging.getLogger(__name__)

FIELDS = ("card_front", "card_back")


def card_files_reencode(apps, schema_editor):
    Coverage = apps.get_model("patients", "Coverage")
    replaced, refused, missing = [], 0, 0
    rows = Coverage.objects.filter(~Q(card_front="") | ~Q(card_back="")).order_by("pk")
    for coverage in rows.iterator():
        for field in FIELDS:
            name = getattr(coverage, field).name
            if not name:
                continue
            try:
                with default_storage.open(name, "rb") as stored:
                    data = stored.read()
            except FileNotFoundError:
                missing += 1
                continue
            try:
                clean = upload_clean(data)
            except UploadRefusedError:
                refused += 1
                continue
            if clean.extension == "pdf" and name.endswith(".pdf"):
                continue  # a PDF is kept as it came: nothing to change
            new_name = default_storage.save(
                f"cards/{uuid.uuid4().hex}.{clean.extension}", ContentFile(clean.content)
            )
            Coverage.objects.filter(pk=coverage.pk).update(**{field: new_name})
            replaced.append(name)
    # The old files go only once the rows refer to the new ones.
    transaction.on_commit(lambda: [default_storage.delete(name) for name in replaced])
    if refused or missing:
        logger.warning(
            "Card files re-encoded: %d; left as they were (not a picture or PDF, served as "
            "downloads): %d; missing from disk: %d.",
            len(replaced),
            refused,
            missing,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0009_coverage_copay"),
    ]

    operations = [
        migrations.RunPython(card_files_reencode, migrations.RunPython.noop, elidable=True),
    ]
