"""The cluster's web pages: who may open which, the gap table with its coverage map, upload with
preview then commit, problems shown, batches with revert, needs marked illustrative."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reliefops.cluster.importers import needs_import_file
from reliefops.cluster.models import ActivityRow, ImportBatch, ReportingPeriod
from reliefops.cluster.services import boundaries_import
from reliefops.core.models import AuditEvent, Job
from reliefops.core.roles import ROLE_RIGHTS, Right, Role
from tests.cluster.conftest import four_w_csv, paired_rows, row
from tests.jobs_worker import run_jobs

ROLES = [*Role, None]
CONFIRMED = {"confirm": "yes"}  # the tick that says the person knows what a revert undoes
PAGES = [
    ("gaps", "cluster:cluster-gaps", Right.VIEW_CLUSTER),
    ("matrix", "cluster:cluster-matrix", Right.VIEW_CLUSTER),
    ("totals", "cluster:cluster-totals", Right.VIEW_CLUSTER),
    ("needs", "cluster:cluster-needs", Right.VIEW_CLUSTER),
    ("periods", "cluster:cluster-periods", Right.VIEW_CLUSTER),
    ("rows", "cluster:cluster-rows", Right.REPORT_ACTIVITIES),
    ("upload", "cluster:cluster-upload", Right.REPORT_ACTIVITIES),
    ("batches", "cluster:cluster-batches", Right.REPORT_ACTIVITIES),
]
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[73.0, 34.5], [73.3, 34.5], [73.3, 34.9], [73.0, 34.9], [73.0, 34.5]]],
}


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def picture(cluster, upload):
    needs_import_file(
        actor=None,
        data=b"P,N,I\n#adm2+code,#inneed+hh,#meta+illustrative\nPK504,400,yes\nPK107,300,yes\n",
        filename="needs.csv",
    )
    feature = {"type": "Feature", "properties": {"pcode": "PK504"}, "geometry": SQUARE}
    south = {"type": "Polygon", "coordinates": [[[x, y - 0.5] for x, y in SQUARE["coordinates"][0]]]}
    beside = {"type": "Feature", "properties": {"pcode": "PK107"}, "geometry": south}
    geojson = json.dumps({"type": "FeatureCollection", "features": [feature, beside]})
    boundaries_import(
        actor=None, data=geojson.encode(), attribution="Boundaries: OCHA / WFP, COD-AB, CC BY-IGO."
    )
    return upload([row(id="NRC-1", hh="100"), row(id="IOM-1", prog="IOM", recipient="NRC", hh="")])


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
@pytest.mark.parametrize(("page_id", "name", "right"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_answers_every_role_as_the_rights_table_says(
    picture, cluster, client_as, role, page_id, name, right
):
    scope = {"organisation": cluster.nrc} if role == Role.PARTNER_REPORTER else {}
    response = client_as(role, **scope).get(reverse(name))
    if role is None:
        assert response.status_code == 302
    elif right in ROLE_RIGHTS[role]:
        assert response.status_code == 200, text(response)[:500]
    else:
        assert response.status_code == 403


def test_the_cluster_section_is_in_the_navigation_of_those_who_may_see_it(picture, client_as):
    assert 'href="/cluster/"' in text(client_as(Role.VIEWER).get("/"))
    assert 'href="/cluster/"' not in text(client_as(Role.HUB_MANAGER).get("/"))
    viewer = text(client_as(Role.VIEWER).get(reverse("cluster:cluster-gaps")))
    assert ">Gaps and map<" in viewer
    assert ">Upload<" not in viewer
    assert ">Upload<" in text(client_as(Role.COORDINATOR).get(reverse("cluster:cluster-gaps")))


def test_the_gap_page_shows_the_table_the_map_and_the_illustrative_mark(picture, client_as):
    page = text(client_as(Role.VIEWER).get(reverse("cluster:cluster-gaps"), {"activity": "TENTS"}))
    assert "Illustrative needs." in page
    assert re.search(r"PK504</span> Batagram", page)
    assert "25%" in page
    # the map is inline SVG drawn from the stored outline, with its attribution, and nothing remote
    assert '<svg class="coverage-map"' in page
    assert 'data-pcode="PK504"' in page
    assert "Batagram (PK504): 100 of 400 households reached (25%); need illustrative" in page
    assert "Boundaries: OCHA / WFP, COD-AB, CC BY-IGO." in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # Muzaffarabad has a need and no partner
    assert "Areas with no partner" in page
    assert re.search(r"PK107</span> Muzaffarabad — <strong>300</strong> households in need", page)
    # and on the map it is coloured "no partner", its tooltip saying so with its need
    assert re.search(
        r'class="area area-none" data-pcode="PK107"><title>'
        r"Muzaffarabad \(PK107\): no partner; 300 households in need",
        page,
    )
    assert ">no partner</li>" in page


def test_the_gap_page_exports_what_it_shows(picture, client_as):
    response = client_as(Role.VIEWER).get(
        reverse("cluster:cluster-gaps"), {"activity": "TENTS", "format": "hxl"}
    )
    assert response["Content-Disposition"] == 'attachment; filename="cluster-gaps-district-hxl.csv"'
    assert "#inneed+hh" in text(response)


def test_a_bad_selection_is_said_plainly(picture, client_as):
    response = client_as(Role.VIEWER).get(
        reverse("cluster:cluster-gaps"), {"level": "district", "within": "PK504"}
    )
    assert response.status_code == 422
    assert re.search(
        r'id="id_within".*?<span class="field-error">Batagram \(PK504\) is not an area above the district '
        r"level; show the tehsil level within it, or choose a wider area</span>",
        text(response),
        re.S,
    )


BAD_FILTERS = [
    pytest.param("cluster:cluster-gaps", {"activity": "NOPE"}, ["activity"], id="gaps-activity"),
    pytest.param("cluster:cluster-gaps", {"within": "PK999"}, ["within"], id="gaps-within"),
    pytest.param("cluster:cluster-gaps", {"period_from": "2005-13"}, ["period_from"], id="gaps-month"),
    pytest.param("cluster:cluster-gaps", {"level": "village"}, ["level"], id="gaps-level"),
    pytest.param("cluster:cluster-matrix", {"activity": "NOPE"}, ["activity"], id="matrix-activity"),
    pytest.param("cluster:cluster-matrix", {"within": "PK999"}, ["within"], id="matrix-within"),
    pytest.param(
        "cluster:cluster-rows", {"status": "bogus", "within": "PK999"}, ["status", "within"], id="rows"
    ),
    pytest.param("cluster:cluster-rows", {"activity": "NOPE"}, ["activity"], id="rows-activity"),
    pytest.param("cluster:cluster-rows", {"organisation": "XYZ"}, ["organisation"], id="rows-organisation"),
]


@pytest.mark.parametrize(("name", "query", "fields"), BAD_FILTERS)
def test_a_filter_value_that_is_not_one_is_said_beside_its_field_and_nothing_is_shown(
    picture, client_as, name, query, fields
):
    client = client_as(Role.COORDINATOR)
    # when a page is asked for with a mistyped filter
    response = client.get(reverse(name), query)
    page = text(response)
    # then it answers 422, each bad value's reason beside its field, and no figure and no row
    assert response.status_code == 422
    for field in fields:
        assert re.search(rf'id="id_{field}".*?<span class="field-error">[^<]+</span>', page, re.S), field
    assert "every activity" not in page
    assert "Gap table" not in page
    assert "NRC-1" not in page
    assert "Nothing is shown for these filters" in page or "No row is listed for these filters" in page
    # and its downloads are refused the same way
    for fmt in ("csv", "xlsx", "hxl"):
        download = client.get(reverse(name), {**query, "format": fmt})
        assert download.status_code == 422
        assert "Content-Disposition" not in download


def test_the_filters_name_what_is_wrong(picture, client_as):
    client = client_as(Role.COORDINATOR)
    gaps = text(client.get(reverse("cluster:cluster-gaps"), {"activity": "NOPE"}))
    assert "&#x27;NOPE&#x27; is not an activity; choose one from the list" in gaps
    rows = text(client.get(reverse("cluster:cluster-rows"), {"status": "bogus", "within": "PK999"}))
    assert (
        "&#x27;bogus&#x27; is not a status (planned, ongoing or completed); choose one from the list" in rows
    )
    refused = (
        "&#x27;PK999&#x27; is not the P-code of a province, district or tehsil; choose one from the list"
    )
    assert refused in rows


def test_a_batch_that_does_not_exist_is_named_by_its_number(cluster, client_as):
    # given no batch 7, when its page is opened or it is reverted, then 404 names it as people do
    client = client_as(Role.COORDINATOR)
    for response in (
        client.get(reverse("cluster:cluster-batch", args=[7])),
        client.post(reverse("cluster:cluster-batch-revert", args=[7])),
    ):
        assert response.status_code == 404
        assert "No import batch 7." in text(response)
        assert "pk=" not in text(response)


def test_the_matrix_and_totals_pages(picture, client_as):
    client = client_as(Role.VIEWER)
    matrix = text(client.get(reverse("cluster:cluster-matrix"), {"activity": "all"}))
    assert "NRC" in matrix
    assert "TENTS" in matrix
    totals = text(client.get(reverse("cluster:cluster-totals")))
    assert "tents_delivered" in totals


def test_upload_preview_then_commit(cluster, client_as):
    client = client_as(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    file = SimpleUploadedFile("nrc.csv", four_w_csv([row(id="NRC-1"), row(id="NRC-2", qty="40")]))
    # the upload answers at once with the page of the job that previews it
    uploaded = client.post(reverse("cluster:cluster-upload"), {"file": file})
    assert uploaded.status_code == 302
    run_jobs()
    page = text(client.get(uploaded["Location"]))
    assert "Preview: 2 added" in page
    assert not ActivityRow.objects.exists()
    preview = re.search(r'name="preview" value="(\d+)"', page)[1]
    committed = client.post(reverse("cluster:cluster-upload-commit"), {"preview": preview})
    assert committed.status_code == 302
    # applying it twice is one job
    again = client.post(reverse("cluster:cluster-upload-commit"), {"preview": preview})
    assert again["Location"] == committed["Location"]
    run_jobs()
    batch = ImportBatch.objects.get()
    assert ActivityRow.objects.count() == 2
    done = text(client.get(committed["Location"]))
    assert "2 added" in done
    assert reverse("cluster:cluster-batch", args=[batch.pk]) in done
    detail = text(client.get(reverse("cluster:cluster-batch", args=[batch.pk])))
    assert "Batch " in detail
    assert "NRC-2" in detail


def test_the_applied_upload_says_which_of_its_rows_are_set_aside(cluster, client_as):
    client = client_as(Role.COORDINATOR)
    uploaded = client.post(
        reverse("cluster:cluster-upload"), {"file": SimpleUploadedFile("pair.csv", four_w_csv(paired_rows()))}
    )
    run_jobs()
    preview = re.search(r'name="preview" value="(\d+)"', text(client.get(uploaded["Location"])))[1]
    committed = client.post(reverse("cluster:cluster-upload-commit"), {"preview": preview})
    run_jobs()
    done = text(client.get(committed["Location"]))
    assert "1 of the 2 rows this upload added or updated is set aside: it is counted in its" in done


def test_a_second_apply_that_waited_for_the_first_gets_its_job(cluster, client_as, monkeypatch):
    from django.db import transaction

    from reliefops.cluster import jobs as cluster_jobs

    client = client_as(Role.COORDINATOR)
    client.post(reverse("cluster:cluster-upload"), {"file": SimpleUploadedFile("a.csv", four_w_csv([row()]))})
    run_jobs()
    preview = Job.objects.get()
    # given a second click whose request waits to write (SQLite's one writer) while the first's
    # commit job is started and its file taken from the preview
    first: list[object] = []
    real_atomic = transaction.atomic

    def first_click_writes_first(*args, **kwargs):
        if not first:
            first.append(None)  # the first click's own transaction is a plain one
            first[0] = cluster_jobs.upload_commit_start(owner=preview.owner, preview=preview)
        return real_atomic(*args, **kwargs)

    monkeypatch.setattr(cluster_jobs.transaction, "atomic", first_click_writes_first)
    second = client.post(reverse("cluster:cluster-upload-commit"), {"preview": preview.pk})
    # then it is sent to the job the first started, not told to upload the file again
    assert second.status_code == 302
    assert second["Location"] == reverse("jobs:job-detail", args=[first[0].job.pk])


def test_a_refused_upload_lists_its_problems_and_writes_nothing(cluster, client_as):
    client = client_as(Role.COORDINATOR)
    file = SimpleUploadedFile(
        "bad.csv", four_w_csv([row(adm2="PK5O4"), row(id="X", impl="Norwegian Refugee Counsel")])
    )
    response = client.post(reverse("cluster:cluster-upload"), {"file": file})
    run_jobs()
    page = text(client.get(response["Location"]))
    assert "Nothing was written." in page
    assert "&#x27;PK5O4&#x27; is not a P-code; did you mean PK504 (Batagram)?" in page
    assert "did you mean Norwegian Refugee Council (NRC)?" in page
    assert not ActivityRow.objects.exists()


def test_a_partner_may_not_commit_anothers_preview(cluster, client_as):
    owner = client_as(Role.COORDINATOR)
    file = SimpleUploadedFile("a.csv", four_w_csv([row()]))
    owner.post(reverse("cluster:cluster-upload"), {"file": file})
    run_jobs()
    preview = Job.objects.get()
    other = client_as(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    assert other.post(reverse("cluster:cluster-upload-commit"), {"preview": preview.pk}).status_code == 404
    assert other.get(reverse("jobs:job-detail", args=[preview.pk])).status_code == 404
    assert not ActivityRow.objects.exists()


def _batch_page(client, batch_id) -> str:
    return text(client.get(reverse("cluster:cluster-batch", args=[batch_id])))


def _changes_listed(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<td class="code">([^<]+)</td><td class="change">(\w+)</td>', page)


def test_the_page_of_a_batch_that_only_updates_says_it_updated(cluster, client_as, upload):
    # given a batch that updated one row and added none
    upload([row(id="NRC-1")])
    update = upload([row(id="NRC-1", qty="90")])
    assert (update.added, update.updated) == (0, 1)
    # when its page is opened
    page = _batch_page(client_as(Role.COORDINATOR), update.batch_id)
    # then it counts and lists the row as updated, not added
    assert "Rows it added" not in page.replace("Rows it added, updated or withdrawn", "")
    assert re.search(r'Rows it added, updated or withdrawn <span class="count">1</span>', page)
    assert _changes_listed(page) == [("NRC-1", "updated")]


def test_the_page_of_a_batch_says_what_it_did_to_each_row(cluster, client_as, upload):
    # given rows added, updated, withdrawn, and one written again after its withdrawal
    upload([row(id="NRC-1"), row(id="NRC-2"), row(id="NRC-3")])
    upload([row(id="NRC-3", action="Delete")])
    batch = upload(
        [row(id="NRC-1", qty="90"), row(id="NRC-2", action="Delete"), row(id="NRC-3"), row(id="NRC-4")]
    )
    page = _batch_page(client_as(Role.COORDINATOR), batch.batch_id)
    assert re.search(r'Rows it added, updated or withdrawn <span class="count">4</span>', page)
    assert _changes_listed(page) == [
        ("NRC-1", "updated"),
        ("NRC-2", "withdrawn"),
        ("NRC-3", "added"),
        ("NRC-4", "added"),
    ]


def test_batches_list_and_revert(picture, client_as):
    client = client_as(Role.COORDINATOR)
    listing = text(client.get(reverse("cluster:cluster-batches")))
    batch = ImportBatch.objects.get()
    assert "4w.csv" in listing
    response = client.post(reverse("cluster:cluster-batch-revert", args=[batch.pk]), CONFIRMED)
    assert response.status_code == 302
    assert not ActivityRow.objects.exists()
    follow = text(client.get(response["Location"]))
    assert "reverted" in follow.lower()
    # a second revert is refused with the reason
    again = client.post(reverse("cluster:cluster-batch-revert", args=[batch.pk]), CONFIRMED, follow=True)
    assert "already reverted" in text(again)


def test_revert_is_refused_to_get_requests(picture, client_as):
    batch = ImportBatch.objects.get()
    assert (
        client_as(Role.COORDINATOR).get(reverse("cluster:cluster-batch-revert", args=[batch.pk])).status_code
        == 405
    )


def test_a_partner_sees_only_its_own_rows_and_batches(picture, cluster, client_as, upload):
    upload([row(id="IRW-9", prog="IRW")], reporting_org_id=cluster.irw.pk)
    client = client_as(Role.PARTNER_REPORTER, organisation=cluster.irw)
    rows = text(client.get(reverse("cluster:cluster-rows")))
    assert "IRW-9" in rows
    assert "NRC-1" not in rows
    nrc_batch = ImportBatch.objects.exclude(organisation=cluster.irw).first()
    assert client.get(reverse("cluster:cluster-batch", args=[nrc_batch.pk])).status_code == 403
    assert (
        client.post(reverse("cluster:cluster-batch-revert", args=[nrc_batch.pk]), CONFIRMED).status_code
        == 403
    )


def test_a_partner_opens_and_reverts_the_coordinators_batch_of_its_own_rows(cluster, client_as, upload):
    # given the coordinator's upload of NRC's rows alone, and a consolidated one of several organisations
    coordinator = client_as(Role.COORDINATOR)
    own = upload([row(id="NRC-1", reporting="NRC")], actor=None)
    several = upload([row(id="NRC-2", reporting="NRC"), row(id="IRW-2", reporting="IRW", prog="IRW")])
    assert coordinator.get(reverse("cluster:cluster-batch", args=[own.batch_id])).status_code == 200
    # when NRC's reporter opens its rows
    client = client_as(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    rows = text(client.get(reverse("cluster:cluster-rows")))
    # then the batch of its rows alone is a link, the consolidated one plain text
    assert (
        f'<a href="{reverse("cluster:cluster-batch", args=[own.batch_id])}">batch {own.batch_id}</a>' in rows
    )
    assert f"batch {several.batch_id}, row 3" in rows
    assert reverse("cluster:cluster-batch", args=[several.batch_id]) not in rows
    # and it may revert the batch of its rows alone, not the other
    assert (
        client.post(reverse("cluster:cluster-batch-revert", args=[several.batch_id]), CONFIRMED).status_code
        == 403
    )
    assert (
        client.post(reverse("cluster:cluster-batch-revert", args=[own.batch_id]), CONFIRMED).status_code
        == 302
    )
    assert ImportBatch.objects.get(pk=own.batch_id).is_reverted


def test_rows_say_how_the_cluster_counts_each(picture, client_as):
    page = text(client_as(Role.COORDINATOR).get(reverse("cluster:cluster-rows")))
    assert "pipeline" in page
    assert "handed to NRC" in page
    assert "reached" in page


def test_the_rows_list_takes_a_fixed_number_of_queries(
    picture, client_as, upload, django_assert_max_num_queries
):
    upload([row(id=f"NRC-{n}", qty=str(n)) for n in range(10, 40)])
    client = client_as(Role.COORDINATOR)
    client.get(reverse("cluster:cluster-rows"))
    with django_assert_max_num_queries(16):
        client.get(reverse("cluster:cluster-rows"))


def test_needs_are_marked_illustrative(picture, client_as):
    page = text(client_as(Role.VIEWER).get(reverse("cluster:cluster-needs")))
    assert "Illustrative needs." in page
    assert "tag-illustrative" in page


def test_periods_are_locked_from_the_page_by_a_coordinator_only(cluster, client_as):
    coordinator = client_as(Role.COORDINATOR)
    response = coordinator.post(
        reverse("cluster:cluster-periods"), {"month": "2005-11", "note": "closed", "action": "lock"}
    )
    assert response.status_code == 302
    assert ReportingPeriod.objects.get().locked
    viewer = client_as(Role.VIEWER)
    assert (
        viewer.post(reverse("cluster:cluster-periods"), {"month": "2005-12", "action": "lock"}).status_code
        == 403
    )
    assert "November 2005" in text(viewer.get(reverse("cluster:cluster-periods")))


@pytest.mark.parametrize("month", ["0001-01", "1900-02", "9999-12"])
def test_the_periods_page_refuses_a_month_the_api_refuses(cluster, client_as, month):
    response = client_as(Role.COORDINATOR).post(
        reverse("cluster:cluster-periods"), {"month": month, "action": "lock"}
    )
    assert response.status_code == 400
    assert "Enter a month from 1990-01 to 2099-12." in text(response)
    assert not ReportingPeriod.objects.exists()


def test_the_template_downloads(cluster, client_as, upload):
    upload([row(id="NRC-1")], reporting_org_id=cluster.nrc.pk)
    client = client_as(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    xlsx = client.get(reverse("cluster:cluster-template", args=["xlsx"]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    mine = client.get(reverse("cluster:cluster-template", args=["csv"]), {"rows": "1"})
    assert "NRC-1,,Norwegian Refugee Council" in text(mine)
    assert client_as(Role.VIEWER).get(reverse("cluster:cluster-template", args=["csv"])).status_code == 403


def test_a_coordinator_loads_needs_from_the_page_after_a_preview(cluster, client_as):
    client = client_as(Role.COORDINATOR)
    file = SimpleUploadedFile(
        "needs.csv", b"P,N,I\n#adm2+code,#inneed+hh,#meta+illustrative\nPK504,400,yes\n"
    )
    preview = client.post(reverse("cluster:cluster-needs"), {"file": file})
    page = text(preview)
    assert "Preview of needs.csv" in page
    assert "1 created" in page
    from reliefops.cluster.models import NeedsBaseline

    assert not NeedsBaseline.objects.exists()
    token = re.search(r'name="token" value="([0-9a-f]{64})"', page)[1]
    applied = client.post(reverse("cluster:cluster-needs"), {"token": token})
    assert applied.status_code == 302
    assert NeedsBaseline.objects.get().households_in_need == 400
    # a second click on Apply is recognised: nothing changes, and the page says the file was applied
    again = client.post(reverse("cluster:cluster-needs"), {"token": token}, follow=True)
    assert "This file was applied already; nothing changed. It did: 1 created" in text(again)
    assert NeedsBaseline.objects.count() == 1
    refused = client.post(
        reverse("cluster:cluster-needs"),
        {"file": SimpleUploadedFile("bad.csv", b"P,N\n#adm2+code,#inneed+hh\nPK5O4,1\n")},
    )
    assert refused.status_code == 422
    assert "did you mean PK504 (Batagram)?" in text(refused)
    viewer = client_as(Role.VIEWER)
    assert viewer.post(reverse("cluster:cluster-needs"), {"token": token}).status_code == 403
    assert "Preview</button>" not in text(viewer.get(reverse("cluster:cluster-needs")))


def test_batches_show_their_times_in_the_projects_date_format(picture, client_as):
    # given a batch committed at 05:29 in Karachi on 30 November 2026 and reverted then too
    import datetime as dt

    batch = ImportBatch.objects.get()
    at = dt.datetime(2026, 11, 30, 0, 29, tzinfo=dt.UTC)
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=at)
    client = client_as(Role.COORDINATOR)
    # then the list and the batch's page say "30 Nov 2026 05:29", as jobs and imports do
    assert "<td>30 Nov 2026 05:29</td>" in text(client.get(reverse("cluster:cluster-batches")))
    detail = text(client.get(reverse("cluster:cluster-batch", args=[batch.pk])))
    assert "Committed on 30 Nov 2026 05:29 by" in detail
    client.post(reverse("cluster:cluster-batch-revert", args=[batch.pk]), CONFIRMED)
    ImportBatch.objects.filter(pk=batch.pk).update(reverted_at=at)
    assert "reverted 30 Nov 2026</td>" in text(client.get(reverse("cluster:cluster-batches")))
    assert "Reverted on 30 Nov 2026 05:29 by" in text(
        client.get(reverse("cluster:cluster-batch", args=[batch.pk]))
    )


def test_a_partner_is_linked_only_to_the_batches_it_may_open(picture, cluster, client_as, upload):
    # given NRC's row NRC-1 in a batch the coordinator uploaded, and NRC-2 in NRC's own batch
    upload([row(id="NRC-2")], reporting_org_id=cluster.nrc.pk)
    theirs = ImportBatch.objects.get(rows__row_id="NRC-1")
    own = ImportBatch.objects.get(rows__row_id="NRC-2")
    client = client_as(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    assert client.get(reverse("cluster:cluster-batch", args=[theirs.pk])).status_code == 403
    # then the rows link NRC's own batch, and name the other in plain text
    rows = text(client.get(reverse("cluster:cluster-rows")))
    assert f'<a href="{reverse("cluster:cluster-batch", args=[own.pk])}">batch {own.pk}</a>, row 3' in rows
    assert f'<span class="aka">batch {theirs.pk}, row 3</span>' in rows
    assert reverse("cluster:cluster-batch", args=[theirs.pk]) not in rows
    # the live search (htmx) answers the same
    found = text(client.get(reverse("cluster:cluster-rows"), {"q": "NRC-1"}, HTTP_HX_REQUEST="true"))
    assert f'<span class="aka">batch {theirs.pk}, row 3</span>' in found
    # and a coordinator, who may open every batch, is linked to both
    every = text(client_as(Role.COORDINATOR).get(reverse("cluster:cluster-rows")))
    for batch in (theirs, own):
        assert f'<a href="{reverse("cluster:cluster-batch", args=[batch.pk])}">batch {batch.pk}</a>' in every


def test_locking_a_locked_month_again_says_so_and_changes_nothing(cluster, client_as):
    coordinator = client_as(Role.COORDINATOR)
    url = reverse("cluster:cluster-periods")
    first = coordinator.post(url, {"month": "2005-11", "note": "closed", "action": "lock"}, follow=True)
    assert "November 2005 is locked." in text(first)
    events = AuditEvent.objects.filter(action="cluster.period_lock").count()
    # when the coordinator locks November 2005 again (a second click, say)
    again = coordinator.post(url, {"month": "2005-11", "note": "twice", "action": "lock"}, follow=True)
    # then the page says it was locked already and nothing changed: no note replaced, no event
    assert "November 2005 is locked already; nothing changed." in text(again)
    assert "November 2005 is locked.<" not in text(again)
    assert ReportingPeriod.objects.get().note == "closed"
    assert AuditEvent.objects.filter(action="cluster.period_lock").count() == events == 1


def test_reopening_a_month_that_is_not_locked_says_so_and_adds_no_row(cluster, client_as):
    coordinator = client_as(Role.COORDINATOR)
    url = reverse("cluster:cluster-periods")
    # when a coordinator reopens July 2006, never locked, with a note
    response = coordinator.post(url, {"month": "2006-07", "note": "typed for nothing", "action": "reopen"})
    # then the page says there is nothing to reopen, and no row "July 2006 open" is added
    assert response.status_code == 302
    page = text(coordinator.get(response["Location"]))
    assert "July 2006 is not locked; nothing to reopen." in page
    assert not ReportingPeriod.objects.exists()
    # nor does the service store one when asked directly (the API and the command)
    import datetime as dt

    from reliefops.cluster.services import reporting_period_set_lock

    reporting_period_set_lock(actor=None, month=dt.date(2006, 7, 1), locked=False)
    assert not ReportingPeriod.objects.exists()
    # a locked month is reopened as before, and reopening it again changes nothing more
    coordinator.post(url, {"month": "2005-11", "note": "closed", "action": "lock"})
    reopened = coordinator.post(
        url, {"month": "2005-11", "note": "late report", "action": "reopen"}, follow=True
    )
    assert "November 2005 is open." in text(reopened)
    again = coordinator.post(url, {"month": "2005-11", "note": "once more", "action": "reopen"}, follow=True)
    assert "November 2005 is not locked; nothing to reopen." in text(again)
    assert ReportingPeriod.objects.get().note == "late report"


def test_the_report_of_list_names_each_organisation_with_its_short_name(cluster, client_as):
    # the rows, batches and previews name an organisation by its short name (IRW): the list a
    # coordinator chooses from gives it beside the full name
    page = text(client_as(Role.COORDINATOR).get(reverse("cluster:cluster-upload")))
    select = page.split('id="id_organisation"')[1].split("</select>")[0]
    options = re.findall(r"<option value=\"(\d*)\"[^>]*>([^<]*)</option>", select)
    by_label = {label: value for value, label in options}
    assert options[0] == ("", "Each row&#x27;s own")
    assert by_label["Islamic Relief Worldwide (IRW)"] == str(cluster.irw.pk)
    assert "Norwegian Refugee Council (NRC)" in by_label


def test_the_rows_page_narrows_to_a_tehsil_chosen_from_its_own_group(cluster, upload, client_as):
    # given NRC's rows in two tehsils of Batagram, and one for the district as a whole
    upload(
        [
            row(id="NRC-1", adm3="PK50401"),
            row(id="NRC-2", adm3="PK50402"),
            row(id="NRC-3", adm3=""),
        ]
    )
    client = client_as(Role.COORDINATOR)
    # when the coordinator chooses Allai (a tehsil), written in small letters
    page = text(client.get(reverse("cluster:cluster-rows"), {"within": "pk50401"}))
    # then only its row is listed, and the list shows it chosen among the tehsils
    listed = set(re.findall(r"NRC-\d", page))
    assert listed == {"NRC-1"}
    tehsils = re.search(r'<optgroup label="Tehsils">(.*?)</optgroup>', page, re.S)
    assert tehsils is not None
    assert re.search(r'<option value="PK50401" selected>Allai \(PK50401\)</option>', tehsils.group(1))
    assert '<optgroup label="Districts">' in page
    # and the district lists all three
    district = text(client.get(reverse("cluster:cluster-rows"), {"within": "PK504"}))
    assert set(re.findall(r"NRC-\d", district)) == {"NRC-1", "NRC-2", "NRC-3"}


def test_a_viewer_refused_the_rows_is_told_it_is_the_rows_it_may_not_see(cluster, client_as):
    # a viewer sees the cluster's figures, not partners' rows one by one: the refusal says so,
    # not that it may not upload (it tried no upload)
    refused = client_as(Role.VIEWER).get(reverse("cluster:cluster-rows"))
    assert refused.status_code == 403
    assert "may not see 4W reports row by row, or upload, correct or revert them" in text(refused)


def test_the_gap_table_writes_the_unit_in_the_plural_beside_other_counts(cluster, upload, client_as):
    upload([row(id="NRC-1", qty="130"), row(id="NRC-2", adm2="PK522", qty="1", hh="1")])
    page = text(client_as(Role.COORDINATOR).get(reverse("cluster:cluster-gaps"), {"activity": "TENTS"}))
    assert re.search(r'130 <span class="unit">tents</span>', page)
    assert re.search(r'1 <span class="unit">tent</span>', page)


def test_the_rows_page_narrows_to_the_reporting_months_chosen(cluster, upload, client_as):
    upload(
        [
            row(id="NRC-1", start="2005-11-01", end="2005-11-20"),
            row(id="NRC-2", start="2005-12-01", end="2005-12-20"),
            row(id="NRC-3", start="2006-01-02", end="2006-01-20"),
        ]
    )
    client = client_as(Role.COORDINATOR)
    page = text(
        client.get(reverse("cluster:cluster-rows"), {"period_from": "2005-12", "period_to": "2006-01"})
    )
    assert set(re.findall(r"NRC-\d", page)) == {"NRC-2", "NRC-3"}
    assert 'name="period_from"' in page
    # a period that ends before it starts is refused beside its field, and lists nothing
    refused = client.get(reverse("cluster:cluster-rows"), {"period_from": "2006-01", "period_to": "2005-12"})
    assert refused.status_code == 422
    assert "the period ends before it starts" in text(refused)
    assert not re.findall(r"NRC-\d", text(refused))


def test_an_area_reached_beyond_its_need_is_marked_to_check(cluster, upload, client_as):
    needs_import_file(
        actor=None, data=b"P,N\n#adm2+code,#inneed+hh\nPK504,100\nPK522,1000\n", filename="n.csv"
    )
    upload([row(id="NRC-1", hh="250"), row(id="NRC-2", adm2="PK522", hh="300")])
    page = text(client_as(Role.COORDINATOR).get(reverse("cluster:cluster-gaps"), {"activity": "TENTS"}))
    batagram = re.search(r'code-quiet">PK504</span>.*?</tr>', page, re.S)
    mansehra = re.search(r'code-quiet">PK522</span>.*?</tr>', page, re.S)
    assert batagram is not None
    assert mansehra is not None
    assert "above need: check" in batagram[0]  # 250 reached of 100 in need
    assert "above need" not in mansehra[0]  # 300 of 1,000
