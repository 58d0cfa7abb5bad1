from django.apps import AppConfig


class FlowConfig(AppConfig):
    name = "frontdesk.flow"
    label = "flow"
