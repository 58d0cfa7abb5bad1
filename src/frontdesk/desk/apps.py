from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "frontdesk.desk"
    label = "desk"
    verbose_name = "Desk queue"
