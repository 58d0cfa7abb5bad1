from django.apps import AppConfig


class FlowConfig(AppConfig):
    name = "frontdesk.flow"
    label = "flow"

    def ready(self) -> None:
        # The desk queue's derived work from the flow (flow/desk.py).
        from frontdesk.desk.sources import desk_source_register
        from frontdesk.flow.desk import WaitingRedSource, WalkInIncompleteSource

        desk_source_register(WalkInIncompleteSource())
        desk_source_register(WaitingRedSource())
