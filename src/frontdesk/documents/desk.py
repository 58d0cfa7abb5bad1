"""Unfiled documents on the desk queue (desk/sources.py): a state of the document, never a second
row. Each is the front desk pool's until someone files it, due a day after it arrived."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    QuerySet,
    Value,
)

from frontdesk.accounts.roles import Role
from frontdesk.desk.pools import Pool
from frontdesk.desk.sources import ROW_FIELDS, DeskEntry
from frontdesk.documents.models import Document
from frontdesk.lib.urls import id_url

# Mail and faxes are filed the day they arrive: a referral or outside record left unfiled is
# invisible to the clinician who needs it.
FILING_DUE = dt.timedelta(days=1)


class UnfiledDocuments:
    kind = "document_unfiled"
    label = "Documents to file"
    roles = frozenset({Role.FRONT_DESK, Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            Document.objects.filter(clinic_id=clinic_id, patient__isnull=True)
            .annotate(
                ref=F("pk"),
                due=ExpressionWrapper(
                    F("received_at") + Value(FILING_DUE), output_field=DateTimeField()
                ),
                since=F("received_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=IntegerField()),
                pool=Value(Pool.DESK.value, output_field=CharField()),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        documents = Document.objects.filter(pk__in=refs).only("pk", "source", "title")
        return {
            d.pk: DeskEntry(
                title="File a scanned document" if d.source == "scan" else "File a document",
                url=id_url("documents:document", d.pk),
                # The name it came with may be PHI; the description was typed by staff.
                detail=d.title,
            )
            for d in documents
        }
