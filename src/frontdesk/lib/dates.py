"""Dates as people type them at the desk: the one parser behind every date field and the
search box, so a birth date registration accepts is also one search finds."""

from __future__ import annotations

import datetime as dt

# Month names (English, as strptime reads them in the C locale), in either order, with or
# without the comma: "May 5 1986", "May 5, 1986", "5 May 1986", "5 May, 1986".
_WORDS = ("%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%d %b, %Y")


def date_input_formats(order: str) -> list[str]:
    """The strptime formats of a date typed in the clinic's order ("MDY" or "DMY"): ISO, then
    digits with slashes, hyphens or dots, then month names. strptime also reads one-digit days
    and months ("5/5/1986")."""
    numeric = (
        ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")
        if order == "DMY"
        else ("%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y")
    )
    return ["%Y-%m-%d", *numeric, *_WORDS]


def date_parse(text: str, *, order: str) -> dt.date | None:
    """The date in `text` typed in one of `date_input_formats(order)`, or None."""
    value = text.strip()
    for form in date_input_formats(order):
        try:
            return dt.datetime.strptime(value, form).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    return None
