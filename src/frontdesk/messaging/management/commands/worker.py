"""`frontdesk worker`: the background worker. Runs huey's own consumer (threads, the
every-minute scheduler for due reminders and the outbox) on the queue configured in
settings.HUEY: Redis when REDIS_URL is set, otherwise var/queue.sqlite3. Stop it with Ctrl-C
or SIGTERM; huey finishes the tasks in hand on SIGINT."""

from __future__ import annotations

from huey.contrib.djhuey.management.commands.run_huey import (  # type: ignore[import-untyped]
    Command as RunHueyCommand,
)


class Command(RunHueyCommand):  # type: ignore[misc]
    help = (
        "Run the background worker: queues appointment reminders as they fall due (checked "
        "every minute) and sends every patient message from the outbox, retrying failures. "
        "Options are huey's consumer options."
    )
