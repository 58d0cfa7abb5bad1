from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "frontdesk.referrals"
    label = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        # Unbooked referrals are desk work; their authorisations warn where visits are booked
        # and checked in. Scheduling and the desk import nothing of referrals: it registers.
        from frontdesk.desk.sources import desk_source_register
        from frontdesk.referrals.desk import UnscheduledReferrals
        from frontdesk.referrals.warnings import authorisation_warnings
        from frontdesk.scheduling.visit_warnings import visit_warning_register

        desk_source_register(UnscheduledReferrals())
        visit_warning_register("referrals", authorisation_warnings)
