"""`reliefops organisations import` and `reliefops grants import`: output and refusals."""

from __future__ import annotations

import pytest
from django.core.management import CommandError

from reliefops.partners.models import Grant

ORGS = "name,acronym,type,aliases\nDepartment for International Development,DFID,donor,UK Aid\n"
GRANTS = (
    "donor,reference,title,start,end,currency,amount\n"
    "DFID,DFID-2005-07,Kits,2005-10-12,2006-03-31,USD,1250000.50\n"
)


def test_organisations_then_grants_import_and_reimport(run_command, write_file):
    out, _ = run_command("organisations", "import", str(write_file("orgs.csv", ORGS)))
    assert "orgs.csv: 1 created, 0 updated, 0 unchanged" in out
    grants = write_file("grants.csv", GRANTS)
    out, _ = run_command("grants", "import", str(grants))
    assert "grants.csv: 1 created, 0 updated, 0 unchanged" in out
    out, _ = run_command("grants", "import", str(grants))
    assert "grants.csv: 0 created, 0 updated, 1 unchanged" in out
    assert Grant.objects.get().amount_minor == 125000050


def test_grants_dry_run_writes_nothing(run_command, write_file):
    run_command("organisations", "import", str(write_file("orgs.csv", ORGS)))
    out, _ = run_command("grants", "import", str(write_file("grants.csv", GRANTS)), "--dry-run")
    assert "dry run, nothing written" in out
    assert not Grant.objects.exists()


def test_refused_file_lists_problems_on_stderr(run_command, write_file, state):
    before = state()
    path = write_file("orgs.csv", "name,acronym,type\nOxfam GB,Oxfam,charity\n,X,ingo\n")
    with pytest.raises(CommandError, match=r"orgs\.csv: 2 problems; nothing was written") as caught:
        run_command("organisations", "import", str(path))
    assert caught.value.returncode == 1
    assert state() == before


def test_grant_problems_name_line_field_and_reason(run_command, write_file):
    run_command("organisations", "import", str(write_file("orgs.csv", ORGS)))
    path = write_file("grants.csv", GRANTS.replace("DFID,DFID", "ECHO,DFID").replace("USD", "US$"))
    with pytest.raises(CommandError) as caught:
        run_command("grants", "import", str(path))
    assert caught.value.stderr.splitlines() == [
        "line 2, donor: unknown donor 'ECHO' (import the organisation first)",
        "line 2, currency: unknown currency 'US$'; use an ISO code like USD",
    ]
