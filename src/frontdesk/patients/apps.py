from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class PatientsConfig(AppConfig):
    name = "frontdesk.patients"
    label = "patients"

    def ready(self) -> None:
        # The apps above patients add their parts to the chart from their `chart` modules.
        autodiscover_modules("chart")
