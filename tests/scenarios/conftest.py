"""Fixtures of the scenario tests (shared with the other reference-data tests)."""

from django.apps import apps

from tests.places.conftest import run_command, state, write_file  # noqa: F401


def row_counts() -> dict[str, int]:
    """How many rows each table holds, to compare before and after a load."""
    return {model._meta.label: model.objects.count() for model in apps.get_models()}
