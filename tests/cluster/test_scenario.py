"""The Kashmir 2005 scenario's cluster picture: needs per district (illustrative), and partners'
reports whose totals, after the double-counting rules, are exactly the cluster's published figures."""

from __future__ import annotations

import io
import json

import pytest
from django.db.models import Count, Q, Sum

from reliefops.cluster.models import ActivityRow, ImportBatch, NeedsBaseline, ReportingPeriod
from reliefops.cluster.selectors import activity_totals, gap_by_area, headline_figures, selection
from reliefops.scenarios.base import StepContext, run_steps
from reliefops.scenarios.kashmir2005 import DATA_DIR, REFERENCE_STEPS
from reliefops.scenarios.kashmir2005 import cluster_history as history

CLUSTER_STEPS = [history.load_cluster_reference, history.load_cluster_needs, history.load_cluster_reports]

# One worker runs the module (`--dist loadgroup`), so its steps are loaded once.
pytestmark = pytest.mark.xdist_group("cluster-scenario")


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The scenario's reference data and its cluster steps, loaded once for the module."""
    with django_db_blocker.unblock():
        out = io.StringIO()
        run_steps(
            scenario="kashmir-2005",
            steps=[*REFERENCE_STEPS, *CLUSTER_STEPS],
            context=StepContext(DATA_DIR, out),
        )
        yield out.getvalue()
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


def test_the_data_files_are_what_the_plan_writes(tmp_path):
    for path in history.write_files(tmp_path):
        assert path.read_bytes() == (DATA_DIR / path.name).read_bytes(), f"{path.name}: write_files() again"


@pytest.mark.django_db
def test_totals_after_the_rules_are_the_published_figures(loaded):
    published = json.loads((DATA_DIR / "published-figures.json").read_text())["emergency_shelter_cluster"]
    figures = headline_figures()
    assert figures == {**published, "cgi_sheets_delivered_more_than": history.CGI_STATED}
    assert figures["cgi_sheets_delivered_more_than"] > published["cgi_sheets_delivered_more_than"]


@pytest.mark.django_db
def test_without_the_rules_the_reports_would_count_more(loaded):
    # the pipeline rows and the programming partners' rows are there, and set apart
    live = ActivityRow.objects.filter(replaced_in__isnull=True, withdrawn=False)
    assert live.filter(recipient_org__isnull=False).count() >= 30
    assert live.filter(counted_in__isnull=False).count() >= 80
    for total in activity_totals():
        if total.code in history.PUBLISHED:
            assert total.quantity_as_reported > total.quantity_reached, total.code
            assert total.quantity_to_partners > 0 or total.code == "T-SHELTERS", total.code


@pytest.mark.django_db
def test_dozens_of_organisations_and_thousands_of_rows(loaded):
    live = ActivityRow.objects.filter(replaced_in__isnull=True, withdrawn=False)
    assert live.count() >= 2500
    assert live.values("reporting_org").distinct().count() >= 30
    assert ImportBatch.objects.count() == 3
    # rows entered twice in the first round were deleted in the second
    assert ActivityRow.objects.filter(replaced_in__isnull=True, withdrawn=True).count() == 24


@pytest.mark.django_db
def test_more_was_delivered_in_ajk_than_in_nwfp(loaded):
    counted = Q(
        replaced_in__isnull=True, withdrawn=False, recipient_org__isnull=True, counted_in__isnull=True
    )
    by_province = dict(
        ActivityRow.objects.filter(counted, status="completed", activity__code="T-SHELTERS")
        .values_list("adm1")
        .annotate(n=Sum("quantity"))
    )
    assert by_province["PK1"] > by_province["PK5"]


@pytest.mark.django_db
def test_needs_are_derived_from_published_totals_and_marked_illustrative(loaded):
    needs = NeedsBaseline.objects.aggregate(
        hit=Sum("households_in_need"), destroyed=Sum("houses_destroyed"), damaged=Sum("houses_damaged")
    )
    assert needs == {"hit": 611_000, "destroyed": 463_000, "damaged": 148_000}
    assert not NeedsBaseline.objects.filter(illustrative=False).exists()
    by_province = dict(NeedsBaseline.objects.values_list("adm1").annotate(n=Sum("households_in_need")))
    households = dict(NeedsBaseline.objects.values_list("adm1").annotate(n=Sum("households")))
    assert by_province["PK1"] > by_province["PK5"]
    assert by_province["PK1"] / households["PK1"] == pytest.approx(0.84, abs=0.005)
    assert by_province["PK5"] / households["PK5"] == pytest.approx(0.36, abs=0.005)
    report = gap_by_area(selection(level="district", activity="T-SHELTERS"))
    assert report.illustrative
    assert all(0 < r.coverage < 1.2 for r in report.rows if r.in_need)


@pytest.mark.django_db
def test_the_winter_months_are_locked_and_the_districts_outlined(loaded):
    assert ReportingPeriod.objects.filter(locked=True).count() == 4
    from reliefops.cluster.models import AreaBoundary

    assert AreaBoundary.objects.count() == 17


@pytest.mark.django_db
def test_loading_again_changes_nothing(loaded):
    before = (
        ActivityRow.objects.count(),
        ImportBatch.objects.count(),
        NeedsBaseline.objects.aggregate(n=Count("id")),
    )
    from reliefops.core.models import AuditEvent

    events = AuditEvent.objects.count()
    out = io.StringIO()
    run_steps(scenario="kashmir-2005", steps=CLUSTER_STEPS, context=StepContext(DATA_DIR, out))
    assert (
        ActivityRow.objects.count(),
        ImportBatch.objects.count(),
        NeedsBaseline.objects.aggregate(n=Count("id")),
    ) == before
    assert AuditEvent.objects.count() == events
    assert "already loaded" in out.getvalue()
