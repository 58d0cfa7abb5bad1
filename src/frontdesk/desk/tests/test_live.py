import pytest
from django.db import transaction

from conftest import Personas
from frontdesk.desk.live import desk_changed, desk_version

pytestmark = pytest.mark.django_db


def test_each_change_raises_the_clinics_desk_version_and_no_other(personas: Personas) -> None:
    clinic, other_clinic = personas.clinic, personas.other_clinic
    assert desk_version(clinic.pk) == 0
    with transaction.atomic():
        assert desk_changed(clinic.pk) == 1
    with transaction.atomic():
        assert desk_changed(clinic.pk) == 2
    assert desk_version(clinic.pk) == 2
    assert desk_version(other_clinic.pk) == 0
