"""Identity documents and phone numbers as people write them, normalised or refused with a reason.

- A CNIC (computerised national identity card) is 13 digits, written `12345-1234567-1`: five
  digits of the issuing locality, seven of the serial, one check digit (odd for men, even for
  women). It is accepted as written on the card or as the 13 digits alone, and stored as 13 digits.
- An old NIC (the manual card many people still held in 2005) is 11 digits, written
  `123-45-678901`; it is accepted either way and stored as 11 digits.
- Another document (a passport, a refugee card) is stored as written, upper case, without spaces.
- A phone number is stored in international form: `0300-1234567` becomes `+923001234567`.
- Digits may be written in any script: Urdu (Extended Arabic-Indic `۰۳۰۰`) and Arabic-Indic
  (`٠٣٠٠`) digits, as field teams type them, are read as 0-9 before the number is checked.

Each function returns the normalised value, or raises `DocumentRefused` with a sentence that says
what is wrong and what is accepted; the caller turns it into a Problem on the right field. The
sentence never quotes the number: a refused file's problems are kept (and shown in its job), and
must not hold a family's identity number or phone.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import models

from reliefops.core.text import counted
from reliefops.households.cells import value_holds


class DocumentType(models.TextChoices):
    CNIC = "cnic", "CNIC"
    OLD_NIC = "old_nic", "Old NIC"
    OTHER = "other", "Other document"
    NONE = "none", "No document"


# Documents that identify one person across the registry: one active household per number.
NUMBERED_ONCE = frozenset({DocumentType.CNIC, DocumentType.OLD_NIC})

_CNIC_WRITTEN = re.compile(r"^[0-9]{5}-[0-9]{7}-[0-9]$")
_OLD_NIC_WRITTEN = re.compile(r"^[0-9]{3}-[0-9]{2}-[0-9]{6}$")
_OTHER = re.compile(r"^[A-Z0-9][A-Z0-9/-]{2,39}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9\s().-]+$")


def ascii_digits(text: str) -> str:
    """Every decimal digit of any script (Urdu ۳, Arabic-Indic ٣, Devanagari ३ ...) as its 0-9;
    every other character as it is."""
    return "".join(str(d) if (d := unicodedata.decimal(c, None)) is not None else c for c in text)


class DocumentRefused(ValueError):
    """A document number or phone number that cannot be accepted; the message says why."""


def normalise_cnic(text: str) -> str:
    """`12345-1234567-1` or `1234512345671` -> `1234512345671`; anything else is refused."""
    value = ascii_digits(text.strip())
    if _CNIC_WRITTEN.match(value):
        digits = value.replace("-", "")
    elif value.isdigit() and value.isascii() and len(value) == 13:
        digits = value
    else:
        raise DocumentRefused(
            "a CNIC is 13 digits, written 12345-1234567-1 or as 13 digits alone; " + _what_it_has(value)
        )
    if len(set(digits)) == 1:
        raise DocumentRefused(
            "the number is a placeholder (one digit throughout), not a CNIC: leave the number empty instead"
        )
    return digits


def _what_it_has(value: str) -> str:
    """What a refused number holds, without quoting it: `the number has 12 digits (0-9)`."""
    found = sum(c in "0123456789" for c in value)
    other = any(c not in "0123456789-" for c in value)
    return f"the number has {found} digit{'s' if found != 1 else ''} (0-9)" + (
        " and other characters" if other else ""
    )


def normalise_old_nic(text: str) -> str:
    """`123-45-678901` or 11 digits -> 11 digits; anything else is refused."""
    value = ascii_digits(text.strip())
    if _OLD_NIC_WRITTEN.match(value):
        digits = value.replace("-", "")
    elif value.isdigit() and value.isascii() and len(value) == 11:
        digits = value
    else:
        raise DocumentRefused(
            "an old NIC is 11 digits, written 123-45-678901 or as 11 digits alone; " + _what_it_has(value)
        )
    if len(set(digits)) == 1:
        raise DocumentRefused(
            "the number is a placeholder (one digit throughout), not an NIC: leave the number empty instead"
        )
    return digits


def normalise_document(document_type: str, number: str, *, in_file: bool = False) -> str:
    """The stored form of a document number of the given type ('' for no document); `in_file`: the
    type is a file's cell, and its refusal calls it so."""
    try:
        kind = DocumentType(document_type)
    except ValueError as exc:
        choices = ", ".join(DocumentType.values)
        raise DocumentRefused(
            f"unknown document type: use one of {choices} ({value_holds(document_type, in_file=in_file)})"
        ) from exc
    number = ascii_digits(number.strip())
    if kind == DocumentType.NONE:
        if number:
            raise DocumentRefused(
                "the document type is 'none' but a number is given: choose the document type"
            )
        return ""
    if not number:
        raise DocumentRefused(f"give the {kind.label} number, or choose 'none' as the document type")
    if kind == DocumentType.CNIC:
        return normalise_cnic(number)
    if kind == DocumentType.OLD_NIC:
        return normalise_old_nic(number)
    other = re.sub(r"\s+", "", number).upper()
    if not _OTHER.match(other):
        raise DocumentRefused(
            "another document's number is 3 to 40 letters, digits, '/' or '-' (spaces are dropped); "
            + (
                f"this one has {counted(len(other), 'character')}"
                if not 3 <= len(other) <= 40
                else "this one has other characters, or does not start with a letter or a digit"
            )
        )
    return other


def format_document(document_type: str, number: str) -> str:
    """The number as it is written on the card: `12345-1234567-1`, `123-45-678901`."""
    if document_type == DocumentType.CNIC and len(number) == 13:
        return f"{number[:5]}-{number[5:12]}-{number[12]}"
    if document_type == DocumentType.OLD_NIC and len(number) == 11:
        return f"{number[:3]}-{number[3:5]}-{number[5:]}"
    return number


def normalise_phone(text: str) -> str:
    """A phone number in international form (`+923001234567`); '' stays ''.

    Pakistani numbers may be written with the trunk 0 (`0300-1234567`), with 92 or +92, or with
    00 92; numbers of other countries need their + or 00 prefix.
    """
    value = ascii_digits(text.strip())
    if not value:
        return ""
    if not _PHONE_CHARS.match(value):
        raise DocumentRefused("a phone number has digits, spaces, '-', '(' ')' and a leading '+' only")
    digits = re.sub(r"[^0-9]", "", value)
    if value.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0"):
        international = "92" + digits[1:]
    elif digits.startswith("92") and len(digits) >= 11:
        international = digits
    else:
        raise DocumentRefused(
            "write the number with its trunk 0 (0300-1234567) or its country code (+92 300 1234567)"
        )
    if international.startswith("92"):
        national = international[2:]
        if not 9 <= len(national) <= 10 or national.startswith("0"):
            raise DocumentRefused("not a Pakistani number: it needs 10 or 11 digits with the trunk 0")
    elif not 8 <= len(international) <= 15:
        raise DocumentRefused(
            "not a phone number: an international number has 8 to 15 digits; "
            f"this one has {len(international)}"
        )
    return "+" + international
