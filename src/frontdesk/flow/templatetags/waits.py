"""`{{ minutes|wait_words }}`: a wait said as the desk says it (`forecast.wait_words`), so no
screen shows "about 0 min" or a figure more exact than a forecast can be."""

from __future__ import annotations

from django import template

from frontdesk.flow import forecast

register = template.Library()


@register.filter
def wait_words(minutes: int | None) -> str:
    return forecast.wait_words(minutes)
