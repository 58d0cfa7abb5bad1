from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "frontdesk.playbooks"
    label = "playbooks"
    verbose_name = "Playbooks"
