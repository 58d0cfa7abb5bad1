from django.apps import AppConfig


class SuppliesConfig(AppConfig):
    name = "frontdesk.supplies"
    label = "supplies"
    verbose_name = "Office supplies"

    def ready(self) -> None:
        # Items below par are on the desk queue (supplies/desk.py).
        from frontdesk.supplies.desk import register

        register()
