"""The bulk paths of the import: large batches that rebuild the indexes (and, on PostgreSQL, drop
and add again the foreign keys), a bad row that the rebuilt index or key refuses, the
double-counting rule applied within a file equal to the rule applied in the database, ids after a
revert, and a re-upload after a bulk import.

The tests lower the size from which a batch takes the bulk path (the setting
CLUSTER_BULK_REBUILD_AT) to a few rows, so that they run in seconds; they run on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliefops.cluster.importers import activity_report_import_file, parse_activity_file
from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.cluster.services import (
    activity_report_import,
    bulk,
    import_batch_revert,
    report_types,
    reports,
)
from reliefops.core.errors import Conflict
from reliefops.core.models import AuditEvent
from reliefops.partners.models import Organisation
from tests.cluster.conftest import COLUMNS, four_w_csv, four_w_xlsx, row, table

ORGS = ["NRC", "IRW", "UNHCR", "IOM", "Oxfam"]
PLACES = ["PK50401", "PK50402", "PK52201"]


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        return {
            name
            for name, info in connection.introspection.get_constraints(cursor, "cluster_activityrow").items()
            if info["index"]
        }


def foreign_keys() -> set[tuple[str, tuple[str, str]]]:
    """The table's foreign keys: (column, (table, column) it points at)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "cluster_activityrow")
    return {
        (info["columns"][0], tuple(info["foreign_key"]))
        for info in constraints.values()
        if info["foreign_key"]
    }


def schema() -> tuple[set[str], set[tuple[str, tuple[str, str]]]]:
    return index_names(), foreign_keys()


def rebuilt(result) -> bool:
    """Whether the import took the bulk path (its indexes were built again)."""
    return "of which rebuild indexes" in result.timings


@pytest.fixture
def bulk_path(settings):
    """Every batch as large as half the table takes the bulk path."""
    settings.CLUSTER_BULK_REBUILD_AT = 2


def written() -> tuple[int, int, int]:
    return ActivityRow.objects.count(), ImportBatch.objects.count(), AuditEvent.objects.count()


def marks() -> dict[str, str | None]:
    return {
        r.row_id: (r.counted_in.row_id if r.counted_in else None)
        for r in ActivityRow.objects.filter(replaced_in__isnull=True).select_related("counted_in")
    }


