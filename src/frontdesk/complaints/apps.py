from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "frontdesk.complaints"
    label = "complaints"
    verbose_name = "Complaints and grievances"

    def ready(self) -> None:
        # The desk queue shows grievances and privacy reviews (complaints/desk.py).
        from frontdesk.complaints.desk import register

        register()
