"""The walk-through of the Upload page: applying a preview does what the preview showed, or nothing
(a batch that touched the same organisation's rows since refuses it); an upload without a separate
preview is unaffected."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.cluster.services import import_batch_revert
from reliefops.core.models import Job, JobStatus
from reliefops.core.roles import Role
from tests.cluster.conftest import four_w_csv, row
from tests.factories import make_user
from tests.jobs_worker import run_jobs


def text(response) -> str:
    return response.content.decode()


def _previewed(client, rows) -> tuple[str, str]:
    """Upload a file on the Upload page and let the worker preview it: (preview job id, its page)."""
    file = SimpleUploadedFile("nrc.csv", four_w_csv(rows))
    uploaded = client.post(reverse("cluster:cluster-upload"), {"file": file})
    run_jobs()
    page = text(client.get(uploaded["Location"]))
    return re.search(r'name="preview" value="(\d+)"', page)[1], page


def _applied(client, preview: str) -> Job:
    committed = client.post(reverse("cluster:cluster-upload-commit"), {"preview": preview})
    assert committed.status_code == 302
    run_jobs()
    return Job.objects.get(pk=int(committed["Location"].rstrip("/").split("/")[-1]))


def test_applying_a_preview_after_a_coordinators_batch_on_the_same_rows_is_refused(cluster, upload):
    # given NRC's reporter who previews a file of two new rows
    reporter = make_user(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    coordinator = make_user(Role.COORDINATOR)
    client = _client(reporter)
    preview, page = _previewed(client, [row(id="NRC-1", qty="100"), row(id="NRC-2", qty="40")])
    assert "Preview: 2 added" in page
    # when the coordinator imports the same rows with other values before the reporter applies it
    corrected = upload([row(id="NRC-1", qty="120")], actor=coordinator)
    job = _applied(client, preview)
    # then the apply is refused, saying which batch changed the rows and to preview again
    assert job.status == JobStatus.FAILED
    assert re.fullmatch(
        rf"batch {corrected.batch_id} by {coordinator.username} at \d\d:\d\d changed these rows since your "
        r"preview; preview the file again to see what it would do now \(nothing was written\)",
        job.error,
    ), job.error
    # and nothing of the file was written: the coordinator's correction stands
    assert ImportBatch.objects.count() == 1
    assert list(ActivityRow.objects.values_list("row_id", "quantity")) == [("NRC-1", 120)]


def test_a_batch_reverted_since_the_preview_refuses_its_apply_too(cluster, upload):
    reporter = make_user(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    first = upload([row(id="NRC-1", qty="100")])
    client = _client(reporter)
    preview, _ = _previewed(client, [row(id="NRC-1", qty="90")])
    import_batch_revert(actor=None, batch_id=first.batch_id)
    job = _applied(client, preview)
    assert job.status == JobStatus.FAILED
    assert job.error.startswith(f"the revert of batch {first.batch_id} by system at ")
    assert not ActivityRow.objects.exists()


def test_a_batch_of_another_organisation_since_the_preview_does_not_block_the_apply(cluster, upload):
    # given a preview of NRC's rows, then a batch of IOM's rows alone
    reporter = make_user(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    client = _client(reporter)
    preview, _ = _previewed(client, [row(id="NRC-1")])
    upload([row(id="IOM-1", prog="IOM")])
    # when the reporter applies the preview, it is applied
    job = _applied(client, preview)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["summary"].endswith("1 added, 0 updated, 0 withdrawn, 0 unchanged.")
    assert ActivityRow.objects.filter(row_id="NRC-1").exists()


def test_a_batch_of_several_organisations_touching_these_rows_blocks_the_apply(cluster, upload):
    reporter = make_user(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    client = _client(reporter)
    preview, _ = _previewed(client, [row(id="NRC-1")])
    several = upload([row(id="NRC-1", qty="7"), row(id="IOM-1", prog="IOM")])
    job = _applied(client, preview)
    assert job.status == JobStatus.FAILED
    assert job.error.startswith(f"batch {several.batch_id} by system at ")


def test_an_upload_without_a_separate_preview_is_unaffected(cluster, upload):
    # the one-step upload (command line, API): a later file simply updates the rows
    upload([row(id="NRC-1", qty="100")])
    upload([row(id="NRC-1", qty="120")])
    again = upload([row(id="NRC-1", qty="130")])
    assert (again.added, again.updated) == (0, 1)


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_a_revert_under_way_while_the_preview_read_refuses_its_apply(cluster, upload, monkeypatch):
    # given a batch, and a revert of it whose clock time is taken before a preview begins but which
    # commits after the preview has read the stored rows (simulated: the revert's time is earlier)
    import datetime as dt

    from django.utils import timezone

    from reliefops.cluster.services import reverts

    reporter = make_user(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    first = upload([row(id="NRC-1", qty="100")])
    client = _client(reporter)
    preview, _ = _previewed(client, [row(id="NRC-1", qty="90")])
    seen = Job.objects.get(pk=int(preview)).params["seen_at"]
    earlier = dt.datetime.fromisoformat(seen) - dt.timedelta(seconds=1)
    monkeypatch.setattr(reverts.timezone, "now", lambda: earlier)
    import_batch_revert(actor=None, batch_id=first.batch_id)
    monkeypatch.setattr(reverts.timezone, "now", timezone.now)
    assert ImportBatch.objects.get(pk=first.batch_id).reverted_at < dt.datetime.fromisoformat(seen)
    # when the reporter applies the preview, the revert the preview did not see refuses it
    job = _applied(client, preview)
    assert job.status == JobStatus.FAILED
    assert job.error.startswith(f"the revert of batch {first.batch_id} by system at "), job.error
    assert not ActivityRow.objects.exists()


def test_reverts_are_numbered_in_the_order_they_were_made(cluster, upload):
    one = upload([row(id="NRC-1", qty="100")])
    two = upload([row(id="IOM-1", prog="IOM")])
    import_batch_revert(actor=None, batch_id=two.batch_id)
    import_batch_revert(actor=None, batch_id=one.batch_id)
    numbers = dict(ImportBatch.objects.values_list("pk", "revert_number"))
    assert numbers == {two.batch_id: 1, one.batch_id: 2}


def test_a_preview_recorded_before_reverts_were_numbered_still_compares_clock_times(cluster, upload):
    # a preview job kept from before the upgrade holds no revert number: its apply falls back on the
    # revert's clock time, and still sees a revert made since
    from reliefops.cluster.services.report_types import StoredState

    reporter = make_user(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    first = upload([row(id="NRC-1", qty="100")])
    client = _client(reporter)
    preview, _ = _previewed(client, [row(id="NRC-1", qty="90")])
    job = Job.objects.get(pk=int(preview))
    old = {k: v for k, v in job.params.items() if k != "seen_revert"}
    Job.objects.filter(pk=job.pk).update(params=old)
    assert StoredState.from_params(old).last_revert is None
    import_batch_revert(actor=None, batch_id=first.batch_id)
    applied = _applied(client, preview)
    assert applied.status == JobStatus.FAILED
    assert applied.error.startswith(f"the revert of batch {first.batch_id} by system at ")
