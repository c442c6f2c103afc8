"""The commands docs/operations.md gives an operator print what the guide says they print."""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import pytest
from django.core.management import call_command

from reliefops.core.security import LOGIN_FAILED, login_attempt_record

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def guide_commands(command: str) -> list[list[str]]:
    """The arguments of each `$ .venv/bin/reliefops COMMAND …` line of the guide."""
    prefix = f"$ .venv/bin/reliefops {command} "
    return [
        shlex.split(line.removeprefix("$ .venv/bin/reliefops "))
        for line in GUIDE.read_text().splitlines()
        if line.startswith(prefix)
    ]


@pytest.mark.django_db
def test_the_guides_audit_trail_command_prints_only_the_sign_in_events(capsys):
    # given a failed sign-in in the audit trail
    login_attempt_record(username="amina", address="10.0.0.7", outcome=LOGIN_FAILED)
    [arguments] = guide_commands("shell")
    # when the operator runs the guide's command to see who is being refused
    out = io.StringIO()
    call_command(*arguments, stdout=out)
    printed = out.getvalue() + capsys.readouterr().out
    # then it prints that event, one line, and nothing else
    [line] = printed.splitlines()
    assert line.endswith("auth.login_failed amina {'address': '10.0.0.7'}")
