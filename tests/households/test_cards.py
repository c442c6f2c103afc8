"""What a typed or scanned value that is no card token is told: what is wrong with it, never the
value itself."""

from __future__ import annotations

import pytest

from reliefops.households.cards import check_character, normalise_token, printed, token_problem

BODY = "K7M29QXDA"
TOKEN = BODY + check_character(BODY)
MISTYPED = BODY + next(c for c in "0123456789" if c != check_character(BODY))


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        (TOKEN[:-1], "it has 9 characters, not the 10 of a card (dashes and spaces aside)"),
        (TOKEN + "7", "it has 11 characters, not the 10 of a card"),
        (
            TOKEN[:-1] + "#",
            "one of its characters is never on a card (a card has only the letters A to Z and digits)",
        ),
        (
            "https://example.org/p?cnic=3520212345671",
            "it has 40 characters, not the 10 of a card (dashes and spaces aside); 7 of its characters "
            "are never on a card",
        ),
        (printed(MISTYPED), "its last character (the check) does not match the others"),
    ],
    ids=["too-short", "too-long", "a-strange-character", "a-scanned-web-address", "check-fails"],
)
def test_a_value_that_is_no_token_is_told_what_is_wrong_without_being_quoted(typed, says):
    # when a value that cannot be a card token is checked
    problem = token_problem(typed)
    # then it says what is wrong, and the value is not in what it says, nor any long part of it
    assert problem is not None
    assert says in problem
    cleaned = typed.replace("-", "").upper()
    assert not any(cleaned[i : i + 5] in problem.upper() for i in range(len(cleaned) - 4))
    assert normalise_token(typed) is None


@pytest.mark.parametrize("typed", [TOKEN, printed(TOKEN), printed(TOKEN).lower(), f" {printed(TOKEN)} "])
def test_a_well_formed_token_as_printed_or_typed_has_no_problem(typed):
    assert token_problem(typed) is None
    assert normalise_token(typed) == TOKEN


def test_a_value_of_one_character_is_told_so_in_the_singular():
    problem = token_problem("7")
    assert problem is not None
    assert "it has 1 character, not the 10 of a card" in problem
