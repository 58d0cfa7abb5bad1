"""The one shape of a page's form post: when the form is valid, run the write; a refusal in
words goes onto the form (on its field when the refusal names one the form has), success is
said in words. The view then redirects, or shows the page again with the form as typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest


def form_post_run(
    request: HttpRequest,
    form: forms.Form,
    write: Callable[[dict[str, Any]], object],
    *,
    refused: type[Exception],
    done: str | Callable[[dict[str, Any]], str],
) -> bool:
    """True when `write(cleaned_data)` ran and `done` was said (worded from the cleaned data
    when it is a function); False when the form is invalid or `write` raised `refused` (its
    words are then on the form)."""
    if not form.is_valid():
        return False
    try:
        write(form.cleaned_data)
    except refused as exc:
        field = getattr(exc, "field", None)
        words = getattr(exc, "message", None) or str(exc)
        form.add_error(field if field in form.fields else None, words)
        return False
    messages.success(request, done(form.cleaned_data) if callable(done) else done)
    return True