def random_rows(seed: int, count: int) -> list[dict]:
    """Rows of several partners, some reported by a programming partner, some by its implementer."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        reporting, other = rng.sample(ORGS, 2)
        kind = rng.random()
        values = {
            "id": f"R-{n}",
            "reporting": reporting,
            "adm2": "",
            "adm3": rng.choice(PLACES),
            "end": rng.choice(["2005-11-20", "2005-12-20"]),
            "start": "2005-11-01",
        }
        if kind < 0.3:  # a programming partner's row of another's work
            values.update(prog=reporting, impl=other)
        elif kind < 0.6:  # the implementing partner's own row, naming its programme or funder
            values.update(prog=other, impl=reporting) if kind < 0.45 else values.update(
                prog=reporting, funder=other
            )
        elif kind < 0.7:
            values.update(prog=reporting, recipient=other, hh="")
        else:
            values.update(prog=reporting)
        rows.append(row(**values))
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rule_within_a_file_is_the_rule_across_batches(upload, cluster, seed):
    # given the same rows uploaded in one file, and then in two files one after the other
    rows = random_rows(seed, 60)
    upload(rows)
    in_one_file = marks()
    assert any(in_one_file.values())
    ActivityRow.objects.all().delete()
    upload(rows[:30])
    upload(rows[30:])
    # then each row is set aside (or not) in the same row either way
    assert marks() == in_one_file


def test_a_large_batch_rebuilds_the_indexes_and_they_still_hold(upload, cluster, bulk_path):
    # given the threshold at which a batch rebuilds the indexes lowered to 2 rows
    before = schema()
    assert len(before[0]) >= 3
    assert len(before[1]) >= 8
    # when a batch is uploaded, then it took the bulk path, its rows are in, and every index and
    # foreign key is back
    result = upload([row(id=f"NRC-{n}") for n in range(5)])
    assert rebuilt(result)
    assert ActivityRow.objects.count() == 5
    assert schema() == before
    # and the unique index of current versions still refuses a second current version
    first = ActivityRow.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityRow.objects.filter(pk=first.pk).update(row_id="NRC-1")


def test_ids_after_a_reverted_batch_are_new(upload, cluster):
    upload([row(id="NRC-1"), row(id="NRC-2")])
    second = upload([row(id="NRC-3")])
    removed = ActivityRow.objects.get(row_id="NRC-3").pk
    import_batch_revert(actor=None, batch_id=second.batch_id)
    upload([row(id="NRC-4")])
    assert ActivityRow.objects.get(row_id="NRC-4").pk > removed


def test_sqlite_binds_a_report_rows_fields_in_the_order_of_its_columns():
    from reliefops.cluster.services.report_types import ReportRow

    names = {"action": "withdrawn", "site_id": "site_id"}
    assert [names.get(f, f) for f in ReportRow._fields] == list(bulk._ROW_AS_COLUMNS)


def test_the_rule_within_a_file_reads_the_fields_it_means():
    from reliefops.cluster.services.report_types import ReportRow

    fields = ReportRow._fields
    assert [fields[i] for i in (8, 9, 5, 18)] == [
        "activity_id",
        "admin_area_id",
        "implementing_org_id",
        "period",
    ]
    assert [fields[i] for i in (2, 4, 6, 7)] == [
        "reporting_org_id",
        "programming_org_id",
        "funding_org_id",
        "recipient_org_id",
    ]


def test_a_small_batch_into_a_large_table_keeps_the_indexes(upload, cluster, bulk_path):
    # given 10 rows stored
    upload([row(id=f"NRC-{n}") for n in range(10)])
    # when 3 more come (fewer than half the table), then the indexes stay in place
    assert not rebuilt(upload([row(id=f"NRC-{n}") for n in range(10, 13)]))
    assert ActivityRow.objects.count() == 13


def test_a_duplicate_that_the_rebuilt_unique_index_refuses_rolls_the_whole_batch_back(
    upload, cluster, bulk_path, monkeypatch
):
    # given rows stored by an earlier batch, and the service's own check of duplicate row ids
    # switched off (as if a bug let a duplicate through to the database)
    upload([row(id="NRC-1"), row(id="NRC-2")])
    before, counts = schema(), written()
    monkeypatch.setattr(reports, "duplicates", lambda report: [])
    rows = [row(id=f"NRC-{n}") for n in range(3, 8)] + [row(id="NRC-5", qty="7")]
    # when the batch goes in by the bulk path, the unique index built again refuses it
    with pytest.raises(Conflict, match="refused the upload") as refused:
        upload(rows)
    assert isinstance(refused.value.__cause__, IntegrityError)
    # then nothing of the batch was written: no row, no batch record, no audit event, and every
    # index and foreign key is in place, still refusing a second current version
    assert written() == counts
    assert schema() == before
    first = ActivityRow.objects.get(row_id="NRC-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityRow.objects.filter(pk=first.pk).update(row_id="NRC-2")
    # and the next good upload goes in by the bulk path with fresh ids
    monkeypatch.undo()
    result = upload([row(id=f"NRC-{n}") for n in range(3, 8)])
    assert rebuilt(result)
    assert ActivityRow.objects.count() == 7
    assert sorted(ActivityRow.objects.values_list("row_id", flat=True)) == [f"NRC-{n}" for n in range(1, 8)]


def enforced() -> bool:
    """Whether the database enforces foreign keys on this connection (PostgreSQL always does)."""
    if connection.vendor != "sqlite":
        return True
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "column", ["admin_area_id", "activity_id", "implementing_org_id", "funding_org_id", "site_id"]
)
def test_a_row_that_a_foreign_key_refuses_rolls_the_whole_batch_back(cluster, settings, column):
    # given a stored batch, and a file whose rows have passed every check but one of which points
    # at an admin area (an activity, an organisation, a site) that is not there (as if it had been
    # deleted meanwhile)
    settings.CLUSTER_BULK_REBUILD_AT = 2
    first = parse_activity_file(four_w_csv([row(id="NRC-1")]), filename="first.csv")
    activity_report_import(actor=None, report=first)
    before, counts = schema(), written()
    report = parse_activity_file(four_w_csv([row(id=f"NRC-{n}") for n in range(2, 7)]), filename="4w.csv")
    good = report.rows[2]
    missing = 10**6
    report.rows[2] = good._replace(**{column: missing})
    # when it is imported in the bulk path (the keys written are checked once, after the insert;
    # PostgreSQL adds its foreign keys back NOT VALID first)
    with pytest.raises(Conflict, match="refused the upload") as refused:
        activity_report_import(actor=None, report=report)
    assert isinstance(refused.value.__cause__, IntegrityError)
    assert f"{column} = {missing}" in str(refused.value)
    # then the whole batch was rolled back, the indexes and foreign keys are in place and enforced
    assert written() == counts
    assert schema() == before
    assert enforced()
    assert list(ActivityRow.objects.values_list("row_id", flat=True)) == ["NRC-1"]
    # and the same file without the bad row goes in, its keys checked once on SQLite
    report.rows[2] = good
    result = activity_report_import(actor=None, report=report)
    assert (result.added, rebuilt(result)) == (5, True)
    assert ("check foreign keys" in result.timings) == (connection.vendor == "sqlite")
    assert ("of which add foreign keys back and check them" in result.timings) == (
        connection.vendor == "postgresql"
    )
    assert enforced()
    assert ActivityRow.objects.count() == 6


def test_every_foreign_key_of_the_table_is_one_the_check_knows(db, monkeypatch):
    # the check after a bulk insert looks up each key column's values; a key it did not know would
    # be checked over the whole table instead (PostgreSQL: VALIDATE; SQLite: the pragma)
    looked_up = []
    monkeypatch.setattr(bulk, "_check_exist", lambda cursor, column, *args: looked_up.append(column))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            keys = bulk._pg_key_columns(cursor)
        else:
            cursor.execute(f"PRAGMA foreign_key_list({bulk.TABLE})")
            keys = [(r[3], r[3], r[2], r[4]) for r in cursor.fetchall()]
        assert {column for _, column, _, _ in keys} == {column for column, _ in foreign_keys()}
        # a row of no key at all: every key column is one the check knows, none is looked up
        rows = [report_types.ReportRow(*([None] * len(report_types.ReportRow._fields)))]
        assert (
            bulk.check_written_keys(cursor, keys, batch_id=1, rows=rows, tombstones=(), counted_in=[]) == []
        )
    assert sorted(looked_up) == sorted(column for _, column, _, _ in keys)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL adds its foreign keys back NOT VALID"
)
@pytest.mark.django_db(transaction=True)
def test_keys_added_back_not_valid_are_enforced_and_a_second_bulk_import_adds_them_again(cluster, settings):
    # given two bulk imports, one after the other
    settings.CLUSTER_BULK_REBUILD_AT = 2
    before = schema()
    for first, stop in ((1, 4), (4, 12)):
        report = parse_activity_file(
            four_w_csv([row(id=f"NRC-{n}") for n in range(first, stop)]), filename=f"4w-{first}.csv"
        )
        assert rebuilt(activity_report_import(actor=None, report=report))
    # then the foreign keys are all there, marked NOT VALID once (not twice) in the catalogue
    assert schema() == before
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [bulk.TABLE],
        )
        found = cursor.fetchall()
    assert len(found) == len(before[1])
    assert all(text.count("NOT VALID") == 1 and not valid for text, valid in found)
    # and they refuse a later write that breaks one, as before
    stored = ActivityRow.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityRow.objects.filter(pk=stored.pk).update(admin_area_id=10**6)
    # and validating them (as the operations guide says) finds every stored row right
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'", [bulk.TABLE]
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {bulk.TABLE} VALIDATE CONSTRAINT "{name}"')
    assert ActivityRow.objects.count() == 11


def sqlite_pragmas() -> dict[str, int]:
    """The connection's settings that a large batch changes while its rows go in (SQLite)."""
    found = {}
    with connection.cursor() as cursor:
        for name in ("ignore_check_constraints", "cache_size", "threads"):
            cursor.execute(f"PRAGMA {name}")
            found[name] = cursor.fetchone()[0]
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("change", "constraint"),
    [
        ({"quantity": -1}, "activityrow_quantity_not_negative"),
        ({"people_male": -3}, "activityrow_people_not_negative"),
        ({"status": "done"}, "activityrow_status_known"),
        ({"row_id": ""}, "activityrow_row_id_not_empty"),
        ({"start_date": dt.date(2005, 12, 1)}, "activityrow_period_ordered"),
        ({"recipient_org_id": "implementing"}, "activityrow_pipeline_to_another_partner"),
    ],
)
@pytest.mark.parametrize("path", ["bulk", "row by row"])
def test_a_row_that_a_check_constraint_refuses_rolls_the_whole_batch_back(
    cluster, settings, change, constraint, path
):
    # given a file whose rows have passed every check of the importer but one of which breaks a
    # CHECK constraint of the table (as if a bug had let it through)
    settings.CLUSTER_BULK_REBUILD_AT = 2 if path == "bulk" else 1000
    report = parse_activity_file(four_w_csv([row(id=f"NRC-{n}") for n in range(2, 7)]), filename="4w.csv")
    good = report.rows[3]
    if change.get("recipient_org_id") == "implementing":
        change = {"recipient_org_id": good.implementing_org_id}
    report.rows[3] = good._replace(**change)
    counts = written()
    pragmas = sqlite_pragmas() if connection.vendor == "sqlite" else {}
    # when it is imported (in the bulk path, SQLite checks the constraints once after the insert)
    with pytest.raises(Conflict, match="refused the upload") as refused:
        activity_report_import(actor=None, report=report)
    # then the constraint refused it, by name (on SQLite, with the file line of the row), nothing
    # was written, and the constraints are checked again row by row
    assert isinstance(refused.value.__cause__, IntegrityError)
    assert constraint in str(refused.value)
    if connection.vendor == "sqlite" and path == "bulk":
        assert f"line {good.line} of the file" in str(refused.value)
    if connection.vendor == "sqlite":
        assert sqlite_pragmas() == pragmas
        assert pragmas["ignore_check_constraints"] == 0
    assert written() == counts
    report.rows[3] = good
    assert activity_report_import(actor=None, report=report).added == 5
    if connection.vendor == "sqlite":  # the page cache and the sorter's threads are as they were too
        assert sqlite_pragmas() == pragmas


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own table definition")
def test_the_check_constraints_are_read_from_the_table_definition(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [bulk.TABLE])
        clauses = dict(bulk.check_clauses(cursor.fetchone()[0]))
    named = {c.name for c in ActivityRow._meta.constraints if isinstance(c, models.CheckConstraint)}
    assert named <= set(clauses)
    assert set(clauses) - named == {'"line" >= 0', '(JSON_VALID("extra") OR "extra" IS NULL)'}
    assert clauses["activityrow_status_known"] == "\"status\" IN ('planned', 'ongoing', 'completed')"
    # names and strings that hold the word, or brackets, are not taken for constraints
    ddl = (
        'CREATE TABLE t ("checked" int CHECK ("checked" IN (0, 1)), note text DEFAULT \'CHECK (x)\', '
        '[CHECK(] int, CONSTRAINT t_positive CHECK (("checked" + length(note)) >= 0))'
    )
    assert bulk.check_clauses(ddl) == [
        ('"checked" IN (0, 1)', '"checked" IN (0, 1)'),
        ("t_positive", '("checked" + length(note)) >= 0'),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_counted_in_row_that_is_gone_is_refused_too(cluster, settings):
    # given a file whose rows were paired in memory, one of them pointing at a row that is not there
    settings.CLUSTER_BULK_REBUILD_AT = 2
    report = parse_activity_file(four_w_csv([row(id=f"NRC-{n}") for n in range(4)]), filename="4w.csv")
    counts = written()
    real = bulk.pairs_within

    def broken(rows, ids):
        return {**real(rows, ids), 0: ids[-1] + 1000}

    # when it is imported, then the key of the row it is counted in refuses it, and nothing is kept
    bulk.pairs_within = broken
    try:
        with pytest.raises(Conflict, match="refused the upload"):
            activity_report_import(actor=None, report=report)
    finally:
        bulk.pairs_within = real
    assert written() == counts
    assert counts[:2] == (0, 0)
    assert enforced()


@pytest.mark.django_db(transaction=True)
def test_an_import_inside_a_transaction_keeps_the_keys_enforced(cluster, settings):
    # given the bulk path, and an import made inside an outer transaction (SQLite cannot switch
    # its foreign keys off there)
    settings.CLUSTER_BULK_REBUILD_AT = 2
    report = parse_activity_file(four_w_csv([row(id=f"NRC-{n}") for n in range(4)]), filename="4w.csv")
    with transaction.atomic():
        result = activity_report_import(actor=None, report=report)
        assert enforced()
    # then it went in by the bulk path with the keys checked row by row
    assert rebuilt(result)
    assert "check foreign keys" not in result.timings
    assert ActivityRow.objects.count() == 4


def test_ids_after_a_reverted_bulk_batch_do_not_collide(upload, cluster, bulk_path):
    # given a bulk batch, then a second bulk batch that adds rows and withdraws one, reverted
    first = upload([row(id=f"NRC-{n}") for n in range(4)])
    second = upload([*(row(id=f"IRW-{n}", prog="IRW") for n in range(6)), row(id="NRC-0", action="Delete")])
    assert rebuilt(first)
    assert rebuilt(second)
    assert second.withdrawn == 1
    removed = set(ActivityRow.objects.filter(batch_id=second.batch_id).values_list("pk", flat=True))
    import_batch_revert(actor=None, batch_id=second.batch_id)
    assert not ActivityRow.objects.filter(pk__in=removed).exists()
    # when a third bulk batch adds rows, updates one and withdraws one
    third = upload(
        [
            *(row(id=f"UNHCR-{n}", prog="UNHCR") for n in range(8)),
            row(id="NRC-1", qty="55"),
            row(id="NRC-2", action="Delete"),
        ]
    )
    assert rebuilt(third)
    assert (third.added, third.updated, third.withdrawn) == (8, 1, 1)
    # then its versions took new ids, above every id ever given, and each is used once
    new = list(ActivityRow.objects.filter(batch_id=third.batch_id).values_list("pk", flat=True))
    assert len(new) == len(set(new)) == 10
    assert min(new) > max(removed)
    # and the current rows are those of the first and third batches
    current = ActivityRow.objects.filter(replaced_in__isnull=True)
    assert current.count() == 4 + 8
    assert current.filter(withdrawn=True).get().row_id == "NRC-2"
    assert current.get(row_id="NRC-1").quantity == 55


def test_the_same_rows_again_after_a_bulk_import_change_nothing(upload, cluster, bulk_path):
    # given a file of rows of several partners, pairs among them, imported by the bulk path
    rows = random_rows(1, 60)
    result = upload(rows)
    assert rebuilt(result)
    assert result.added == 60
    assert result.set_aside > 0
    state = sorted(
        ActivityRow.objects.values_list("pk", "row_id", "digest", "counted_in_id", "replaced_in_id")
    )
    counts = written()
    # when the same file comes again, the same rows in another order, and the same rows in a workbook
    again = upload(rows)
    reordered = upload(list(reversed(rows)), filename="reordered.csv")
    workbook = upload(data=four_w_xlsx({"4W": table(rows)}), filename="4w.xlsx")
    # then each changes nothing and writes nothing, and says so
    for repeat in (again, reordered, workbook):
        assert not repeat.changed
        assert repeat.unchanged == 60
        assert repeat.batch_id is None
        assert "Nothing to change" in repeat.summary()
    assert again.previous_batch_id == result.batch_id
    assert written() == counts
    assert (
        sorted(ActivityRow.objects.values_list("pk", "row_id", "digest", "counted_in_id", "replaced_in_id"))
        == state
    )


def sql_marks() -> dict[int, int | None]:
    return dict(ActivityRow.objects.filter(replaced_in__isnull=True).values_list("pk", "counted_in_id"))


a_pair_row = st.fixed_dictionaries(
    {
        "reporting": st.sampled_from(ORGS[:4]),
        "prog": st.sampled_from(["", *ORGS[:4]]),
        "impl": st.sampled_from(["", *ORGS[:4]]),
        "funder": st.sampled_from(["", "", *ORGS[:4]]),
        "recipient": st.sampled_from(["", "", "", *ORGS[:4]]),
        "activity": st.sampled_from(["Tents distributed", "Blankets distributed"]),
        "adm3": st.sampled_from(PLACES[:2]),
        "end": st.sampled_from(["2005-11-20", "2005-12-20"]),
        "status": st.sampled_from(["completed", "ongoing"]),
    }
)


def pair_file(drawn: list[dict]) -> list[dict]:
    rows = []
    for n, values in enumerate(drawn):
        impl = values["impl"] or values["prog"] or values["reporting"]
        recipient = values["recipient"] if values["recipient"] != impl else ""
        rows.append(
            row(
                **{**values, "recipient": recipient},
                id=f"R-{n}",
                adm2="",
                hh="" if recipient else "10",
                qty=str(10 + n),
            )
        )
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(a_pair_row, min_size=1, max_size=24))
def test_the_rule_in_memory_gives_what_the_rule_in_sql_gives(upload, cluster, drawn):
    # given any file of rows, imported in one bulk batch into an empty table: the double-counting
    # rule is applied in memory, within the file, and written with the rows
    ActivityRow.objects.all().delete()
    ImportBatch.objects.all().delete()
    rows = pair_file(drawn)
    with override_settings(CLUSTER_BULK_REBUILD_AT=1):
        result = upload(rows)
    assert rebuilt(result)
    in_memory = sql_marks()
    assert result.set_aside == sum(1 for own in in_memory.values() if own is not None)
    # when the rule is applied again in SQL to the same stored rows, from scratch
    ActivityRow.objects.update(counted_in=None)
    orgs = set(ActivityRow.objects.values_list("reporting_org_id", flat=True))
    orgs |= set(ActivityRow.objects.values_list("implementing_org_id", flat=True))
    set_aside = len(bulk.recount_pairs(organisation_ids=orgs))
    # then every row is set aside in the same row, or kept, either way
    assert sql_marks() == in_memory
    assert set_aside == result.set_aside


