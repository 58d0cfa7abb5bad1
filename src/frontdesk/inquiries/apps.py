from __future__ import annotations

from django.apps import AppConfig


class InquiriesConfig(AppConfig):
    name = "frontdesk.inquiries"
    label = "inquiries"
    verbose_name = "Calls, callbacks and medical questions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from frontdesk.desk.sources import desk_source_register
        from frontdesk.inquiries.desk import SOURCES
        from frontdesk.inquiries.messages import ANSWER_MESSAGE
        from frontdesk.messaging.outbox import outbox_kind_register

        for source in SOURCES:
            desk_source_register(source)
        # A clinician's answer sent to the patient by their agreed channel.
        outbox_kind_register(ANSWER_MESSAGE)
