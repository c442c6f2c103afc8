"""households.identity: CNICs, old NICs, other documents and phone numbers, normalised or refused."""

from __future__ import annotations

import pytest

from reliefops.households.identity import (
    DocumentRefused,
    format_document,
    normalise_cnic,
    normalise_document,
    normalise_phone,
)
from tests.households.conftest import arabic, urdu


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("13503-1234567-1", "1350312345671"),
        ("1350312345671", "1350312345671"),
        ("  13503-1234567-2 ", "1350312345672"),
        (arabic("1350312345671"), "1350312345671"),
        (urdu("13503-1234567-1"), "1350312345671"),
    ],
    ids=["as-on-the-card", "13-digits", "spaces-around", "arabic-indic-digits", "urdu-digits-as-on-the-card"],
)
def test_cnic_is_accepted_as_written_or_as_13_digits(written, stored):
    assert normalise_cnic(written) == stored


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("13503-123456-1", "13 digits"),
        ("135031234567", "has 12 digits"),
        ("13503-1234567-1-", "has 13 digits"),
        ("13503 1234567 1", "13 digits"),
        ("1350-31234567-1", "13 digits"),
        ("13503-1234567-X", "other characters"),
        ("0000000000000", "placeholder"),
        ("", "has 0 digits"),
        (urdu("13503-123456-1"), "has 12 digits"),
        ("13503-1234567-1²", "other characters"),
    ],
    ids=[
        "short-serial",
        "12-digits",
        "trailing-dash",
        "spaces-inside",
        "dash-misplaced",
        "letter",
        "placeholder",
        "empty",
        "urdu-digits-short",
        "superscript",
    ],
)
def test_anything_else_is_refused_with_a_clear_message(written, says):
    with pytest.raises(DocumentRefused, match=says):
        normalise_cnic(written)


def test_document_types_normalise_their_own_numbers():
    assert normalise_document("cnic", "13503-1234567-1") == "1350312345671"
    assert normalise_document("old_nic", "123-45-678901") == "12345678901"
    assert normalise_document("other", " ab 12345 ") == "AB12345"
    assert normalise_document("none", "") == ""
    assert normalise_document("old_nic", urdu("123-45-678901")) == "12345678901"


@pytest.mark.parametrize(
    ("kind", "number", "says"),
    [
        ("none", "13503-1234567-1", "choose the document type"),
        ("cnic", "", "give the CNIC number"),
        ("old_nic", "12345-678901", "11 digits"),
        ("passport", "X1", "unknown document type"),
        ("other", "a", "3 to 40"),
    ],
)
def test_document_refusals_say_what_is_wrong(kind, number, says):
    with pytest.raises(DocumentRefused, match=says):
        normalise_document(kind, number)


def test_numbers_are_shown_as_written_on_the_card():
    assert format_document("cnic", "1350312345671") == "13503-1234567-1"
    assert format_document("old_nic", "12345678901") == "123-45-678901"


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("0300-1234567", "+923001234567"),
        ("+92 300 1234567", "+923001234567"),
        ("923001234567", "+923001234567"),
        ("0092 300 1234567", "+923001234567"),
        ("(0992) 123456", "+92992123456"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
        (arabic("+923001234567"), "+923001234567"),
        (urdu("0345-7654321"), "+923457654321"),
    ],
    ids=["trunk-0", "plus-92", "92", "0092", "landline", "abroad", "empty", "arabic-indic", "urdu"],
)
def test_phones_are_stored_in_international_form(written, stored):
    assert normalise_phone(written) == stored


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("3001234567", "trunk 0"),
        ("0300-12", "not a Pakistani number"),
        ("call me", "digits"),
        ("+12", "8 to 15"),
        (urdu("0345-76"), "not a Pakistani number"),
        ("0300-123456²", "digits, spaces"),
    ],
    ids=["no-trunk-0", "too-short", "words", "abroad-too-short", "urdu-too-short", "superscript"],
)
def test_bad_phones_are_refused(written, says):
    with pytest.raises(DocumentRefused, match=says):
        normalise_phone(written)
