"""Phone numbers as the desk dials them: the home numbering plan in its national form, others
in international form; stored numbers are E.164."""

from __future__ import annotations

import pytest

from frontdesk.patients.templatetags.masking import phone_display


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+12025550143", "(202) 555-0143"),
        # An area code not yet assigned has no region, and is still a home number.
        ("+17537998011", "(753) 799-8011"),
        ("+442071838750", "+44 20 7183 8750"),
        ("", "—"),
        ("not a number", "not a number"),
    ],
)
def test_a_stored_number_is_shown_as_the_desk_dials_it(stored: str, shown: str) -> None:
    assert phone_display(stored) == shown
