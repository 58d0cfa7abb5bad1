from __future__ import annotations

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "frontdesk.messaging"
    label = "messaging"
    verbose_name = "Patient messages and reminders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from frontdesk.messaging.outbox import outbox_kind_register
        from frontdesk.messaging.reminders import REMINDER
        from frontdesk.messaging.waitlist_messages import (
            WAITLIST_GONE,
            WAITLIST_OFFER,
            WAITLIST_POST,
        )
        from frontdesk.scheduling.waitlist.notices import waitlist_post_register

        outbox_kind_register(REMINDER)
        # The waitlist queues its offers and "gone" notes; their words are written here.
        outbox_kind_register(WAITLIST_OFFER)
        outbox_kind_register(WAITLIST_GONE)
        waitlist_post_register(WAITLIST_POST)
