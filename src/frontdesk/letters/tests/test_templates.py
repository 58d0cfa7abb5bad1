"""Letter templates: fields declared per kind, an unknown field refused by name with the typed
text kept, the merge never a template engine, and only supervisors and administrators edit."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Personas, login_client
from frontdesk.audit.models import AuditEvent, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.letters import services
from frontdesk.letters.fields import DEFAULTS, FIELDS, fields_check, fields_used, merge, paragraphs
from frontdesk.letters.models import LetterKind, LetterTemplate
from frontdesk.letters.selectors import letter_template_current

KIND = LetterKind.APPOINTMENT_CONFIRMATION


def test_every_kind_has_a_default_that_uses_only_its_own_fields() -> None:
    for kind in LetterKind.values:
        subject, body = DEFAULTS[kind]
        fields_check(kind, subject)
        fields_check(kind, body)
        assert "patient_name" in FIELDS[kind]


def test_an_unknown_field_is_refused_by_name_with_the_fields_it_can_use() -> None:
    with pytest.raises(services.LetterError) as refused:
        services.letter_template_check(
            kind=KIND, subject="Your visit", body="Hello {patient_nickname},\n\nSee you."
        )
    assert refused.value.field == "body"
    assert refused.value.message.startswith(
        "{patient_nickname} is not a field this letter can use; it can use: {patient_name}, "
    )
    assert "{appointment_time}" in refused.value.message


def test_a_referral_field_is_refused_in_an_appointment_letter() -> None:
    with pytest.raises(services.LetterError, match=r"\{reason\} is not a field"):
        services.letter_template_check(kind=KIND, subject="About {reason}", body="Hello.")


def test_the_merge_replaces_declared_fields_once_and_nothing_else() -> None:
    text = "Dear {patient_name}, {{ settings.SECRET_KEY }} {% load x %} {not closed"
    merged = merge(text, {"patient_name": "Ann {reason} <b>"})
    assert merged == "Dear Ann {reason} <b>, {{ settings.SECRET_KEY }} {% load x %} {not closed"
    assert fields_used("{a} {b} {a}") == ["a", "b"]


def test_paragraphs_come_from_blank_lines_and_lines_are_kept() -> None:
    assert paragraphs("One\ntwo\n\n\n  \nThree\r\n") == [["One", "two"], ["Three"]]


def test_a_clinic_uses_the_default_until_it_saves_its_own(personas: Personas) -> None:
    assert letter_template_current(personas.clinic.pk, KIND).is_default
    services.letter_template_save(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        clinic=personas.clinic,
        kind=KIND,
        subject="See you {appointment_date}",
        body="Dear {patient_first_name},\r\n\r\nSee you at {appointment_time}.  ",
    )
    current = letter_template_current(personas.clinic.pk, KIND)
    assert not current.is_default
    assert current.body == "Dear {patient_first_name},\n\nSee you at {appointment_time}."
    assert letter_template_current(personas.other_clinic.pk, KIND).is_default
    assert AuditEvent.objects.filter(object_type=AuditObject.LETTER_TEMPLATE).count() == 1
    assert services.letter_template_reset(context=SYSTEM_CONTEXT, clinic=personas.clinic, kind=KIND)
    assert letter_template_current(personas.clinic.pk, KIND).is_default


def _edit_url(kind: str = KIND) -> str:
    return reverse("letters:template_edit", args=[kind])


def test_only_supervisors_and_administrators_edit_templates(personas: Personas) -> None:
    for user, allowed in [
        (personas.supervisor, True),
        (personas.admin, True),
        (personas.front_desk, False),
        (personas.nurse, False),
        (personas.physician, False),
        (personas.billing, False),
    ]:
        client = login_client(Client(), user)
        assert (client.get(_edit_url()).status_code == 200) is allowed, user.role
        posted = client.post(_edit_url(), {"subject": "Hello", "body": "Dear {patient_name}."})
        assert (posted.status_code == 302) is allowed, user.role
    assert LetterTemplate.objects.filter(clinic=personas.clinic, kind=KIND).count() == 1


def test_the_edit_page_refuses_an_unknown_field_and_keeps_what_was_typed(
    personas: Personas,
) -> None:
    client = login_client(Client(), personas.supervisor)
    typed = "Dear {patient_nickname},\n\nYour visit is on {appointment_date}."
    page = client.post(_edit_url(), {"subject": "Your visit", "body": typed})
    assert page.status_code == 200
    text = page.content.decode()
    assert "{patient_nickname} is not a field this letter can use; it can use:" in text
    assert "Dear {patient_nickname}," in text  # the textarea keeps it
    assert not LetterTemplate.objects.exists()


def test_the_preview_fills_sample_values_and_escapes_them_without_saving(
    personas: Personas,
) -> None:
    client = login_client(Client(), personas.admin)
    page = client.post(
        _edit_url(),
        {
            "subject": "For {patient_name}",
            "body": "<script>x</script> {provider_name}",
            "preview": "1",
        },
    )
    text = page.content.decode()
    assert "For Maria Lopez" in text
    assert "&lt;script&gt;x&lt;/script&gt; Dr. Ana Shah" in text
    assert "<script>x</script>" not in text
    assert not LetterTemplate.objects.exists()


def test_an_unknown_kind_of_letter_is_not_found(personas: Personas) -> None:
    client = login_client(Client(), personas.supervisor)
    assert client.get(_edit_url("love_letter")).status_code == 404
