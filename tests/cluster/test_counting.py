"""The double-counting rules, with the worked examples of the user guide (docs/user-guide/cluster.md).

Rule 1, pipeline: a row whose items were handed to another partner counts as delivered to that
partner, not as households reached; the partner's own distribution counts them.
Rule 2, programming and implementing partner: when both report one activity in one area and
reporting month, it counts once — the implementing partner's own row counts.
"""

from __future__ import annotations

from reliefops.cluster.models import ActivityRow
from reliefops.cluster.selectors import activity_totals, gap_by_area, selection
from reliefops.cluster.services import import_batch_revert
from tests.cluster.conftest import row


def totals(code: str):
    return next(t for t in activity_totals() if t.code == code)


def test_example_1_pipeline_items_count_once_where_the_partner_distributes_them(upload, cluster):
    # given IOM hands 500 tents to NRC in Allai, and NRC distributes 480 of them to 480 households
    upload(
        [
            row(id="IOM-17", prog="IOM", recipient="NRC", adm2="", adm3="PK50401", qty="500", hh=""),
            row(id="NRC-4", prog="NRC", adm2="", adm3="PK50401", qty="480", hh="480"),
        ]
    )
    # then the cluster delivered 480 tents to 480 households, and 500 went through the pipeline
    tents = totals("TENTS")
    assert (tents.quantity_reached, tents.households_reached, tents.quantity_to_partners) == (480, 480, 500)
    assert tents.quantity_as_reported == 980
    # and the gap table of Allai says the same
    [allai] = gap_by_area(selection(level="tehsil", activity="TENTS")).rows
    assert (allai.pcode, allai.reached, allai.quantity_reached, allai.quantity_to_partners) == (
        "PK50401",
        480,
        480,
        500,
    )


def test_example_2_programming_and_implementing_partner_reports_count_once(upload, cluster):
    # given UNHCR reports 200 transitional shelters in Bala Kot in December, implemented by IRW,
    # and IRW reports the same work: 196 shelters for UNHCR
    shelters = {"activity": "Transitional shelters built", "adm2": "", "adm3": "PK52201"}
    dates = {"start": "2005-12-01", "end": "2005-12-20"}
    upload([row(id="UNHCR-8", prog="UNHCR", impl="IRW", qty="200", hh="200", **shelters, **dates)])
    upload(
        [
            row(
                id="IRW-31",
                reporting="IRW",
                prog="UNHCR",
                impl="IRW",
                qty="196",
                hh="196",
                **shelters,
                **dates,
            )
        ]
    )
    # then the activity counts once, with the implementing partner's figure
    built = totals("T-SHELTERS")
    assert (built.quantity_reached, built.households_reached, built.quantity_as_reported) == (196, 196, 396)
    assert built.rows_set_aside == 1
    unhcr = ActivityRow.objects.get(row_id="UNHCR-8", replaced_in__isnull=True)
    assert unhcr.counted_in == ActivityRow.objects.get(row_id="IRW-31", replaced_in__isnull=True)


def test_example_2b_the_implementing_partner_may_name_the_programming_one_as_its_funder(upload, cluster):
    shelters = {"activity": "Transitional shelters built", "adm2": "", "adm3": "PK52201"}
    upload(
        [
            row(id="UNHCR-8", prog="UNHCR", impl="IRW", qty="200", hh="200", **shelters),
            row(id="IRW-31", prog="IRW", funder="UNHCR", qty="196", hh="196", **shelters),
        ]
    )
    assert totals("T-SHELTERS").quantity_reached == 196


def test_example_3_other_months_places_or_projects_are_not_the_same_activity(upload, cluster):
    # given UNHCR's row for IRW in December, and IRW's own rows in January, in another tehsil,
    # and for another funder (ECHO's project is not UNHCR's)
    shelters = {"activity": "Transitional shelters built", "adm2": "", "adm3": "PK52201"}
    irw = {"reporting": "IRW", "prog": "UNHCR", "impl": "IRW", "end": "2005-12-20"}
    upload(
        [
            row(id="UNHCR-8", prog="UNHCR", impl="IRW", qty="200", hh="200", end="2005-12-20", **shelters),
            row(
                id="IRW-40",
                qty="10",
                hh="10",
                **{**irw, "start": "2006-01-02", "end": "2006-01-10"},
                **shelters,
            ),
            row(id="IRW-41", qty="20", hh="20", **irw, **{**shelters, "adm3": "PK50401"}),
            row(id="IRW-42", reporting="IRW", prog="IRW", funder="DFID", qty="30", hh="30", **shelters),
        ]
    )
    # then every row counts
    assert totals("T-SHELTERS").quantity_reached == 260
    assert not ActivityRow.objects.filter(counted_in__isnull=False).exists()


def test_example_4_when_the_implementing_partner_withdraws_its_row_the_other_counts_again(upload, cluster):
    shelters = {"activity": "Transitional shelters built", "adm2": "", "adm3": "PK52201"}
    upload([row(id="UNHCR-8", prog="UNHCR", impl="IRW", qty="200", hh="200", **shelters)])
    irw = upload(
        [row(id="IRW-31", reporting="IRW", prog="UNHCR", impl="IRW", qty="196", hh="196", **shelters)]
    )
    assert totals("T-SHELTERS").quantity_reached == 196
    # when IRW withdraws its row, UNHCR's counts again
    upload([row(id="IRW-31", reporting="IRW", action="Delete")])
    assert totals("T-SHELTERS").quantity_reached == 200
    # and when the withdrawal and IRW's upload are reverted, UNHCR's is the only row left
    withdrawal = ActivityRow.objects.get(row_id="IRW-31", withdrawn=True).batch_id
    import_batch_revert(actor=None, batch_id=withdrawal)
    assert totals("T-SHELTERS").quantity_reached == 196
    import_batch_revert(actor=None, batch_id=irw.batch_id)
    assert totals("T-SHELTERS").quantity_reached == 200
    assert not ActivityRow.objects.filter(counted_in__isnull=False).exists()


