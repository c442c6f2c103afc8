"""The cluster's jobs: a 4W upload applied by the worker records the job's end in the batch's own
transaction, so that the job is succeeded exactly when its batch is in, whenever the worker dies."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone

from reliefops.cluster import jobs as cluster_jobs
from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.core.jobs import job_run
from reliefops.core.models import Job, JobStatus
from reliefops.core.roles import Role
from reliefops.core.services import token_create
from tests.cluster.conftest import four_w_csv, row
from tests.factories import make_user
from tests.jobs_worker import run_jobs


class Killed(BaseException):
    """The worker's process ending on the spot (kill -9): nothing of the job's code runs after it."""


@pytest.fixture
def apply_job(cluster) -> Job:
    return cluster_jobs.upload_apply_start(
        owner=make_user(Role.COORDINATOR),
        filename="nrc.csv",
        content=four_w_csv([row(id="NRC-1"), row(id="NRC-2", qty="40")]),
        organisation_id=None,
    ).job


def test_a_worker_killed_just_after_the_commit_leaves_the_job_succeeded_with_its_batch(
    apply_job, monkeypatch
):
    # given a worker that dies as soon as the import has committed its batch
    apply = cluster_jobs.activity_report_import_file

    def apply_then_die(**kwargs: Any) -> Any:
        apply(**kwargs)
        raise Killed

    monkeypatch.setattr(cluster_jobs, "activity_report_import_file", apply_then_die)
    # when it applies the upload
    with pytest.raises(Killed):
        job_run(apply_job.pk, cluster_jobs._commit)
    # then the job is succeeded, with the batch's summary and link, as the batch is in
    batch = ImportBatch.objects.get()
    assert ActivityRow.objects.filter(batch=batch).count() == 2
    job = Job.objects.get(pk=apply_job.pk)
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["summary"] == f"Batch {batch.pk}: 2 added, 0 updated, 0 withdrawn, 0 unchanged."
    assert job.result["links"][0] == {
        "label": f"Batch {batch.pk}",
        "url": reverse("cluster:cluster-batch", args=[batch.pk]),
    }
    assert (job.stage, job.done, job.total) == ("done", 2, 2)
    assert bytes(job.input) == b""


def test_a_worker_killed_with_the_end_written_but_not_committed_leaves_neither(apply_job, monkeypatch):
    # given a worker that dies once the job's end is written in the batch's transaction
    done = cluster_jobs.job_done

    def end_then_die(job: Job, result: Any) -> None:
        done(job, result)
        assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED  # written, not committed
        raise Killed

    monkeypatch.setattr(cluster_jobs, "job_done", end_then_die)
    # when it applies the upload
    with pytest.raises(Killed):
        job_run(apply_job.pk, cluster_jobs._commit)
    # then nothing of the upload is in, and the job is not done (it is failed as lost once swept)
    assert not ImportBatch.objects.exists()
    assert not ActivityRow.objects.exists()
    job = Job.objects.get(pk=apply_job.pk)
    assert job.status == JobStatus.RUNNING
    assert job.result is None


def test_an_upload_that_changes_nothing_ends_its_job_without_a_batch(apply_job, cluster):
    # given the same file applied once already
    job_run(apply_job.pk, cluster_jobs._commit)
    again = cluster_jobs.upload_apply_start(
        owner=apply_job.owner,
        filename="nrc.csv",
        content=four_w_csv([row(id="NRC-1"), row(id="NRC-2", qty="40")]),
        organisation_id=None,
    ).job
    # when it is applied again, then its job succeeds, saying nothing changed, and no batch is added
    job_run(again.pk, cluster_jobs._commit)
    again.refresh_from_db()
    assert again.status == JobStatus.SUCCEEDED
    assert again.result["summary"].startswith("Nothing to change")
    assert ImportBatch.objects.count() == 1


def test_an_applied_upload_gives_its_batch_and_counts_by_name(apply_job):
    # when the worker applies the upload
    job_run(apply_job.pk, cluster_jobs._commit)
    # then its result names the batch by its id and each count, beside the page's words
    job = Job.objects.get(pk=apply_job.pk)
    batch = ImportBatch.objects.get()
    assert {key: job.result[key] for key in ("preview", "changed", "batch_id", "rows_read")} == {
        "preview": False,
        "changed": True,
        "batch_id": batch.pk,
        "rows_read": 2,
    }
    assert [job.result[key] for key in ("added", "updated", "withdrawn", "unchanged", "set_aside")] == [
        2,
        0,
        0,
        0,
        0,
    ]
    assert job.result["links"][0]["label"] == f"Batch {batch.pk}"


@pytest.mark.parametrize(
    ("rows", "shown", "truncated"),
    [
        pytest.param(
            cluster_jobs.CHANGES_SHOWN + 5, cluster_jobs.CHANGES_SHOWN, True, id="more-rows-than-shown"
        ),
        pytest.param(3, 3, False, id="every-row-shown"),
    ],
)
def test_a_preview_says_when_its_table_holds_only_the_first_changes(cluster, rows, shown, truncated):
    # given a preview of a file with more (or fewer) changes than the table shows
    preview = cluster_jobs.upload_preview_start(
        owner=make_user(Role.COORDINATOR),
        filename="nrc.csv",
        content=four_w_csv([row(id=f"NRC-{n}") for n in range(rows)]),
        organisation_id=None,
    ).job
    # when the worker runs it
    job_run(preview.pk, cluster_jobs._preview)
    # then its table says how many changes there are and whether it holds them all
    result = Job.objects.get(pk=preview.pk).result
    table = result["table"]
    assert len(table["rows"]) == shown
    assert (table["rows_total"], table["truncated"]) == (rows, truncated)
    assert table["more"] == rows - shown  # as before, for the page
    assert (result["preview"], result["batch_id"], result["added"]) == (True, None, rows)


def test_a_script_reads_the_batch_of_its_upload_job_from_the_api(cluster):
    # given a coordinator's script that uploads a 4W file to apply in the background
    user = make_user(Role.COORDINATOR)
    _, token = token_create(actor=None, username=user.get_username(), name="script")
    script = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"filename": "nrc.csv", "content": four_w_csv([row(id="NRC-1")]).decode(), "preview": False}
    started = script.post("/api/cluster/upload-jobs", body, content_type="application/json")
    assert started.status_code == 202
    # when the worker has run it and the script polls the job
    run_jobs()
    answer = script.get(f"/api/core/jobs/{started.json()['id']}")
    # then the result gives the batch as a number and the counts by name
    result = answer.json()["result"]
    assert (result["batch_id"], result["added"], result["changed"]) == (ImportBatch.objects.get().pk, 1, True)


# --- the pages of a web upload -------------------------------------------------------------------------


def _page(client: Client, url: str) -> str:
    return " ".join(client.get(url).content.decode().split())


def _previewed(client: Client, rows: list[dict[str, Any]], **csv: Any) -> Job:
    """A partner's upload of `rows` on the web, previewed by the worker."""
    file = SimpleUploadedFile("nrc.csv", four_w_csv(rows, **csv))
    assert client.post(reverse("cluster:cluster-upload"), {"file": file}).status_code == 302
    run_jobs()
    return Job.objects.filter(kind=cluster_jobs.UPLOAD_PREVIEW).latest("pk")


