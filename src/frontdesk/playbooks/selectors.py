"""Reading playbooks: the clinic's text, or the default for a scenario it has not stored yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import HttpRequest

from frontdesk.playbooks.defaults import DEFAULT_PLAYBOOKS
from frontdesk.playbooks.models import Playbook, PlaybookKey
from frontdesk.playbooks.text import Block, steps_parse


@dataclass(frozen=True)
class ShownPlaybook:
    key: str
    scenario: str
    title: str
    steps: str
    blocks: list[Block]
    version: int  # 0: not stored yet, the default text is shown
    is_default: bool
    updated_at: dt.datetime | None
    updated_by: str


def _shown(key: str, row: Playbook | None) -> ShownPlaybook:
    default_title, default_steps = DEFAULT_PLAYBOOKS[key]
    title = row.title if row else default_title
    steps = row.steps if row else default_steps
    editor = row.updated_by if row else None
    return ShownPlaybook(
        key=key,
        scenario=PlaybookKey(key).label,
        title=title,
        steps=steps,
        blocks=steps_parse(steps),
        # A default not yet stored is version 1, the version storing it gives it.
        version=row.version if row else 1,
        is_default=(title, steps.strip()) == (default_title, default_steps.strip()),
        updated_at=row.updated_at if row and row.updated_by_id else None,
        updated_by=(editor.get_full_name() or editor.get_username()) if editor else "",
    )


def _stored(clinic_id: int) -> dict[str, Playbook]:
    return {
        row.key: row
        for row in Playbook.objects.filter(clinic_id=clinic_id).select_related("updated_by")
    }


def playbooks_of_clinic(clinic_id: int) -> dict[str, ShownPlaybook]:
    """Every scenario's playbook for one clinic, in the scenarios' order; one query."""
    rows = _stored(clinic_id)
    return {key: _shown(key, rows.get(key)) for key in PlaybookKey.values}


_REQUEST_CACHE = "_frontdesk_playbooks"


def playbook_for_request(request: HttpRequest, clinic_id: int, key: str) -> ShownPlaybook:
    """One scenario's playbook for a page; a page showing several still costs one query, and
    only the scenarios it shows are parsed."""
    rows: dict[str, Playbook] | None = getattr(request, _REQUEST_CACHE, None)
    if rows is None:
        rows = _stored(clinic_id)
        setattr(request, _REQUEST_CACHE, rows)
    return _shown(key, rows.get(key))
