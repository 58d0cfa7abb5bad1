from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "frontdesk.clinic"
    label = "clinic"
    verbose_name = "Clinic set-up"
