"""The cluster's jobs: a 4W upload applied by the worker records the job's end in the batch's own
transaction, so that the job is succeeded exactly when its batch is in, whenever the worker dies."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from reliefops.cluster import jobs as cluster_jobs
from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.core.jobs import job_run
from reliefops.core.models import Job, JobStatus
from reliefops.core.roles import Role
from tests.cluster.conftest import four_w_csv, row
from tests.factories import make_user


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
