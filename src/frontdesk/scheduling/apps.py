from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "frontdesk.scheduling"
    label = "scheduling"

    def ready(self) -> None:
        # Freed time goes to the waitlist through a signal sent on commit: `services` books for
        # the waitlist, so the waitlist may import it but not the other way round.
        from frontdesk.desk.sources import desk_source_register
        from frontdesk.scheduling.desk import OfferExpiringSource, UnconfirmedSource
        from frontdesk.scheduling.signals import appointment_time_freed
        from frontdesk.scheduling.waitlist.offers import appointment_time_freed_receive

        appointment_time_freed.connect(
            appointment_time_freed_receive, dispatch_uid="waitlist_time_freed"
        )
        # The desk queue's derived work from appointments and offers (scheduling/desk.py).
        desk_source_register(UnconfirmedSource())
        desk_source_register(OfferExpiringSource())
