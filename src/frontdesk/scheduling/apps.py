from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "frontdesk.scheduling"
    label = "scheduling"
