"""Medical record numbers: a serial number plus a Luhn check digit (python-stdnum)."""

from __future__ import annotations

from stdnum import luhn
from stdnum.exceptions import ValidationError

from frontdesk.patients.models import MrnCounter


def mrn_format(serial: int) -> str:
    body = str(serial)
    return body + luhn.calc_check_digit(body)


def mrn_is_valid(value: str) -> bool:
    try:
        luhn.validate(value)
    except ValidationError:
        return False
    return True


def mrn_reserve(count: int = 1) -> list[str]:
    """Take `count` fresh MRNs. Call inside a transaction; the counter row is locked."""
    counter, _ = MrnCounter.objects.select_for_update().get_or_create(id=1)
    first = counter.next_serial
    counter.next_serial = first + count
    counter.save(update_fields=["next_serial"])
    return [mrn_format(serial) for serial in range(first, first + count)]
