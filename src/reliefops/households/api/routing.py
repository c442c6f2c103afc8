"""The households API's router, and what its operations share: the errors a write may answer,
the help of an `Idempotency-Key`, and a point named by its code or its id."""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
from typing import Any

from reliefops.core.api import DETAIL_ERRORS, ApiRouter, ErrorOut
from reliefops.core.security import whole_id

router = ApiRouter(tags=["households"])

WRITE_ERRORS: dict[int, Any] = {**DETAIL_ERRORS, 400: ErrorOut, 409: ErrorOut}
KEY_HELP = (
    "Any text of up to 80 characters, new for each submission (a UUID will do). Sending the same key "
    "again returns the first result with `replayed: true` and changes nothing."
)


def code_or_id(text: str) -> int | str:
    """A site named in a request by its code, or by its id (a whole number)."""
    number = whole_id(text)
    return number if number is not None else text.strip()
