"""The referring provider's National Provider Identifier, checked before it is kept."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from stdnum import luhn

# python-stdnum has no `us.npi` module. The NPI's check digit is the Luhn digit of the 9-digit
# identifier prefixed with 80840 (the card issuer prefix for US health applications, CMS's
# "NPI check digit" note); stdnum's Luhn does the arithmetic.
NPI_PREFIX = "80840"


def npi_is_valid(npi: str) -> bool:
    return len(npi) == 10 and npi.isascii() and npi.isdigit() and luhn.is_valid(NPI_PREFIX + npi)


def clean_npi(value: str) -> str:
    """The NPI as 10 digits (spaces and dashes dropped), or a refusal in words; blank stays
    blank."""
    digits = "".join(c for c in value if c not in " -")
    if not digits:
        return ""
    if not (digits.isascii() and digits.isdigit()) or len(digits) != 10:
        raise ValidationError("An NPI is 10 digits. Check it on the referral letter.")
    if not npi_is_valid(digits):
        raise ValidationError(
            "That NPI's check digit is wrong, so a digit is mistyped. Check it on the referral "
            "letter (or look the provider up in the NPI registry)."
        )
    return digits
