from __future__ import annotations

from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "frontdesk.letters"
    label = "letters"
    verbose_name = "Letters and correspondence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from frontdesk.letters.messages import LETTER_MESSAGE
        from frontdesk.messaging.outbox import outbox_kind_register

        # A letter sent to the patient by their agreed channel.
        outbox_kind_register(LETTER_MESSAGE)
