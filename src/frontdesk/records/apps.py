from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "frontdesk.records"
    label = "records"
    verbose_name = "Requests for records"

    def ready(self) -> None:
        # Requests near or past their legal deadline are desk work; the desk imports nothing
        # of records: it registers.
        from frontdesk.desk.sources import desk_source_register
        from frontdesk.records.desk import RecordsRequestsDue

        desk_source_register(RecordsRequestsDue())
