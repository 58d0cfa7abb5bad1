"""`{{ patient|postal_address }}`: an address in its country's order (lib/addresses.py)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from frontdesk.lib.addresses import PostalAddress, address_lines

register = template.Library()


@register.filter
def postal_address(address: PostalAddress) -> SafeString:
    """The address's lines, escaped, one under the other; empty when no street is on file."""
    # The separator is markup: format_html_join escapes one given as plain text.
    return format_html_join(
        mark_safe("<br>"),
        "{}",
        ((line,) for line in address_lines(address)),
    )
