"""`reliefops scenario load NAME` and `scenario list`."""

from __future__ import annotations

import pytest
from django.core.management import CommandError

from reliefops.scenarios import kashmir2005


def test_load_reports_each_step_and_a_second_load_changes_nothing(run_command, monkeypatch):
    # the reference steps are enough here; the whole scenario's second load is tested beside the loader
    monkeypatch.setattr(kashmir2005, "STEPS", kashmir2005.REFERENCE_STEPS)
    out, _ = run_command("scenario", "load", "kashmir-2005")
    assert "gazetteer: 88 created, 0 updated, 0 unchanged (country PK created)" in out
    assert "Scenario kashmir-2005 loaded." in out
    out, _ = run_command("scenario", "load", "kashmir-2005")
    for line in (
        "sites: 0 created, 0 updated",
        "organisations: 0 created, 0 updated",
        "kits: 0 created, 0 updated",
    ):
        assert line in out


def test_unknown_scenario_is_refused(run_command):
    with pytest.raises(CommandError, match="no scenario 'haiti-2010'; there are: kashmir-2005"):
        run_command("scenario", "load", "haiti-2010")


def test_list_names_the_scenarios(run_command):
    out, _ = run_command("scenario", "list")
    assert out.startswith("kashmir-2005")
