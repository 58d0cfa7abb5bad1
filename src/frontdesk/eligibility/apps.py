from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "frontdesk.eligibility"
    label = "eligibility"
    verbose_name = "Insurance eligibility"

    def ready(self) -> None:
        from frontdesk.desk.sources import desk_source_register
        from frontdesk.eligibility.desk import VerifyLaterSource
        from frontdesk.eligibility.triggers import triggers_connect

        desk_source_register(VerifyLaterSource())
        triggers_connect()
