"""The flow board's colours: minutes in a status after which a card turns amber, then red.

Read from FLOW_THRESHOLDS, e.g. "waiting=15/30,called=5/10,in_room=10/20,with_provider=30/60".
Pure (no models): settings.py parses the value at start-up and stops on a bad one.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

DEFAULT = "waiting=15/30,called=5/10,in_room=10/20,with_provider=30/60"
STATUSES = ("waiting", "called", "in_room", "with_provider")


def parse_thresholds(text: str) -> dict[str, tuple[int, int]]:
    result: dict[str, tuple[int, int]] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        status, _, limits = part.partition("=")
        amber_text, _, red_text = limits.partition("/")
        if (
            status.strip() not in STATUSES
            or not amber_text.strip().isdigit()
            or not red_text.strip().isdigit()
        ):
            raise ImproperlyConfigured(
                f"FLOW_THRESHOLDS: {part!r} should look like waiting=15/30 (status=amber/red "
                f"minutes; statuses: {', '.join(STATUSES)})."
            )
        amber, red = int(amber_text), int(red_text)
        if not 0 < amber < red <= 24 * 60:
            raise ImproperlyConfigured(
                f"FLOW_THRESHOLDS: in {part!r} amber must be above 0 and below red."
            )
        result[status.strip()] = (amber, red)
    return result