def test_a_preview_lists_its_changes_and_notes_before_the_button_that_applies_them(cluster, client_as):
    # given a partner's preview of a file with a change to show and a note on how it was read (no
    # hashtag row)
    client = client_as(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    preview = _previewed(client, [row(id="NRC-1")], tags=False)
    # when its page is opened (on a tablet, read from the top down)
    page = _page(client, reverse("jobs:job-detail", args=[preview.pk]))
    # then the changes and the notes come before the button, which is there once
    button = page.index(">Apply these changes</button>")
    assert page.count(">Apply these changes</button>") == 1
    assert page.index("What changes") < page.index("NRC-1") < page.index("</table>") < button
    assert page.index('<ul class="read-notes">') < button


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_an_applied_preview_no_longer_offers_apply_and_says_what_became_of_its_batch(cluster, client_as):
    # given a partner's preview applied as a batch
    client = client_as(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    preview = _previewed(client, [row(id="NRC-1"), row(id="NRC-2", qty="40")])
    preview_page = reverse("jobs:job-detail", args=[preview.pk])
    applied = client.post(reverse("cluster:cluster-upload-commit"), {"preview": preview.pk})
    # while it is being applied, the preview says so and offers Apply no more
    commit = Job.objects.get(kind=cluster_jobs.UPLOAD_COMMIT)
    page = _page(client, preview_page)
    assert f'These changes are being applied by <a href="/jobs/{commit.pk}/">job {commit.pk}</a>.' in page
    assert "Apply these changes</button>" not in page
    run_jobs()
    batch = ImportBatch.objects.get()
    batch_url = reverse("cluster:cluster-batch", args=[batch.pk])
    # then the preview's page says it was applied as that batch, with a link, and offers no Apply
    page = _page(client, preview_page)
    assert (
        f'These changes were applied as <a href="{batch_url}">batch {batch.pk}</a> (by job {commit.pk}).'
        in page
    )
    assert "Apply these changes</button>" not in page
    # and a second click (an old tab) starts nothing and says the batch stands
    again = client.post(reverse("cluster:cluster-upload-commit"), {"preview": preview.pk})
    assert again["Location"] == applied["Location"]
    assert _messages(again) == [
        f"Nothing was started now: these changes were applied as batch {batch.pk} (by job {commit.pk})."
    ]
    # when the batch is reverted
    reverter = client_as(Role.COORDINATOR)
    reverter.post(reverse("cluster:cluster-batch-revert", args=[batch.pk]), {"confirm": "yes"})
    batch.refresh_from_db()
    assert batch.is_reverted
    day = dateformat.format(timezone.localtime(batch.reverted_at), "j M Y")
    # then the preview says the batch was reverted, by whom and when, and to upload the file again
    page = _page(client, preview_page)
    assert (
        f'These changes were applied as <a href="{batch_url}">batch {batch.pk}</a>, which '
        f"{batch.reverted_by_label} reverted on {day}; upload the file again to preview it afresh." in page
    )
    assert "Apply these changes</button>" not in page
    # and a POST from an old tab starts nothing, writes nothing, and says the batch was reverted
    old_tab = client.post(reverse("cluster:cluster-upload-commit"), {"preview": preview.pk})
    assert old_tab["Location"] == applied["Location"]
    assert _messages(old_tab) == [
        f"Nothing was started now: these changes were applied as batch {batch.pk}, which "
        f"{batch.reverted_by_label} reverted on {day}; upload the file again to preview it afresh."
    ]
    assert Job.objects.filter(kind=cluster_jobs.UPLOAD_COMMIT).count() == 1
    run_jobs()
    assert not ActivityRow.objects.exists()
    # and the apply job's own page says its batch was reverted since, not only that it succeeded
    page = _page(client, old_tab["Location"])
    assert (
        f'<a href="{batch_url}">Batch {batch.pk}</a> was reverted by {batch.reverted_by_label} on {day}: '
        "its rows are as they were before it, and what this job wrote is undone." in page
    )


def test_a_preview_whose_file_is_no_longer_kept_offers_no_apply(cluster, client_as):
    # given a preview whose kept file was cleared, a day after it ended
    client = client_as(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    preview = _previewed(client, [row(id="NRC-1")])
    page = _page(client, reverse("jobs:job-detail", args=[preview.pk]))
    assert "Apply these changes</button>" in page
    Job.objects.filter(pk=preview.pk).update(input=b"")
    # when its page is opened, then it says to upload the file again, and offers no Apply
    page = _page(client, reverse("jobs:job-detail", args=[preview.pk]))
    assert "The previewed file is no longer kept (a day after the preview): upload the file again" in page
    assert "Apply these changes</button>" not in page
