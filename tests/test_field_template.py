"""The shared field template ties each input to its error and help text for screen readers."""

from __future__ import annotations

import re

from django import forms
from django.template.loader import render_to_string


class _Form(forms.Form):
    name = forms.CharField(help_text="As on the patient's ID.")


def _described_by_ids_missing(html: str) -> set[str]:
    described = re.search(r'aria-describedby="([^"]+)"', html)
    assert described is not None, html
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    return {ref for ref in described.group(1).split() if ref not in ids}


def test_an_invalid_field_points_at_its_error_and_help_text() -> None:
    form = _Form(data={})
    assert not form.is_valid()
    html = render_to_string("_field.html", {"field": form["name"]})
    assert "This field is required." in html
    assert _described_by_ids_missing(html) == set()


def test_a_valid_field_points_at_its_help_text() -> None:
    html = render_to_string("_field.html", {"field": _Form()["name"]})
    assert _described_by_ids_missing(html) == set()
