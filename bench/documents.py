"""Documents: upload and thumbnail of a 5-page 2 MB PDF, and the chart's document list among a
million documents.

    .venv/bin/python bench/documents.py                       # PostgreSQL, scratch database
    .venv/bin/python bench/documents.py --documents 100000    # a smaller run
    .venv/bin/python bench/documents.py --database-url postgres://postgres@127.0.0.1:5432/NAME

Goals (from the issue): the chart's document list for a patient with 200 documents, among
1,000,000 documents on PostgreSQL, p95 <= 50 ms; the upload of a 5-page, 2 MB PDF with its
first-page thumbnail is reported as its p95 server time.

What it does:

- Database: a scratch PostgreSQL database `frontdesk_bench_documents` (dropped and created,
  migrated, dropped at the end unless --keep), or the one --database-url names (it must hold no
  documents; the rows the bench adds are deleted at the end).
- Clinic: the demo clinic with --patients patients (default 5,000). One patient gets exactly 200
  documents; the rest of --documents rows (default 1,000,000) are spread at random over the
  other patients, with kinds and dates drawn by a seeded RNG. Rows are written by COPY; the
  files need not exist for the list.
- Upload: a 5-page PDF of about 2 MB (pages of noise, so it does not compress) is posted
  --uploads times (default 30) to /documents/patients/<id>/new/ as the demo's front-desk
  officer, through Django's whole request path in process (middleware, session, policy, the
  content check, the thumbnail by PDFium, the files written, the audit event). Server time is
  the request's wall time in process: no network, no client.
- List: `patient_documents_grouped`, the chart part's one query and its grouping, timed
  --reads times (default 200) for the 200-document patient, after a warm-up; the chart page
  itself (GET /patients/<id>/, which also writes its audit event) is timed too, for reference.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

SCRATCH_DB = "frontdesk_bench_documents"
GOAL_LIST_P95_MS = 50.0
TARGET_DOCUMENTS = 200
KINDS = (
    "identification",
    "insurance_card",
    "referral",
    "consent",
    "outside_records",
    "correspondence",
    "other",
)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pg_args(url: str) -> list[str]:
    parsed = urllib.parse.urlparse(url)
    return [
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
    ]


def noisy_pdf(pages: int = 5, size: int = 2_000_000) -> bytes:
    """A `pages`-page PDF of about `size` bytes: noise pictures, which no encoder shrinks."""
    from PIL import Image

    def made(side: int) -> bytes:
        rng = random.Random(7)
        images = [
            Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
            for _ in range(pages)
        ]
        out = io.BytesIO()
        images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150.0)
        return out.getvalue()

    # Pillow writes each page as a JPEG: measure one size, then scale the side to the goal.
    first = made(400)
    return made(int(400 * (size / len(first)) ** 0.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--patients", type=int, default=5_000)
    parser.add_argument("--uploads", type=int, default=30)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()

    scratch = options.database_url is None
    url = options.database_url or f"postgres://postgres@127.0.0.1:5432/{SCRATCH_DB}"
    if scratch:
        subprocess.run(["dropdb", *pg_args(url), "--if-exists", SCRATCH_DB], check=True)
        subprocess.run(["createdb", *pg_args(url), SCRATCH_DB], check=True)
    media = Path(tempfile.mkdtemp(prefix="frontdesk-bench-documents-"))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "frontdesk.settings"
    os.environ["REDIS_URL"] = ""
    os.environ["LOG_LEVEL"] = "WARNING"  # no access-log line per request
    os.environ["DATABASE_POOL_SIZE"] = "0"  # so the scratch database can be dropped at the end
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.urls import reverse

    from frontdesk.accounts.models import User
    from frontdesk.demo.services import demo_clinic_build
    from frontdesk.documents.models import Document
    from frontdesk.documents.selectors import patient_documents_grouped
    from frontdesk.patients.models import Patient

    settings.MEDIA_ROOT = media / "media"
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    if Document.objects.exists():
        sys.exit("The database already holds documents; give the bench an empty one.")
    started = time.perf_counter()
    build = demo_clinic_build(seed=11, patients=options.patients)
    clinic = build.clinic
    patient_ids = list(
        Patient.objects.filter(clinic=clinic, merged_into=None).values_list("pk", flat=True)
    )
    target, others = patient_ids[0], patient_ids[1:]
    rng = random.Random(3)
    base = 1_700_000_000
    with connection.cursor() as cursor:
        raw: Any = cursor.connection
        with (
            raw.cursor() as pg,
            pg.copy(
                "COPY documents_document (clinic_id, patient_id, kind, title, source, "
                "original_name, file, thumbnail, content_type, size, received_at) FROM STDIN"
            ) as copy,
        ):
            for index in range(options.documents):
                patient_id = target if index < TARGET_DOCUMENTS else rng.choice(others)
                moment = base + rng.randrange(0, 5 * 365 * 86_400)
                copy.write_row(
                    (
                        clinic.pk,
                        patient_id,
                        rng.choice(KINDS),
                        f"Document {index}",
                        "upload",
                        "",
                        f"documents/bench-{index}.pdf",
                        "",
                        "application/pdf",
                        100_000,
                        time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(moment)),
                    )
                )
        cursor.execute("ANALYZE documents_document")
    filled = time.perf_counter() - started
    print(
        f"filled: {options.patients:,} patients, {options.documents:,} documents in "
        f"{filled:.0f} s (load {load_average()})"
    )

    officer = next(
        User.objects.get(username=login.username)
        for login in build.logins
        if login.role == "front_desk"
    )
    client = Client()
    client.force_login(officer)

    # The list: warm-up, then timed.
    for _ in range(10):
        patient_documents_grouped(target)
    list_ms = []
    for _ in range(options.reads):
        begin = time.perf_counter()
        groups = patient_documents_grouped(target)
        list_ms.append((time.perf_counter() - begin) * 1000)
    shown = sum(len(group.documents) for group in groups)
    chart_url = reverse("patients:chart", args=[target])
    chart_ms = []
    for _ in range(min(options.reads, 50)):
        begin = time.perf_counter()
        response = client.get(chart_url)
        chart_ms.append((time.perf_counter() - begin) * 1000)
        if response.status_code != 200:
            sys.exit(f"The chart answered {response.status_code}.")

    # The upload.
    pdf = noisy_pdf()
    upload_url = reverse("documents:patient_upload", args=[others[0]])
    upload_ms = []
    for index in range(options.uploads):
        begin = time.perf_counter()
        response = client.post(
            upload_url,
            {
                "upload": _file(pdf, f"outside-{index}.pdf"),
                "kind": "outside_records",
            },
        )
        upload_ms.append((time.perf_counter() - begin) * 1000)
        if response.status_code != 302:
            sys.exit(f"The upload was refused ({response.status_code}).")
    uploaded = Document.objects.filter(patient_id=others[0]).exclude(thumbnail="").count()
    if uploaded < options.uploads or shown != TARGET_DOCUMENTS:
        sys.exit(
            f"Expected {options.uploads} uploads with thumbnails and {TARGET_DOCUMENTS} "
            f"documents listed; found {uploaded} and {shown}."
        )

    list_p95 = percentile(list_ms, 95)
    print(
        f"chart list: {shown} documents shown (of {TARGET_DOCUMENTS}), p50 "
        f"{statistics.median(list_ms):.1f} ms, p95 {list_p95:.1f} ms over {options.reads} reads; "
        f"whole chart page p95 {percentile(chart_ms, 95):.1f} ms"
    )
    print(
        f"upload: {len(pdf) / 1_048_576:.2f} MB, 5 pages, with thumbnail: p50 "
        f"{statistics.median(upload_ms):.0f} ms, p95 {percentile(upload_ms, 95):.0f} ms over "
        f"{options.uploads} uploads"
    )
    met = "met" if list_p95 <= GOAL_LIST_P95_MS else "NOT met"
    print(
        f"bench documents: chart list p95 {list_p95:.1f} ms ({list_p95 / GOAL_LIST_P95_MS:.2f}x "
        f"of {GOAL_LIST_P95_MS:.0f} ms, {options.documents:,} documents) goal {met}; "
        f"upload+thumbnail 2 MB 5-page PDF p95 {percentile(upload_ms, 95):.0f} ms"
    )

    connections.close_all()
    shutil.rmtree(media, ignore_errors=True)  # the uploaded PDFs and thumbnails
    if scratch and not options.keep:
        subprocess.run(["dropdb", *pg_args(url), "--if-exists", SCRATCH_DB], check=True)
    elif not scratch:
        Document.objects.filter(clinic=clinic).delete()
    sys.exit(0 if list_p95 <= GOAL_LIST_P95_MS else 1)


def _file(data: bytes, name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/pdf")


if __name__ == "__main__":
    main()
