"""Errors that services raise and entry points render (API: 4xx JSON; web: a message; CLI: stderr)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from reliefops.core.text import counted


class ServiceError(Exception):
    """A request that breaks a rule. Nothing was written."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    status = 404


class AccessDenied(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


@dataclass(frozen=True)
class Problem:
    """One bad value in an input file or form: where it is and why it was refused."""

    row: int | None
    field: str
    reason: str

    where_word: ClassVar[str] = "line"  # what a numbered place in this input is called

    def __str__(self) -> str:
        # "line 4, quantity: …"; "grant: unknown grant 'X'" for a field of a form or of the
        # whole request; "whole file: …" for a file refused as a whole; "… and 200 more
        # problems", the line that stands for those not listed, as it is
        if self.row is not None:
            return f"{self.where_word} {self.row}, {self.field}: {self.reason}"
        if self.reason.startswith("…"):
            return self.reason
        if self.field == "file":
            return f"whole file: {self.reason}"
        return f"{self.field}: {self.reason}"


class InvalidInput(ServiceError):
    """One or more problems in an input; the whole input was refused and nothing was written."""

    status = 422

    def __init__(self, problems: list[Problem], summary: str | None = None) -> None:
        self.problems = problems
        self.summary = summary  # the service's own words, when it says more than the count
        text = summary or f"{counted(len(problems), 'problem')}; nothing was written"
        super().__init__(text + ("\n" + "\n".join(str(p) for p in problems) if problems else ""))
