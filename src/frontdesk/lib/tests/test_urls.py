from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from frontdesk.lib.urls import id_url


@pytest.mark.parametrize(
    "name",
    ["inquiries:callback", "scheduling:appointment", "patients:chart", "complaints:detail"],
)
@pytest.mark.parametrize("pk", [1, 7, 42, 918273645, 10**17])
def test_an_id_url_is_the_address_reverse_gives(name: str, pk: int) -> None:
    assert id_url(name, pk) == reverse(name, args=[pk])


def test_an_id_url_follows_the_script_prefix() -> None:
    try:
        set_script_prefix("/clinic/")
        assert id_url("inquiries:callback", 5) == "/clinic/inquiries/callbacks/5/"
    finally:
        set_script_prefix("/")
    assert id_url("inquiries:callback", 5) == "/inquiries/callbacks/5/"


def test_a_name_that_takes_no_id_is_refused() -> None:
    with pytest.raises(NoReverseMatch):
        id_url("flow:board", 1)