@pytest.mark.parametrize("path", ["bulk", "row by row"])
def test_texts_and_columns_kept_aside_are_stored_as_read(upload, cluster, settings, path):
    # given rows whose texts mean something to a database's bulk formats (a tab, a backslash, the
    # words COPY's text format takes for NULL), and a column outside the schema, kept aside
    settings.CLUSTER_BULK_REBUILD_AT = 2 if path == "bulk" else 10**6
    texts = ["None", "\\N", "a\tb", "back\\slash", "Muzaffarabad مظفرآباد", 'say "hi"', "", "NULL"]
    columns = [*COLUMNS, ("Remarks", "", "remarks")]
    rows = [row(id=f"NRC-{n}", place=text, remarks=f"{text}!") for n, text in enumerate(texts)]
    # when they are imported
    result = upload(data=four_w_csv(rows, columns=columns))
    # then every text is stored as it was read, by either path
    assert (result.added, rebuilt(result)) == (len(texts), path == "bulk")
    stored = {
        r: (loc, extra) for r, loc, extra in ActivityRow.objects.values_list("row_id", "location", "extra")
    }
    assert stored == {f"NRC-{n}": (text, {"Remarks": f"{text}!"}) for n, text in enumerate(texts)}
    # and the same file again changes nothing: the stored rows read back as the file's
    assert upload(data=four_w_csv(rows, columns=columns)).changed is False


