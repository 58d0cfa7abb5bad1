from __future__ import annotations

import datetime as dt

from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.demo.documents_morning import demo_documents_morning
from frontdesk.desk.sources import desk_sources
from frontdesk.documents.models import Document
from frontdesk.referrals.models import Referral, ReferralStatus


def test_the_demo_morning_has_a_referral_to_book_and_two_faxes_to_file(
    personas: Personas,
) -> None:
    patient = make_patient(personas.clinic)
    now = timezone.now()
    demo_documents_morning(clinic=personas.clinic, now=now)
    assert Document.objects.filter(clinic=personas.clinic, patient=None).count() == 2
    referral = Referral.objects.get()
    assert (referral.patient_id, referral.status) == (patient.pk, ReferralStatus.ACCEPTED)
    assert referral.documents.get().kind == "referral"
    sources = desk_sources()
    clinic_id = personas.clinic.pk
    assert sources["document_unfiled"].rows(clinic_id=clinic_id, now=now).count() == 2
    (row,) = sources["referral_unscheduled"].rows(clinic_id=clinic_id, now=now)
    assert row["due"] > now - dt.timedelta(days=1)
