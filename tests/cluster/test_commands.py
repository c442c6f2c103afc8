"""`reliefops cluster …`: import with preview, revert, lock, gaps, matrix, totals, needs, template."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from reliefops.cluster.models import ActivityRow, ImportBatch, ReportingPeriod
from reliefops.core.roles import Role
from tests.cluster.conftest import four_w_csv, paired_rows, row


@pytest.fixture
def run(cluster):
    """Run `reliefops cluster ARGS`; returns stdout; a CommandError carries stderr as `.stderr`."""

    def command(*args: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command("cluster", *args, stdout=out, stderr=err)
        except CommandError as exc:
            exc.stderr = err.getvalue()  # type: ignore[attr-defined]
            raise
        return out.getvalue()

    return command


@pytest.fixture
def report_file(tmp_path):
    def write(rows, name="nrc-4w.csv") -> str:
        path = tmp_path / name
        path.write_bytes(four_w_csv(rows))
        return str(path)

    return write


def test_import_previews_then_commits_then_says_a_repeat_changes_nothing(run, report_file):
    path = report_file([row(id="NRC-1"), row(id="NRC-2")])
    preview = run("import", path, "--preview")
    assert "Preview: 2 added, 0 updated, 0 withdrawn, 0 unchanged." in preview
    # each added row shows its values as read, to be checked before applying
    assert (
        "row 3: add NRC-1  TENTS at PK504, completed, 2005-11-01 to 2005-11-20, quantity 100, 100 households"
        in preview
    )
    assert not ActivityRow.objects.exists()
    assert "Batch " in run("import", path)
    assert ActivityRow.objects.count() == 2
    assert "Nothing to change" in run("import", path)


@pytest.mark.parametrize(
    "where",
    [pytest.param("after", id="after the action"), pytest.param("before", id="before the action")],
)
def test_verbosity_2_prints_the_time_of_each_step(report_file, cluster, where):
    path = report_file([row(id="NRC-1")])
    args = (
        ["import", path, "--preview", "-v", "2"]
        if where == "after"
        else ["-v", "2", "import", path, "--preview"]
    )
    out = io.StringIO()
    call_command("cluster", *args, stdout=out, stderr=io.StringIO())
    assert "timings: read the file " in out.getvalue()
    quiet = io.StringIO()
    call_command("cluster", "import", path, "--preview", stdout=quiet, stderr=io.StringIO())
    assert "timings:" not in quiet.getvalue()


def test_the_progress_counts_the_rows_read_in_words(report_file, cluster):
    err = io.StringIO()
    call_command("cluster", "import", report_file([row(id="NRC-1")]), stdout=io.StringIO(), stderr=err)
    assert "applying the changes, all at once (1 row read)" in err.getvalue()


def test_a_refused_import_lists_every_problem_and_writes_nothing(run, report_file):
    path = report_file([row(id="NRC-1", adm2="PK5O4"), row(id="NRC-2", status="finished?")])
    with pytest.raises(CommandError, match="2 problems; nothing was written") as refused:
        run("import", path)
    assert (
        "row 3, #adm2+code: 'PK5O4' is not a P-code; did you mean PK504 (Batagram)?" in refused.value.stderr
    )
    assert "row 4, #status:" in refused.value.stderr
    assert not ActivityRow.objects.exists()


def test_a_partner_reporter_imports_its_own_rows_only(run, report_file, cluster, user_of_role):
    reporter = user_of_role(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    run("import", report_file([row(id="NRC-1", prog="UNHCR", impl="NRC")]), "--as", reporter.username)
    assert ActivityRow.objects.get().reporting_org == cluster.nrc
    with pytest.raises(CommandError, match="you report for NRC only"):
        run("import", report_file([row(id="NRC-2")]), "--as", reporter.username, "--org", "IRW")
    viewer = user_of_role(Role.VIEWER)
    # refused by the viewer's role, nothing written (the words of the refusal are the access module's)
    with pytest.raises(CommandError, match=r"viewer.* may not "):
        run("import", report_file([row(id="NRC-3")]), "--as", viewer.username)
    assert not ActivityRow.objects.filter(row_id="NRC-3").exists()


def test_an_import_says_which_of_its_own_rows_the_double_counting_rule_sets_aside(run, report_file):
    # given a file of UNHCR's row and IRW's own row of the same shelters
    first = run("import", report_file(paired_rows(), "pair.csv"))
    # then the import says that one of its two rows is set aside, and why
    assert (
        "note: 1 of the 2 rows this upload added or updated is set aside: it is counted in its "
        "implementing partner's own row (the double-counting rule)"
    ) in first
    # when UNHCR then uploads one row of other work
    second = run("import", report_file([row(id="UNHCR-9", prog="UNHCR")], "unhcr.csv"))
    # then nothing is said of the rows set aside before, which the upload did not change
    assert "set aside" not in second
    assert "counted in" not in second
    # and a correction of UNHCR-8 says its new version is set aside as the old one was
    third = run("import", report_file([{**paired_rows()[0], "qty": "201"}], "unhcr-8.csv"))
    assert "note: the row this upload added or updated is set aside: it is counted in its" in third


def test_the_organisation_a_coordinator_chooses_reports_only_the_rows_that_name_none(
    run, report_file, cluster, user_of_role
):
    coordinator = user_of_role(Role.COORDINATOR)
    # given a file whose every row names NRC as its reporting organisation
    nrc_file = report_file([row(id="NRC-1", reporting="NRC"), row(id="NRC-2", reporting="NRC")], "nrc.csv")
    # when a coordinator imports it as IRW's report, then it is refused, and told what to choose
    with pytest.raises(CommandError, match="1 problem; nothing was written") as refused:
        run("import", nrc_file, "--as", coordinator.username, "--org", "IRW")
    assert (
        "#org+reporting: every row of the file names its own reporting organisation: NRC (2 rows); "
        "none is a row of IRW, the organisation chosen for the upload. Choose NRC, or no organisation "
        "to take each row's own"
    ) in refused.value.stderr
    assert not ImportBatch.objects.exists()
    # given a file of which one row names NRC and one names no reporting organisation
    mixed = report_file([row(id="NRC-1", reporting="NRC"), row(id="IRW-1", prog="IRW")], "mixed.csv")
    # then its preview and its import say whose rows are whose
    note = (
        "note: IRW, the organisation chosen for the upload, reports only the rows that name no "
        "reporting organisation (1 row); the other rows name their own in #org+reporting: NRC (1 row)"
    )
    assert note in run("import", mixed, "--as", coordinator.username, "--org", "IRW", "--preview")
    assert note in run("import", mixed, "--as", coordinator.username, "--org", "IRW")
    reporting = dict(ActivityRow.objects.values_list("row_id", "reporting_org__acronym"))
    assert reporting == {"NRC-1": "NRC", "IRW-1": "IRW"}
    assert ImportBatch.objects.get().organisation is None  # several organisations' report


def test_reverting_a_batch_that_does_not_exist_names_its_number(run, user_of_role):
    # given no batch 7, when a coordinator (or the console) reverts it, then the answer names it
    coordinator = user_of_role(Role.COORDINATOR)
    with pytest.raises(CommandError, match=r"^no import batch 7$"):
        run("revert", "7", "--as", coordinator.username)
    with pytest.raises(CommandError, match=r"^no import batch 7$"):
        run("revert", "7")


def test_revert_and_lock(run, report_file):
    run("import", report_file([row(id="NRC-1")]))
    batch = ImportBatch.objects.get()
    assert f"Batch {batch.pk} reverted: 1 version removed, 0 restored." in run("revert", str(batch.pk))
    assert "Reporting period 2005-11 is locked." in run("lock", "2005-11")
    assert ReportingPeriod.objects.get().locked
    with pytest.raises(CommandError, match="1 problem"):
        run("import", report_file([row(id="NRC-1")]))
    assert "is open" in run("unlock", "2005-11")
    with pytest.raises(CommandError, match="not a month"):
        run("lock", "November")


def test_locking_a_locked_month_again_says_it_changed_nothing(run, cluster):
    # given November 2005 locked, with a note
    assert run("lock", "2005-11", "--note", "closed").strip() == "Reporting period 2005-11 is locked."
    # when it is locked again, then the command says nothing changed, and the note stays
    again = run("lock", "2005-11", "--note", "typed twice")
    assert again.strip() == "Reporting period 2005-11 is locked already; nothing changed."
    assert ReportingPeriod.objects.get().note == "closed"
    # and reopening a month that is not locked says there is nothing to reopen, storing nothing
    assert run("unlock", "2006-07").strip() == "Reporting period 2006-07 is not locked; nothing to reopen."
    assert list(ReportingPeriod.objects.values_list("month", flat=True)) == [dt.date(2005, 11, 1)]


def test_batches_lists_the_uploads(run, report_file):
    run("import", report_file([row(id="NRC-1")], name="first.csv"))
    assert "first.csv" in run("batches")


def test_gaps_as_table_csv_and_json(run, report_file, tmp_path):
    needs = tmp_path / "needs.csv"
    needs.write_text("P-code,In need,Illustrative\n#adm2+code,#inneed+hh,#meta+illustrative\nPK504,400,yes\n")
    assert "1 created, 0 updated, 0 unchanged" in run("needs", str(needs))
    run("import", report_file([row(id="NRC-1", hh="100")]))
    table = run("gaps", "--level", "district", "--activity", "TENTS")
    assert ["PK504", "Batagram", "*", "TENTS", "400", "0", "100", "25%", "300", "100", "1"] in [
        line.split() for line in table.splitlines()
    ]
    assert "* needs are illustrative" in table
    assert "No partner: PK101 Bagh, PK107 Muzaffarabad, PK522 Mansehra" in table
    data = json.loads(run("gaps", "--level", "tehsil", "--format", "json"))
    assert data["rows"][0]["whole_area"] is True
    assert run("gaps", "--format", "hxl").splitlines()[1].startswith("#adm+code+parent,")
    with pytest.raises(CommandError, match="add --output"):
        run("gaps", "--format", "xlsx")
    out = tmp_path / "gaps.xlsx"
    run("gaps", "--format", "xlsx", "--output", str(out))
    assert out.read_bytes().startswith(b"PK")
    # a refused filter is named by its option, and a report writes nothing: no "nothing was written"
    with pytest.raises(CommandError, match=r"^--activity: 'NOPE' is not an activity; use one of TENTS"):
        run("gaps", "--activity", "NOPE")
    with pytest.raises(CommandError, match=r"^--within: .PK5O4. is not a P-code of the gazetteer; did you "):
        run("matrix", "--within", "PK5O4")


def test_a_tehsil_gap_table_says_where_a_need_is_missing_or_counted_higher(run, report_file, tmp_path):
    # given a need for Batagram as a whole (illustrative), rows for Allai and for the district itself
    needs = tmp_path / "needs.csv"
    needs.write_text("P-code,In need,Illustrative\n#adm2+code,#inneed+hh,#meta+illustrative\nPK504,400,yes\n")
    run("needs", str(needs))
    run("import", report_file([row(id="NRC-1", hh="100"), row(id="NRC-2", adm3="PK50401", hh="30")]))
    # when the command prints the tehsil table of Batagram
    table = run("gaps", "--level", "tehsil", "--activity", "TENTS", "--within", "PK504")
    lines = [line.split() for line in table.splitlines()]
    # then Allai has no baseline of its own, and the district's rows show the district's need
    # beside them, marked illustrative, rather than empty cells
    assert ["PK50401", "Allai", "TENTS", "no", "baseline", "0", "30", "100", "1"] in lines
    whole = ["PK504", "Batagram", "(whole", "area)", "*", "TENTS", "at", "district", "level:", "400"]
    assert [*whole, "0", "100", "100", "1"] in lines
    assert "* needs are illustrative: derived for the scenario from published totals" in table
    assert "is compared with all its rows at district level (--level district)" in table
    # and no line of the table ends in spaces
    assert all(line == line.rstrip() for line in table.splitlines())


def test_totals_as_json_use_the_published_keys(run, report_file):
    run("import", report_file([row(id="NRC-1", qty="520")]))
    totals = json.loads(run("totals", "--format", "json"))
    assert totals["tents_delivered"] == 520
    assert set(totals) == {
        "transitional_shelters_built",
        "tents_delivered",
        "cgi_sheets_delivered_more_than",
        "blankets_delivered",
        "tarpaulins_or_plastic_sheets_delivered",
    }


def test_matrix_and_template(run, report_file, tmp_path):
    run("import", report_file([row(id="NRC-1")]))
    assert "NRC           TENTS" in run("matrix")
    target = tmp_path / "mine.csv"
    run("template", str(target), "--rows")
    lines = target.read_text().splitlines()
    assert lines[1].startswith("#meta+id,#meta+action,#org+reporting")
    assert lines[2].startswith("NRC-1,,Norwegian Refugee Council")


def test_a_template_for_a_folder_that_does_not_exist_is_refused_by_name(run, tmp_path):
    target = tmp_path / "no-such-folder" / "4w.xlsx"
    with pytest.raises(CommandError, match=f"cannot write {target}: No such file or directory"):
        run("template", str(target))


def test_batches_show_when_each_was_imported_in_the_operations_time_zone(run, report_file):
    import datetime as dt

    run("import", report_file([row(id="NRC-1")], name="late.csv"))
    # imported at 23:54 UTC on 29 November, which is 04:54 on 30 November in Pakistan
    ImportBatch.objects.update(created_at=dt.datetime(2026, 11, 29, 23, 54, tzinfo=dt.UTC))
    listed = next(line for line in run("batches").splitlines() if "late.csv" in line)
    assert "2026-11-30 04:54" in listed


def test_an_activity_types_file_is_refused_naming_each_value_and_what_to_write(run, tmp_path):
    # given a file repeating TENTS, with an empty name and unit, a name of another activity, and an
    # item the catalogue does not hold
    types = tmp_path / "types.csv"
    types.write_text(
        "code,name,unit,item\n"
        "TENTS,Tents distributed,tent,\n"
        "TENTS,,,\n"
        "HUTS,Blankets distributed,hut,HUT-KIT\n"
    )
    # when it is imported, then every problem says what to write instead, and nothing is written
    with pytest.raises(CommandError, match="5 problems; nothing was written") as refused:
        run("activity-types", str(types))
    assert refused.value.stderr.splitlines() == [
        "line 3, code: duplicate code TENTS (first on line 2); give each activity its own code",
        "line 3, name: the name is empty; give the activity's name (Tents distributed)",
        "line 3, unit: the unit is empty; give what its quantities count (tent, kit, household)",
        "line 4, name: 'Blankets distributed' is the name of activity BLANKETS; give this one another name",
        "line 4, item: unknown item HUT-KIT (not in the catalogue); write the code of an item of the "
        "catalogue (Items), or leave it empty",
    ]
