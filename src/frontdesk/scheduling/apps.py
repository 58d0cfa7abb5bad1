from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "frontdesk.scheduling"
    label = "scheduling"

    def ready(self) -> None:
        # The waitlist's messages go through the outbox, which must know how to render them.
        from frontdesk.messaging.outbox import outbox_kind_register
        from frontdesk.scheduling.waitlist import WAITLIST_GONE, WAITLIST_OFFER

        outbox_kind_register(WAITLIST_OFFER)
        outbox_kind_register(WAITLIST_GONE)
