"""Saying what is wrong with a value a person typed without repeating it.

A registration file's problems are kept (on the import's page, in its job) after the file itself is
cleared, and a file with its columns out of order puts a name, an identity number or a phone in
any column: a problem therefore never quotes a cell, whatever its column. It says what the cell
holds instead — how many characters, of which kinds — which is enough to find the wrong column.
A form or an API request is refused in the same words, of its value rather than a cell.
"""

from __future__ import annotations


def value_holds(value: object, *, in_file: bool = False) -> str:
    """What a value holds, without repeating it: `the value holds 13 characters: letters and
    spaces`; a file's value is its cell's (`the cell holds …`), as a form's or a request's is not."""
    what = "the cell" if in_file else "the value"
    text = str(value).strip()
    if not text:
        return f"{what} is empty"
    kinds = [
        name
        for name, present in (
            ("letters", any(c.isalpha() for c in text)),
            ("digits", any(c.isdigit() for c in text)),
            ("spaces", any(c.isspace() for c in text)),
            # (a numeral that is no digit, ¼ or Ⅻ, is one of these: neither a letter nor a digit)
            ("other characters", any(not (c.isalpha() or c.isdigit() or c.isspace()) for c in text)),
        )
        if present
    ]
    listed = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    count = len(text)
    return f"{what} holds {count} character{'s' if count != 1 else ''}: {listed}"


def too_long(what: str, limit: int) -> str:
    """A text refused for its length, by what it is and its limit, never quoted back: `the head's
    name is at most 120 characters` (of a form, a request and a file's cell alike)."""
    return f"{what} is at most {limit} characters"


def json_kind(value: object) -> str:
    """The kind of a value a request sent, as a refusal names it (`a number`, `a list`)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "text"
