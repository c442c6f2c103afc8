"""Background jobs in a real browser: a partner uploads a 4W file, lands on the job's page, sees it
wait for the worker, then the preview when the worker has run it (htmx polls, no inline script);
applying it is a second job whose page links to the batch. The job stays in My jobs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from reliefops.cluster.models import ActivityRow
from reliefops.core.models import Job, JobStatus
from reliefops.core.roles import Role
from tests.cluster.conftest import (  # noqa: F401 - the cluster fixtures these tests use
    cluster,
    four_w_csv,
    row,
)
from tests.jobs_worker import worker_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_upload_runs_as_a_job_with_its_progress_then_its_result(cluster, signed_in_page, tmp_path):  # noqa: F811
    path = tmp_path / "nrc-4w.csv"
    path.write_bytes(four_w_csv([row(id="NRC-1"), row(id="NRC-2", qty="40")]))
    page = signed_in_page(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    # when NRC's reporter uploads the file, with no worker running yet
    page.goto("/cluster/upload/")
    page.get_by_label("4W file").set_input_files(str(path))
    page.get_by_role("button", name="Preview the upload").click()
    # then the page answers at once: the job's page, waiting for the worker, with a progress bar
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview of nrc-4w.csv")
    status = page.locator("#job-status")
    expect(status).to_contain_text("Waiting for the worker")
    expect(status.locator("progress")).to_have_count(1)
    # when the worker starts, the same page (polling) shows the preview without a reload
    with worker_thread():
        expect(status).to_contain_text("Preview: 2 added", timeout=15_000)
        expect(status.locator("progress")).to_have_count(0)
        expect(page.locator("table.data")).to_contain_text("NRC-2")
        assert not ActivityRow.objects.exists()
        # and applying it is a job too, whose result links to the batch
        page.get_by_role("button", name="Apply these changes").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Upload of nrc-4w.csv")
        expect(page.locator("#job-status")).to_contain_text("2 added", timeout=15_000)
    assert ActivityRow.objects.count() == 2
    page.get_by_role("link", name=re.compile(r"^Batch \d+$")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Batch")
    # both jobs are in My jobs, reachable from the navigation
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My jobs").click()
    expect(page.locator("table.data tbody tr")).to_have_count(2)
    expect(page.locator("table.data")).to_contain_text("Succeeded")
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}


def test_a_refused_file_ends_its_job_with_each_problem(cluster, signed_in_page, tmp_path):  # noqa: F811
    path = tmp_path / "bad.csv"
    path.write_bytes(four_w_csv([row(adm2="PK5O4")]))
    page = signed_in_page(Role.COORDINATOR)
    with worker_thread():
        page.goto("/cluster/upload/")
        page.get_by_label("4W file").set_input_files(str(path))
        page.get_by_role("button", name="Preview the upload").click()
        status = page.locator("#job-status")
        expect(status).to_contain_text("Nothing was written.", timeout=15_000)
    expect(status.locator("table.problem-table")).to_contain_text("is not a P-code; did you mean PK504")
    assert not ActivityRow.objects.exists()
