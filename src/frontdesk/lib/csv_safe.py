"""CSV files that a spreadsheet opens as text, never as formulas (CSV injection).

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` as a
formula (`=HYPERLINK(...)` sends data away, `=cmd|...` once ran programs), and a leading tab or
carriage return can hide such a start. Every CSV Frontdesk writes goes through `csv_writer`,
which follows OWASP's advice: such a text cell gets a single quote in front, which spreadsheets
show as text and do not count as part of the value. We also look past leading spaces and line
breaks, which some spreadsheets skip before reading a formula, and at the full-width forms of
the four signs.

Text is neutralised whatever it holds, so a text cell "-5.00" is written as "'-5.00" (OWASP:
neutralise anyway; a person reads it the same). Numbers written as numbers (int, float,
Decimal) are left alone: Frontdesk made them, and their text is only a sign, digits and a
point, which no spreadsheet reads as a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

# OWASP's list, plus a line feed, and the full-width = + - @ that some spreadsheets fold.
_FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_SKIPPED_BEFORE_A_FORMULA = " \t\r\n\u00a0\u3000"


def csv_cell(value: object) -> object:
    """The value to write in a cell: text that could start a formula gets a quote in front."""
    if value is None or isinstance(value, (int, float, Decimal)):  # bool is an int
        return value
    text = str(value)
    if text and (
        text[0] in _FORMULA_STARTS or text.lstrip(_SKIPPED_BEFORE_A_FORMULA)[:1] in _FORMULA_STARTS
    ):
        return "'" + text
    return text


class SafeCsvWriter:
    """csv.writer's writerow and writerows, with every cell through `csv_cell`."""

    def __init__(self, handle: SupportsWrite[str], **fmtparams: Any) -> None:
        self._writer = csv.writer(handle, **fmtparams)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: SupportsWrite[str], **fmtparams: Any) -> SafeCsvWriter:
    """A CSV writer whose cells never start a formula (see the module's notes)."""
    return SafeCsvWriter(handle, **fmtparams)
