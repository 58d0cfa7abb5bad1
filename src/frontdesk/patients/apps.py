from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "frontdesk.patients"
    label = "patients"
