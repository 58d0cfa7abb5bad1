"""Record ids typed into URLs, query strings and forms: one parser, one bound.

A database id is a positive 64-bit integer. `int()` accepts far more than that: signs,
spaces, underscores, non-ASCII digits (`²`, `٣`) and 5,000-digit numbers that PostgreSQL
refuses as out of range for bigint, which used to surface as server errors.
"""

from __future__ import annotations

from typing import Any, Final

from django import forms

from frontdesk.lib.choices import CHOOSE_LABEL

# The largest value of a bigint primary key (PostgreSQL and SQLite alike).
ID_MAX: Final = 2**63 - 1
# 19 digits can exceed ID_MAX; 18 never can, and no clinic will see 10**18 rows.
ID_DIGITS_MAX: Final = 18
ID_PATTERN: Final = r"[0-9]{1,18}"


def parse_id(value: object) -> int | None:
    """The id `value` names, or None unless it is 1 to 18 plain ASCII digits naming 1 or more."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= ID_MAX else None
    if not isinstance(value, str):
        return None
    if not (0 < len(value) <= ID_DIGITS_MAX and value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number >= 1 else None


class IdConverter:
    """The `<id:...>` URL converter: plain ASCII digits, bounded; anything else is a 404."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)  # Django answers 404
        return number

    def to_url(self, value: object) -> str:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)
        return str(number)


def _is_record(field: forms.ModelChoiceField, value: object) -> bool:  # type: ignore[type-arg]
    return field.queryset is not None and isinstance(value, field.queryset.model)


class IdChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A choice of one record: a value that is no id is "not in the list" before any query.
    An empty list opens on "— choose —" unless the field says otherwise ("Any"), never on
    Django's "---------". `what` ("the provider") words both messages: "Choose the provider."
    and "Choose the provider from the list."."""

    def __init__(self, *args: Any, what: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("empty_label", CHOOSE_LABEL)
        if what:
            kwargs["error_messages"] = {
                "required": f"Choose {what}.",
                "invalid_choice": f"Choose {what} from the list.",
                **kwargs.get("error_messages", {}),
            }
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not _is_record(self, value) and not parse_id(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """A choice of records (ticked boxes): any value that is no id is "not in the list", said
    without echoing it (it may be 5,000 digits long)."""

    def clean(self, value: Any) -> Any:
        if isinstance(value, list | tuple) and any(
            not _is_record(self, pk) and parse_id(pk) is None for pk in value
        ):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": "That"},
            )
        return super().clean(value)
