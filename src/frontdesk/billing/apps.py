from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "frontdesk.billing"
    label = "billing"
    verbose_name = "Patient accounts"

    def ready(self) -> None:
        # Drawer variances beyond tolerance go to the supervisors' desk queue.
        from frontdesk.billing.desk import DrawerVarianceSource
        from frontdesk.desk.sources import desk_source_register

        desk_source_register(DrawerVarianceSource())
