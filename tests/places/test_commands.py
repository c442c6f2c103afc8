"""`reliefops places import | import-sites | match`: output, refusals and the exit status."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, ManagementUtility

from reliefops.places.models import AdminArea

HEADER = "pcode,name,level,parent_pcode,lat,lon,elevation_m\n"


def test_import_prints_the_counts_then_unchanged_on_a_second_run(run_command, write_file, places_csv):
    path = write_file("places.csv", places_csv)
    out, _ = run_command("places", "import", str(path), "--cod-version", "v01")
    assert "places.csv: 88 created, 0 updated, 0 unchanged (country PK created)" in out
    out, _ = run_command("places", "import", str(path))
    assert "places.csv: 0 created, 0 updated, 88 unchanged" in out
    assert AdminArea.objects.get(pcode="PK504").cod_version == "v01"


def test_dry_run_says_so_and_writes_nothing(run_command, write_file, places_csv):
    out, _ = run_command("places", "import", str(write_file("places.csv", places_csv)), "--dry-run")
    assert "dry run, nothing written" in out
    assert "88 created" in out
    assert not AdminArea.objects.exists()


def test_a_bad_file_prints_every_problem_and_fails(run_command, write_file, state):
    path = write_file(
        "areas.csv",
        HEADER
        + "PK5,Khyber Pakhtunkhwa,province,PK,,,\nPK504,Batagram,district,PK999,,,\nPK522,,district,PK5,,,\n",
    )
    before = state()
    with pytest.raises(CommandError, match=r"areas.csv: 2 problems; nothing was written") as caught:
        run_command("places", "import", str(path))
    assert caught.value.returncode == 1
    assert caught.value.stderr.splitlines() == [
        "line 3, parent_pcode: unknown parent P-code PK999 (not in the file or the gazetteer)",
        "line 4, name: the name is empty",
    ]
    assert state() == before


def test_problems_go_to_stderr_one_per_line(db, write_file, capsys, monkeypatch):
    # the real entry point: problems on stderr, a non-zero exit status
    path = write_file("areas.csv", HEADER + "PK5,Khyber Pakhtunkhwa,province,PK,95,,\n")
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)  # keep the test's transaction
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["reliefops", "places", "import", str(path)]).execute()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "line 2, lat: latitude 95.0 is out of range (-90 to 90)" in err
    assert "line 2, lon: a latitude is given without a longitude" in err
    assert "1 problem" not in err
    assert "2 problems; nothing was written" in err


def test_an_unreadable_file_is_named(run_command, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run_command("places", "import", str(tmp_path / "missing.csv"))


def test_import_sites(run_command, write_file):
    run_command(
        "places",
        "import",
        str(write_file("a.csv", HEADER + "PK5,KP,province,PK,,,\nPK504,Batagram,district,PK5,,,\n")),
    )
    sites = write_file(
        "sites.csv", "code,name,kind,admin_pcode,parent_hub\nBTG-HUB,IOM Batagram hub,hub,PK504,\n"
    )
    out, _ = run_command("places", "import-sites", str(sites))
    assert "sites.csv: 1 created, 0 updated, 0 unchanged" in out


def test_match_prints_score_pcode_and_name(run_command, write_file, places_csv):
    run_command("places", "import", str(write_file("places.csv", places_csv)))
    out, _ = run_command("places", "match", "Muzafarabad", "--level", "district")
    assert out.splitlines() == ["0.90  PK107          Muzaffarabad (district, in Azad Kashmir (AJK))"]
    out, _ = run_command("places", "match", "Timbuktu")
    assert out.strip() == "no admin area matches 'Timbuktu'"
