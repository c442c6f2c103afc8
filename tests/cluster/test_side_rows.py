"""Rows written ahead: when a large CSV file is read in two processes and imported into SQLite, the
child that read the second part writes its rows into a side file, and the import copies them into
the table by one INSERT … SELECT. In a first upload (no current row stored), the importing process
writes the rows of its own part into a side file of their own too, once checked. Whatever happens
to the side files, the table must end up exactly as an import without them leaves it.

These tests run outside a test transaction (an import inside a caller's transaction does not use
the side files), with the file split into two parts from a few bytes and the bulk path from a few
rows.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from django.db import connection

from reliefops.cluster import parallel
from reliefops.cluster.importers import activity_report_import_file, parse_activity_file
from reliefops.cluster.models import ActivityRow
from reliefops.cluster.services import bulk, import_batch_revert
from reliefops.env import VAR_DIR
from tests.cluster.conftest import COLUMNS, four_w_csv, make_children_fail, row

pytestmark = [
    pytest.mark.skipif(not parallel.available(), reason="needs fork and a second core"),
    pytest.mark.django_db(transaction=True),
]
EXTRA = [*COLUMNS, ("Remarks", "#description", "remarks")]
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the side file serves SQLite; PostgreSQL takes the rows by COPY"
)


def _rows(count: int) -> list[dict[str, str]]:
    """Rows of both kinds of the double-counting rule in both parts of the file (IOM programmes,
    NRC implements and reports its own row), pipeline rows, rows with remarks and people counts."""
    rows = []
    for n in range(count):
        month = 10 + (n // 3) % 3  # three rows of one month and place: NRC's own, IOM's two
        values = row(id=f"IOM-{n}", prog="IOM", impl="NRC", qty=str(10 + n), hh=str(5 + n))
        values.update(start=f"2005-{month}-01", end=f"2005-{month}-{10 + n % 17}")
        if n % 3 == 0:  # NRC's own row of the same activity, place and month: IOM's row counts in it
            values.update(id=f"NRC-{n}", reporting="NRC")
        if n % 7 == 0:
            values.update(id=f"IRW-{n}", prog="IRW", impl="IRW", recipient="Oxfam")
        if n % 5 == 0:
            values.update(remarks=f"road to {n} blocked", f="12", m="9")
        values["adm3"] = ("PK50401", "PK50402", "")[(n // 3) % 3]
        rows.append(values)
    return rows


def _table() -> list[tuple[Any, ...]]:
    """Every stored row by its file line, with the line of the row it is counted in: the table as
    it reads whatever ids it took."""
    line_of = dict(ActivityRow.objects.values_list("id", "line"))
    fields = [f.attname for f in ActivityRow._meta.concrete_fields if f.attname not in ("id", "batch_id")]
    out = []
    for values in ActivityRow.objects.order_by("line").values_list(*fields):
        stored = dict(zip(fields, values, strict=True))
        stored["counted_in_id"] = line_of.get(stored["counted_in_id"])
        out.append(tuple(stored.items()))
    return out


@pytest.fixture
def split(settings):
    settings.CLUSTER_PARALLEL_READ_BYTES = 1
    settings.CLUSTER_BULK_REBUILD_AT = 2


@pytest.fixture
def copies(monkeypatch) -> list[dict[str, Any]]:
    """Each side file the import offered to copy (in order): which part, whether it was copied, and
    its folder."""
    seen: list[dict[str, Any]] = []
    real = bulk.SideRows.copy_into

    def recorded(self, cursor, **options):
        copied = real(self, cursor, **options)
        seen.append({"part": self.schema.rsplit("_", 1)[1], "copied": copied, "folder": self.folder})
        return copied

    monkeypatch.setattr(bulk.SideRows, "copy_into", recorded)
    return seen


def _import(data: bytes, **options: Any):
    return activity_report_import_file(actor=None, data=data, filename="4w.csv", **options)


def _as_without_side(data: bytes, settings) -> list[tuple[Any, ...]]:
    """The table after importing the file in one process (no side file), then put back."""
    settings.CLUSTER_PARALLEL_READ_BYTES = 0
    result = _import(data)
    table = _table()
    import_batch_revert(actor=None, batch_id=result.batch_id)
    settings.CLUSTER_PARALLEL_READ_BYTES = 1
    return table


def _side_folders() -> list[str]:
    """The side folders that exist now (under bulk.VAR_DIR: a test that counts them gives the
    side files a folder of their own, apart from the tests that run beside it)."""
    root = bulk.VAR_DIR / bulk.SIDE_FOLDER
    return sorted(str(p) for p in root.glob("side-*")) if root.exists() else []


def _attached() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA database_list")
        return [name for _, name, _ in cursor.fetchall()]


@sqlite_only
def test_rows_written_ahead_go_in_as_the_rows_of_an_import_without_them(cluster, settings, split, copies):
    # given a file of 300 rows, pairs and pipeline rows in both parts, and the table it makes when
    # imported in one process
    data = four_w_csv(_rows(300), columns=EXTRA)
    expected = _as_without_side(data, settings)
    assert sum(1 for r in expected if dict(r)["counted_in_id"] is not None) == 172
    # when it is imported with the first part written ahead by this process and the second by the
    # child that read it
    result = _import(data)
    # then both parts' rows were copied from their side files, and the table is the same, row for
    # row
    assert [(c["part"], c["copied"]) for c in copies] == [("first", True), ("second", True)]
    assert result.added == 300
    assert _table() == expected
    assert result.set_aside == 172
    # and the side file is gone and detached, and the keys are enforced again
    assert not any(os.path.exists(c["folder"]) for c in copies)
    assert os.path.dirname(copies[0]["folder"]) == str(VAR_DIR / bulk.SIDE_FOLDER)
    assert _attached() == ["main", "temp"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1


@sqlite_only
def test_the_upload_job_writes_ahead_as_the_command_does(cluster, settings, split, copies):
    # the worker's job of a web upload imports the file with its progress heard
    data = four_w_csv(_rows(200), columns=EXTRA)
    expected = _as_without_side(data, settings)
    steps: list[str] = []
    result = activity_report_import_file(
        actor=None,
        data=data,
        filename="4w.csv",
        reporting_org_id=None,
        scope_org_id=None,
        scope_label="",
        preview=False,
        progress=lambda step, done, total: steps.append(step),
    )
    assert [(c["part"], c["copied"]) for c in copies] == [("first", True), ("second", True)]
    assert result.added == 200
    assert _table() == expected
    assert steps[-1] == "done"
    assert not any(os.path.exists(c["folder"]) for c in copies)


@sqlite_only
def test_a_child_that_fails_to_write_ahead_leaves_the_rows_to_the_import(
    cluster, settings, split, copies, monkeypatch
):
    data = four_w_csv(_rows(200), columns=EXTRA)
    expected = _as_without_side(data, settings)

    def full_disk(self, rows):
        raise OSError("no space left on device")

    monkeypatch.setattr(bulk.SideRows, "write", full_disk)  # before the fork: the child inherits it
    result = _import(data)
    assert copies == []  # the side file was not ready: nothing was copied from it
    assert result.added == 200
    assert _table() == expected


@sqlite_only
def test_a_side_file_that_cannot_be_attached_leaves_its_rows_to_the_import(cluster, settings, split, copies):
    data = four_w_csv(_rows(200), columns=EXTRA)
    expected = _as_without_side(data, settings)
    with connection.cursor() as cursor:  # the name the side file takes is in use
        cursor.execute("ATTACH DATABASE ':memory:' AS reliefops_side_second")
    try:
        result = _import(data)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DETACH DATABASE reliefops_side_second")
    assert [(c["part"], c["copied"]) for c in copies] == [("first", True), ("second", False)]
    assert result.added == 200
    assert _table() == expected
    assert not any(os.path.exists(c["folder"]) for c in copies)


@sqlite_only
def test_a_child_that_fails_to_read_leaves_nothing_written_ahead(
    cluster, settings, split, copies, monkeypatch
):
    data = four_w_csv(_rows(200), columns=EXTRA)
    expected = _as_without_side(data, settings)
    make_children_fail(monkeypatch)
    result = _import(data)
    assert copies == []
    assert result.added == 200
    assert _table() == expected


@sqlite_only
def test_an_upload_that_updates_rows_does_not_use_rows_written_ahead(
    cluster, settings, split, copies, monkeypatch, tmp_path
):
    monkeypatch.setattr(bulk, "VAR_DIR", tmp_path)
    # given a stored file, and the same file again with some rows changed
    rows = _rows(200)
    _import(four_w_csv(rows, columns=EXTRA))
    assert [c["copied"] for c in copies] == [True, True]
    for values in rows[::10]:
        values["qty"] = str(int(values["qty"]) + 1)
    # when it is imported, then only the changed rows are written, by the usual insert; and this
    # process, with current rows stored, wrote nothing ahead
    written: set[str] = set()
    result = _import(four_w_csv(rows, columns=EXTRA), progress=lambda *_: written.update(_side_folders()))
    assert (result.added, result.updated, result.unchanged) == (0, 20, 180)
    assert len(copies) == 2
    assert len(written) == 1  # once read: the child's side file alone
    current = ActivityRow.objects.filter(replaced_in__isnull=True)
    assert sorted(current.values_list("quantity", flat=True)) == sorted(int(r["qty"]) for r in rows)


@sqlite_only
def test_rows_whose_dates_read_again_are_not_taken_from_the_side_file(cluster, settings, split, copies):
    # given dates that read both ways until the last rows show the columns write the month first
    rows = _rows(200)
    for values in rows:
        values.update(start="03/11/2006", end="04/11/2006")
    rows[-1].update(start="11/29/2006", end="11/30/2006")
    data = four_w_csv(rows, columns=EXTRA)
    expected = _as_without_side(data, settings)
    result = _import(data)
    assert copies == []  # the child's rows took other dates than it had written
    assert result.added == 200
    assert _table() == expected
    assert ActivityRow.objects.filter(start_date="2006-03-11").count() == 199


def test_a_side_folder_left_by_a_killed_import_is_removed_a_day_later(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "VAR_DIR", tmp_path)
    left = [bulk.side_folder(), bulk.side_folder()]
    day_old = time.time() - bulk.SIDE_KEEP_SECONDS - 60
    os.utime(left[0], (day_old, day_old))
    new = bulk.side_folder()
    assert [os.path.exists(folder) for folder in [*left, new]] == [False, True, True]
    assert os.path.dirname(new) == str(tmp_path / "tmp")


def test_a_preview_and_postgresql_write_nothing_ahead(cluster, split):
    data = four_w_csv(_rows(200))
    assert parse_activity_file(data, filename="4w.csv").sides == []
    report = parse_activity_file(data, filename="4w.csv", write_ahead=True)
    if connection.vendor != "sqlite":
        assert report.sides == []
        return
    # a first upload: this process wrote the rows of its part, the child those of the other
    first = report.sides[0].count  # the smaller part, up to a line end
    assert 60 < first < 100
    assert [(side.schema, side.first, side.count, side.child is None) for side in report.sides] == [
        ("reliefops_side_first", 0, first, True),
        ("reliefops_side_second", first, 200 - first, False),
    ]
    written = [(side.folder, side.child) for side in report.sides]
    report.close()
    assert report.sides == []
    for folder, child in written:
        assert not os.path.exists(folder)
        if child is not None:
            with pytest.raises(ChildProcessError):  # the child was waited for
                os.waitpid(child.pid, os.WNOHANG)


@sqlite_only
def test_this_process_failing_to_write_its_part_ahead_leaves_it_to_the_import(
    cluster, settings, split, copies, monkeypatch, tmp_path
):
    monkeypatch.setattr(bulk, "VAR_DIR", tmp_path)
    data = four_w_csv(_rows(200), columns=EXTRA)
    expected = _as_without_side(data, settings)
    real, importer = bulk.SideRows.write, os.getpid()

    def full_disk_here(self, rows):
        if os.getpid() == importer:
            raise OSError("no space left on device")
        real(self, rows)

    monkeypatch.setattr(bulk.SideRows, "write", full_disk_here)
    result = _import(data)
    assert [(c["part"], c["copied"]) for c in copies] == [("second", True)]
    assert result.added == 200
    assert _table() == expected
    assert _side_folders() == []  # and no side file is left
