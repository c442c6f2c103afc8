"""The bulk paths of the import: large batches that rebuild the indexes, the double-counting rule
applied within a file equal to the rule applied in the database, ids after a revert."""

from __future__ import annotations

import random

import pytest
from django.db import IntegrityError, connection, transaction

from reliefops.cluster.models import ActivityRow
from reliefops.cluster.services import bulk, import_batch_revert
from tests.cluster.conftest import row

ORGS = ["NRC", "IRW", "UNHCR", "IOM", "Oxfam"]
PLACES = ["PK50401", "PK50402", "PK52201"]


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        return {
            name
            for name, info in connection.introspection.get_constraints(cursor, "cluster_activityrow").items()
            if info["index"]
        }


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


def test_a_large_batch_rebuilds_the_indexes_and_they_still_hold(upload, cluster, monkeypatch):
    # given the threshold at which a batch rebuilds the indexes lowered to 1 row
    monkeypatch.setattr(bulk, "REBUILD_AT", 1)
    before = index_names()
    # when a batch is uploaded, then its rows are in and every index is back
    upload([row(id=f"NRC-{n}") for n in range(5)])
    assert ActivityRow.objects.count() == 5
    assert index_names() == before
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
    from reliefops.cluster.services.reports import ReportRow

    names = {"action": "withdrawn", "site_id": "site_id"}
    assert [names.get(f, f) for f in ReportRow._fields] == list(bulk._ROW_AS_COLUMNS)


def test_the_rule_within_a_file_reads_the_fields_it_means():
    from reliefops.cluster.services.reports import ReportRow

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