@pytest.mark.django_db(transaction=True)
def test_a_large_batch_is_vacuumed_once_committed_on_postgresql(cluster, settings):
    # given the bulk path
    settings.CLUSTER_BULK_REBUILD_AT = 2
    report = parse_activity_file(four_w_csv([row(id=f"NRC-{n}") for n in range(6)]), filename="4w.csv")
    # when a large batch is imported
    result = activity_report_import(actor=None, report=report)
    # then, on PostgreSQL, the table was vacuumed and analysed after the commit: its pages are
    # marked all-visible, so that the gap analysis reads the rows through the index alone
    vacuumed = "vacuum and analyse the table, after the commit" in result.timings
    assert vacuumed == (connection.vendor == "postgresql")
    if vacuumed:
        with connection.cursor() as cursor:
            cursor.execute("SELECT relallvisible, reltuples FROM pg_class WHERE relname = %s", [bulk.TABLE])
            visible, tuples = cursor.fetchone()
        assert (visible, tuples) == (1, 6)
    # and a small batch into the table is not
    small = parse_activity_file(four_w_csv([row(id="NRC-9")]), filename="small.csv")
    settings.CLUSTER_BULK_REBUILD_AT = 1000
    assert (
        "vacuum and analyse the table, after the commit"
        not in activity_report_import(actor=None, report=small).timings
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's vacuum after a large batch")
@pytest.mark.django_db(transaction=True)
def test_a_large_batch_inside_a_callers_transaction_is_vacuumed_once_that_commits(cluster, settings):
    # given the bulk path, and an import inside a caller's transaction
    settings.CLUSTER_BULK_REBUILD_AT = 2
    report = parse_activity_file(four_w_csv([row(id=f"NRC-{n}") for n in range(4)]), filename="4w.csv")
    step = "vacuum and analyse the table, after the commit"
    with transaction.atomic():
        result = activity_report_import(actor=None, report=report)
        # then nothing is vacuumed while the caller's transaction is open (VACUUM cannot run in one)
        assert step not in result.timings
        committed = result.timings["commit"]
    # and once it commits, the table is vacuumed, the import's own figures left as they were
    assert step in result.timings
    assert result.timings["commit"] == committed


@pytest.mark.django_db(transaction=True)
def test_others_current_tells_whether_other_batches_hold_current_rows_of_the_organisations(cluster, settings):
    settings.CLUSTER_BULK_REBUILD_AT = 2
    nrc = Organisation.objects.get(acronym="NRC")
    # given a first upload (the table's only batch, taken in bulk)
    first = activity_report_import(
        actor=None,
        report=parse_activity_file(four_w_csv([row(id=f"NRC-{n}") for n in range(4)]), filename="a.csv"),
    )
    assert rebuilt(first)
    # then no other batch holds rows, of any organisation
    assert not bulk.others_current(organisation_ids={nrc.pk}, batch_id=first.batch_id)
    # given a second upload of other rows of the same organisation
    second = activity_report_import(
        actor=None,
        report=parse_activity_file(four_w_csv([row(id=f"NRC-{n}") for n in range(4, 6)]), filename="b.csv"),
    )
    # then the first batch holds current rows of it, and of no organisation without rows
    assert bulk.others_current(organisation_ids={nrc.pk}, batch_id=second.batch_id)
    assert bulk.others_current(organisation_ids={nrc.pk}, batch_id=first.batch_id)
    other = Organisation.objects.exclude(pk=nrc.pk).first()
    assert not bulk.others_current(organisation_ids={other.pk}, batch_id=second.batch_id)
    assert not bulk.others_current(organisation_ids=set(), batch_id=second.batch_id)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL drops its primary key for a large batch"
)
@pytest.mark.django_db(transaction=True)
def test_an_id_taken_twice_is_refused_by_the_primary_key_added_back(cluster, settings, monkeypatch):
    # given rows stored by an earlier bulk batch, and ids reserved for the next one that collide
    # with them (as if a bug had drawn them twice)
    settings.CLUSTER_BULK_REBUILD_AT = 2
    first = parse_activity_file(four_w_csv([row(id=f"NRC-{n}") for n in range(3)]), filename="a.csv")
    assert rebuilt(activity_report_import(actor=None, report=first))
    before, counts = schema(), written()
    taken = min(ActivityRow.objects.values_list("id", flat=True))
    monkeypatch.setattr(bulk, "reserve_ids", lambda count: range(taken, taken + count))
    dropped = []
    real = bulk._IndexRebuild._primary_key
    monkeypatch.setattr(
        bulk._IndexRebuild,
        "_primary_key",
        lambda self, *args: dropped.append(real(self, *args)) or dropped[-1],
    )
    second = parse_activity_file(four_w_csv([row(id=f"NRC-{n}") for n in range(3, 9)]), filename="b.csv")
    # when the batch goes in without its primary key, then adding the key back refuses it
    with pytest.raises(Conflict, match="refused the upload") as refused:
        activity_report_import(actor=None, report=second)
    assert isinstance(refused.value.__cause__, IntegrityError)
    assert dropped == [("cluster_activityrow_pkey", "PRIMARY KEY (id)")]
    assert "cluster_activityrow_pkey" in str(refused.value)
    # and nothing was written, and the primary key, indexes and foreign keys are as they were
    assert written() == counts
    assert schema() == before
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [bulk.TABLE]
        )
        assert cursor.fetchone()[0] == 1
    # and with ids drawn as they should be, the batch goes in by the bulk path
    monkeypatch.undo()
    settings.CLUSTER_BULK_REBUILD_AT = 2
    assert rebuilt(activity_report_import(actor=None, report=second))
    assert ActivityRow.objects.count() == 9


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL drops its primary key for a large batch"
)
def test_the_primary_key_stays_while_a_key_not_dropped_points_at_the_table(db):
    rebuild = bulk._IndexRebuild(10)
    with connection.cursor() as cursor:
        keys = rebuild._foreign_keys(cursor)
        # the table's own key of counted_in points at it: dropped with the others, the primary key
        # may go too; kept, the primary key stays
        assert rebuild._primary_key(cursor, keys) == ("cluster_activityrow_pkey", "PRIMARY KEY (id)")
        own = [(name, definition) for name, definition in keys if "counted_in" not in definition]
        assert rebuild._primary_key(cursor, own) is None


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "index"])
def test_current_versions_are_read_alike_by_a_scan_and_through_the_index(upload, cluster, monkeypatch, scan):
    # given current versions of two organisations, a replaced version and a withdrawn one
    upload([row(id="NRC-1"), row(id="NRC-2", end="2005-12-20"), row(id="IRW-1", prog="IRW")])
    upload([row(id="NRC-1", qty="120")])
    upload([row(id="NRC-2", action="Delete")])
    # when SQLite is made to read them by a scan of the table, or through the index
    monkeypatch.setattr(bulk, "SCAN_SHARE", 10**6 if scan else 0)
    nrc = Organisation.objects.get(acronym="NRC")
    found = sorted(bulk.current_versions({nrc.pk}))
    # then they are the current versions of that organisation, typed as the ORM types them
    expected = sorted(
        ActivityRow.objects.filter(replaced_in__isnull=True, reporting_org_id=nrc.pk).values_list(
            "reporting_org_id", "row_id", "id", "digest", "withdrawn", "period", "implementing_org_id"
        )
    )
    assert found == expected
    assert [(r[1], r[4], r[5]) for r in found] == [
        ("NRC-1", False, dt.date(2005, 11, 1)),
        ("NRC-2", True, dt.date(2005, 12, 1)),
    ]
    assert all(type(r[4]) is bool and type(r[5]) is dt.date for r in found)
    assert list(bulk.current_versions(set())) == []