def test_planned_rows_of_a_pair_are_targets_counted_once_too(upload, cluster):
    shelters = {"activity": "Transitional shelters built", "adm2": "", "adm3": "PK52201", "status": "planned"}
    upload(
        [
            row(id="UNHCR-9", prog="UNHCR", impl="IRW", qty="300", hh="300", **shelters),
            row(id="IRW-50", reporting="IRW", prog="UNHCR", impl="IRW", qty="280", hh="280", **shelters),
        ]
    )
    [balakot] = gap_by_area(selection(level="tehsil", activity="T-SHELTERS")).rows
    assert (balakot.targeted, balakot.reached, balakot.quantity_targeted) == (280, 0, 280)


def test_a_pair_counts_once_only_at_one_stage_done_work_is_never_set_aside_into_a_plan(upload, cluster):
    # given UNHCR reports 200 shelters completed in Bala Kot that IRW implements, and IRW reports
    # only a plan of 25 more for UNHCR in the same month
    shelters = {"activity": "Transitional shelters built", "adm2": "", "adm3": "PK52201"}
    upload([row(id="UNHCR-8", prog="UNHCR", impl="IRW", qty="200", hh="200", **shelters)])
    upload(
        [
            row(
                id="IRW-32", reporting="IRW", prog="UNHCR", impl="IRW", qty="25", hh="25", status="planned",
                **shelters,
            )
        ]
    )  # fmt: skip
    # then UNHCR's completed work is still reached, and IRW's plan is a target: nothing set aside
    [balakot] = gap_by_area(selection(level="tehsil", activity="T-SHELTERS")).rows
    assert (balakot.reached, balakot.targeted) == (200, 25)
    assert not ActivityRow.objects.filter(counted_in__isnull=False).exists()
    # and when IRW reports the completed work too, the pair counts once, with IRW's figure
    upload(
        [
            row(
                id="IRW-32", reporting="IRW", prog="UNHCR", impl="IRW", qty="25", hh="25", status="planned",
                **shelters,
            ),
            row(id="IRW-31", reporting="IRW", prog="UNHCR", impl="IRW", qty="196", hh="196", **shelters),
        ]
    )  # fmt: skip
    [balakot] = gap_by_area(selection(level="tehsil", activity="T-SHELTERS")).rows
    assert (balakot.reached, balakot.targeted) == (196, 25)
    # and when IRW withdraws its completed row, UNHCR's counts again, not set aside into the plan
    upload([row(id="IRW-31", reporting="IRW", action="Delete")])
    [balakot] = gap_by_area(selection(level="tehsil", activity="T-SHELTERS")).rows
    assert (balakot.reached, balakot.targeted) == (200, 25)
    assert not ActivityRow.objects.filter(counted_in__isnull=False, replaced_in__isnull=True).exists()


def test_within_one_file_done_work_is_not_set_aside_into_a_plan(upload, cluster):
    shelters = {"activity": "Transitional shelters built", "adm2": "", "adm3": "PK52201"}
    result = upload(
        [
            row(id="UNHCR-8", prog="UNHCR", impl="IRW", qty="200", hh="200", **shelters),
            row(
                id="IRW-32", reporting="IRW", prog="UNHCR", impl="IRW", qty="25", hh="25", status="ongoing",
                **shelters,
            ),
        ]
    )  # fmt: skip
    assert result.set_aside == 0
    [balakot] = gap_by_area(selection(level="tehsil", activity="T-SHELTERS")).rows
    assert (balakot.reached, balakot.targeted) == (200, 25)


def test_the_upgrade_sets_the_marks_of_rows_stored_before_by_the_stage_rule(upload, cluster):
    # given a completed row set aside into a partner's plan, as the rule stored it before
    import importlib

    from django.apps import apps

    shelters = {"activity": "Transitional shelters built", "adm2": "", "adm3": "PK52201"}
    upload(
        [
            row(id="UNHCR-8", prog="UNHCR", impl="IRW", qty="200", hh="200", **shelters),
            row(
                id="IRW-32", reporting="IRW", prog="UNHCR", impl="IRW", qty="25", hh="25", status="planned",
                **shelters,
            ),
        ]
    )  # fmt: skip
    plan = ActivityRow.objects.get(row_id="IRW-32")
    ActivityRow.objects.filter(row_id="UNHCR-8").update(counted_in=plan)
    # when the migration runs, then the completed row counts again
    migration = importlib.import_module("reliefops.cluster.migrations.0004_pairs_by_stage")
    migration.pair_again(apps, None)
    assert ActivityRow.objects.get(row_id="UNHCR-8").counted_in_id is None
    [balakot] = gap_by_area(selection(level="tehsil", activity="T-SHELTERS")).rows
    assert (balakot.reached, balakot.targeted) == (200, 25)
