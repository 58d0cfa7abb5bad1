"""The empty first choice of a list that states a fact about a patient.

A list that opens on its first real value ("Female", "Mobile", "Patient") lets a form be saved
with a fact nobody chose; such a list opens on "— choose —" and its field is required, so the
officer must pick. Defaults that describe the clinic (its country, "normal" confidentiality)
are kept; `tests/test_form_choices.py` walks every form for this.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CHOOSE_LABEL = "— choose —"
CHOOSE = ("", CHOOSE_LABEL)


def choose_first(choices: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """`choices` after an empty "— choose —" entry."""
    return [CHOOSE, *choices]