@pytest.mark.parametrize("path", ["bulk", "row by row"])
def test_the_rows_a_large_batch_sets_aside_are_marked_as_in_a_small_one(cluster, settings, path):
    # given a file of programming partners' rows and their implementing partners' own rows, some
    # pairing up (UNHCR-n with IRW-n) and some not (UNHCR-n of another month)
    settings.CLUSTER_BULK_REBUILD_AT = 2 if path == "bulk" else 10**6
    shelters = {"activity": "Transitional shelters built", "adm2": "PK522", "adm3": "PK52201"}
    rows = []
    for n in range(6):
        rows.append(
            row(id=f"UNHCR-{n}", prog="UNHCR", impl="IRW", qty=str(200 + n), hh=str(200 + n), **shelters)
        )
        month = "2005-12" if n % 2 == 0 else "2006-01"
        rows.append(
            row(id=f"IRW-{n}", reporting="IRW", prog="UNHCR", impl="IRW", qty="196", hh="196",
                start=f"{month}-01", end=f"{month}-20", **shelters)
        )  # fmt: skip
    for r in rows:
        if r["id"].startswith("UNHCR"):
            r.update(start="2005-12-01", end="2005-12-20")
    # when it is imported
    result = activity_report_import_file(actor=None, data=four_w_csv(rows), filename="4w.csv")
    # then each UNHCR row of a month IRW reported too is counted in IRW's row of that month, the
    # first one IRW has there (IRW-0); the rows of the other month are not set aside
    marks = dict(
        ActivityRow.objects.filter(counted_in__isnull=False).values_list("row_id", "counted_in__row_id")
    )
    assert marks == {f"UNHCR-{n}": "IRW-0" for n in range(6)}
    assert result.set_aside == 6
