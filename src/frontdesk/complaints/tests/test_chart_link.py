"""The patient's chart leads to the complaint form with the patient filled in."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from conftest import Personas, login_client, make_patient


def test_the_chart_has_a_log_a_complaint_link_that_opens_the_form_for_the_patient(
    client: Client, personas: Personas
) -> None:
    patient = make_patient(personas.clinic, given_name="Ines", family_name="Morales")
    login_client(client, personas.front_desk)
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    link = re.search(r'<a class="button" href="([^"]+)">Log a complaint</a>', chart)
    assert link is not None
    assert link.group(1) == f"{reverse('complaints:new')}?patient={patient.pk}"
    form = client.get(link.group(1).replace("&amp;", "&"))
    assert form.status_code == 200
    page = form.content.decode()
    assert f"Morales, Ines · MRN {patient.mrn}" in page
    assert f'name="patient" value="{patient.pk}"' in page
