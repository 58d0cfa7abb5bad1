"""A request body over `REQUEST_BODY_MAX_BYTES` is answered 413 with a page in the officer's
words, before anything reads it: nothing is saved. (Over real HTTP, against waitress and its
hard stop: `test_server_entry_point.py`.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.documents.models import Document

pytestmark = pytest.mark.django_db

ONE_MB = 1024 * 1024


@override_settings(REQUEST_BODY_MAX_BYTES=ONE_MB)
def test_an_upload_over_the_limit_gets_the_413_page_in_words_and_nothing_is_saved(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    scan = SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n" + b"0" * ONE_MB, "application/pdf")
    response = client_for(personas.front_desk).post("/documents/", {"upload": [scan]})
    assert response.status_code == 413
    page = response.content.decode()
    assert "This upload is too large" in page
    assert "The most Frontdesk accepts at once is 1 MB. Nothing was saved." in page
    assert "choose a smaller file" in page
    assert not Document.objects.exists()


@override_settings(REQUEST_BODY_MAX_BYTES=ONE_MB)
def test_a_body_at_the_limit_is_read_as_usual(client: Client) -> None:
    response = client.post(
        "/accounts/login/", b"username=a&" + b"x" * (ONE_MB - 11), content_type="text/plain"
    )
    assert response.status_code != 413


def test_a_declared_length_over_the_limit_is_refused_whatever_the_page(client: Client) -> None:
    response = client.generic(
        "POST",
        "/accounts/login/",
        b"username=a",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(settings.REQUEST_BODY_MAX_BYTES + 1),
    )
    assert response.status_code == 413
    assert b"This upload is too large" in response.content
    assert b"32 MB" in response.content
