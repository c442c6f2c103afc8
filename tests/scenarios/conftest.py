"""Fixtures of the scenario tests (shared with the other reference-data tests)."""

from tests.places.conftest import run_command, state, write_file  # noqa: F401
