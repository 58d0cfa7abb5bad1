"""Setting the schedule up: appointment types, weekly templates, blocks and leave, holidays.

What is written here is what `availability/` reads. Every write is one transaction that records
its own audit event (no patient is involved, so none is named). Refusals are
`SetupRefusedError` with the officer-facing reason and, where it belongs to one, the form field.
One job per module:

- `rules.py`: typed recurrence rules checked, expanded with bounded work, said in words;
- `local_time.py`: wall-clock times on a day, with the clocks' changes;
- `appointment_types.py`, `templates.py`, `blocks.py`, `holidays.py`, `feed_title.py`: the
  writes, one kind of row each;
- `summary.py`: the set-up page's reads;
- `refusals.py`: `SetupRefusedError` and its shared wording.

The names below are what the set-up pages and forms use.
"""

from __future__ import annotations

from frontdesk.scheduling.setup.appointment_types import (
    appointment_type_delete,
    appointment_type_save,
)
from frontdesk.scheduling.setup.blocks import BlockInput, block_create, block_delete, leave_create
from frontdesk.scheduling.setup.feed_title import calendar_event_title_save
from frontdesk.scheduling.setup.holidays import holiday_add, holiday_delete
from frontdesk.scheduling.setup.refusals import SetupRefusedError
from frontdesk.scheduling.setup.rules import RuleTooBusyError, rule_expand, rule_in_words
from frontdesk.scheduling.setup.summary import setup_summary
from frontdesk.scheduling.setup.templates import TemplateInput, template_delete, template_save

__all__ = [
    "BlockInput",
    "RuleTooBusyError",
    "SetupRefusedError",
    "TemplateInput",
    "appointment_type_delete",
    "appointment_type_save",
    "block_create",
    "block_delete",
    "calendar_event_title_save",
    "holiday_add",
    "holiday_delete",
    "leave_create",
    "rule_expand",
    "rule_in_words",
    "setup_summary",
    "template_delete",
    "template_save",
]
