from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "frontdesk.demo"
    label = "demo"

    def ready(self) -> None:
        # In demo mode, messaging hands patients' messages to the demo outbox, not the network.
        from frontdesk.demo.outbox import demo_message_keep
        from frontdesk.messaging.channels import demo_keeper_register

        demo_keeper_register(demo_message_keep)
