"""The walk-through of an update file that lacks some columns: a column the file does not have at
all keeps the stored value of the rows it updates (a column with an empty cell empties it); the
same file uploaded again changes nothing; the preview says which values are kept as stored."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.cluster.models import ActivityRow
from reliefops.cluster.services import report_plan
from tests.cluster.conftest import COLUMNS, four_w_csv, row

REMARKS = ("Remarks", "#meta+remarks", "remarks")
FULL = [*COLUMNS, REMARKS]
STORED = row(id="NRC-X01", funder="DFID", place="Banna village", f="200", m="180", remarks="road cut")
# upd1.csv: no #org+funder, #loc+name, #reached+ind+* columns, nor a kept-aside column
UPDATE_COLUMNS = [c for c in COLUMNS if c[2] not in {"funder", "place", "f", "m"}]


def _stored(row_id: str = "NRC-X01") -> ActivityRow:
    return ActivityRow.objects.get(row_id=row_id, replaced_in__isnull=True)


def test_a_column_the_file_does_not_have_keeps_the_stored_value(cluster, upload):
    # given a stored row with a funder, a place, women and men, and a remark kept aside
    upload(data=four_w_csv([STORED], columns=FULL))
    # when a file without those columns updates its quantity
    update = four_w_csv([row(id="NRC-X01", action="Update", qty="150")], columns=UPDATE_COLUMNS)
    result = upload(data=update)
    # then the quantity changes and every value the file has no column for is kept as stored
    assert (result.updated, result.added) == (1, 0)
    assert result.changes[0].fields == (("quantity", "100", "150"),)
    kept = _stored()
    assert (kept.quantity, kept.funding_org_id, kept.location) == (150, cluster.dfid.pk, "Banna village")
    assert (kept.people_female, kept.people_male, kept.extra) == (200, 180, {"Remarks": "road cut"})
    # and the same file uploaded again changes nothing
    again = upload(data=update)
    assert (again.changed, again.unchanged) == (False, 1)
    assert ActivityRow.objects.count() == 2


def test_the_preview_says_which_stored_values_are_kept(cluster, upload):
    upload(data=four_w_csv([STORED], columns=FULL))
    update = four_w_csv([row(id="NRC-X01", qty="150")], columns=UPDATE_COLUMNS)
    preview = upload(data=update, preview=True)
    assert (
        "columns not in the file, kept as stored in the rows it names: funding organisation, place or "
        "site, women reached, men reached, the columns kept aside (a column with an empty cell empties the "
        "value; a column the file does not have leaves it as it is)"
    ) in preview.notes


def test_a_column_present_with_an_empty_cell_empties_the_value(cluster, upload):
    upload(data=four_w_csv([STORED], columns=FULL))
    result = upload([row(id="NRC-X01", funder="", place="", f="", m="")])
    assert result.updated == 1
    emptied = _stored()
    assert (emptied.funding_org_id, emptied.location, emptied.people_female, emptied.people_male) == (
        None,
        "",
        None,
        None,
    )
    # the template's columns are all there, but no kept-aside one: the remark is kept
    assert emptied.extra == {"Remarks": "road cut"}


def test_a_file_with_kept_aside_columns_sets_them(cluster, upload):
    upload(data=four_w_csv([STORED], columns=FULL))
    upload(data=four_w_csv([{**STORED, "remarks": "road open"}], columns=FULL))
    assert _stored().extra == {"Remarks": "road open"}


def test_a_file_without_the_start_date_keeps_it_and_the_month_follows_the_end_date(cluster, upload):
    upload([row(id="NRC-1", start="2005-11-01", end="2005-11-20")])
    columns = [c for c in COLUMNS if c[2] != "start"]
    result = upload(data=four_w_csv([row(id="NRC-1", end="2005-12-05")], columns=columns))
    assert result.updated == 1
    stored = _stored("NRC-1")
    assert (stored.start_date, stored.end_date, stored.period) == (
        dt.date(2005, 11, 1),
        dt.date(2005, 12, 5),
        dt.date(2005, 12, 1),
    )


def test_an_end_date_before_the_stored_start_is_refused(cluster, upload):
    from reliefops.core.errors import InvalidInput

    upload([row(id="NRC-1", start="2005-11-10", end="2005-11-20")])
    columns = [c for c in COLUMNS if c[2] != "start"]
    with pytest.raises(InvalidInput) as refused:
        upload(data=four_w_csv([row(id="NRC-1", end="2005-11-05")], columns=columns))
    assert [str(p) for p in refused.value.problems] == [
        "row 3, #date+end: 2005-11-05 is before the row's stored start date 2005-11-10 (the file has no "
        "start date column); add the column with the new start date"
    ]


def test_a_new_row_in_a_file_without_those_columns_is_added_as_the_file_says(cluster, upload):
    upload(data=four_w_csv([STORED], columns=FULL))
    result = upload(data=four_w_csv([row(id="NRC-X02")], columns=UPDATE_COLUMNS))
    assert result.added == 1
    added = _stored("NRC-X02")
    assert (added.funding_org_id, added.location, added.people_female, added.extra) == (None, "", None, None)


def test_a_file_with_every_column_merges_nothing(cluster, upload, monkeypatch):
    # the usual file: nothing is read of the stored rows beyond what the comparison always reads
    upload(data=four_w_csv([STORED], columns=FULL))

    def not_called(*args, **kwargs):
        raise AssertionError("stored values read for a file that has every column")

    monkeypatch.setattr(report_plan, "merged_with_stored", not_called)
    result = upload(data=four_w_csv([{**STORED, "qty": "7"}], columns=FULL))
    assert result.updated == 1


def test_rows_as_stored_in_a_file_without_those_columns_read_no_stored_values(cluster, upload, monkeypatch):
    # a file lacking columns, uploaded again: its rows' fingerprints are the stored ones already
    update = four_w_csv([row(id=f"NRC-{n}") for n in range(20)], columns=UPDATE_COLUMNS)
    upload(data=update)

    def not_called(*args, **kwargs):
        raise AssertionError("stored values read for rows that are as stored")

    monkeypatch.setattr(report_plan, "merged_with_stored", not_called)
    again = upload(data=update)
    assert (again.changed, again.unchanged) == (False, 20)


def test_the_preview_names_only_the_missing_columns_that_hold_stored_values(cluster, upload):
    # given stored rows with no remark kept aside, no women and no men, but a funder
    upload([row(id="NRC-1", funder="DFID"), row(id="NRC-2", funder="DFID")])
    # when the template's columns come back (no column kept aside) with a new quantity
    rows = [row(id="NRC-1", funder="DFID", qty="150"), row(id="NRC-2", funder="DFID")]
    template = upload(rows, preview=True)
    # then no note speaks of columns kept aside: the rows hold none, there is nothing to keep
    assert (template.updated, template.unchanged) == (1, 1)
    assert not [note for note in template.notes if "kept as stored" in note]
    # and a file without the funder, women and men columns names the funder alone, which is stored
    update = four_w_csv([row(id="NRC-1", qty="150")], columns=UPDATE_COLUMNS)
    preview = upload(data=update, preview=True)
    assert preview.updated == 1
    assert [note for note in preview.notes if "kept as stored" in note] == [
        "columns not in the file, kept as stored in the rows it names: funding organisation (a column with "
        "an empty cell empties the value; a column the file does not have leaves it as it is)"
    ]
