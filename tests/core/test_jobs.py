"""Background jobs: queued in the database, run by django-tasks-db's worker, with a progress record;
a refusal recorded with its problems and nothing written; a user sees only their own jobs; a job
whose worker died does not stay "running"; the CLI shows the same progress on a terminal."""

from __future__ import annotations

import base64
import io
import signal
import subprocess
import sys
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from django_tasks import task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from reliefops.core import jobs
from reliefops.core.access import access_job_by_id
from reliefops.core.errors import InvalidInput, NotFound, Problem
from reliefops.core.jobs import (
    STALE_AFTER,
    JobProgress,
    JobResult,
    TerminalProgress,
    job_done,
    job_run,
    job_start,
    jobs_clear_old_inputs,
    jobs_mark_stale,
    worker_name,
)
from reliefops.core.models import AuditEvent, Job, JobStatus, UserProfile
from reliefops.core.roles import Right, Role
from reliefops.core.services import audit_record, token_create
from reliefops.households.models import Household, HouseholdImport
from tests.factories import make_user
from tests.households.conftest import build_operation, register
from tests.jobs_worker import run_jobs

HEADER = b"head_name,head_sex,females_18_59,origin,house_damage,consent,document_type,document_number\n"


def _count(job: Job, progress: Any) -> JobResult:
    n = int(job.params["n"])
    for i in range(n):
        progress("counting", i, n)
    progress("counting", n, n)
    # what a page polling the job would read now, from the database
    seen = Job.objects.values_list("status", "stage", "done", "total").get(pk=job.pk)
    if job.params.get("refuse"):
        raise InvalidInput(
            [Problem(3, "quantity", "'many' is not a number")], summary="1 problem; nothing written"
        )
    if job.params.get("crash"):
        raise RuntimeError("a bug")
    return JobResult(summary=f"counted to {n}", figures=[("Counted", n)], notes=[" ".join(map(str, seen))])


@task()
def counting_job(job_id: int) -> dict[str, Any]:
    return job_run(job_id, _count)


def start(owner: Any, **params: Any) -> Job:
    return job_start(
        owner=owner,
        kind="counting",
        label="Counting",
        task=counting_job,
        right=Right.VIEW_REFERENCE,
        params=params,
    ).job


@pytest.fixture
def op(db):
    return build_operation()


@pytest.fixture
def registrar(db):
    return make_user(Role.REGISTRAR)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the machinery --------------------------------------------------------------------------------


def test_a_job_is_queued_then_run_by_the_database_worker_with_its_progress(registrar):
    # given a job started by a user
    job = start(registrar, n=50)
    # then it waits in the queue with its task, and its start is audited
    assert job.status == JobStatus.QUEUED
    assert DBTaskResult.objects.get(id=job.task_id).status == "READY"
    assert AuditEvent.objects.filter(action="job.start", object_id=str(job.pk)).exists()
    # when the worker runs what is queued
    assert run_jobs() == 1
    # then the job succeeded with its result; while it ran its progress was in the database
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert (job.done, job.total) == (50, 50)
    assert job.result["summary"] == "counted to 50"
    assert job.result["figures"] == [{"label": "Counted", "value": 50}]
    assert job.result["notes"] == ["running counting 50 50"]
    assert job.started_at <= job.finished_at
    assert job.worker == worker_name()
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"
    # and a second pass of the worker runs nothing again
    assert run_jobs() == 0


def test_progress_writes_are_throttled_and_held_back_inside_a_transaction(registrar):
    job = start(registrar, n=0)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    progress = JobProgress(job.pk, interval=3600)
    # every row reported, but one write for the stage
    for i in range(10_000):
        progress("checking rows", i, 10_000)
    assert progress.writes == 1
    # a new stage is written at once
    progress("looking for likely duplicates", 1, 10)
    assert progress.writes == 2
    assert Job.objects.values_list("stage", "done", "total").get(pk=job.pk) == (
        "looking for likely duplicates",
        1,
        10,
    )
    # inside a transaction nothing is written (it would be invisible, and hold SQLite's lock)...
    with connection.cursor():
        from django.db import transaction

        with transaction.atomic():
            progress("registering", 0, 0)
    assert progress.writes == 2
    # ...until the next report outside it
    progress.flush()
    assert Job.objects.values_list("stage", flat=True).get(pk=job.pk) == "registering"


def test_a_refusal_fails_the_job_with_each_problem(registrar):
    job = start(registrar, n=3, refuse=True)
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "1 problem; nothing written"
    assert job.problems == [{"row": 3, "field": "quantity", "reason": "'many' is not a number"}]
    # the task itself ran to its end: the refusal is the job's outcome, not a crash
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"


def test_a_refused_job_reads_refused_and_a_broken_one_failed_on_the_pages_and_in_the_api(registrar):
    # given a job refused for what it was given, and one that broke on an error
    refused = start(registrar, n=3, refuse=True)
    broken = start(registrar, n=3, crash=True)
    run_jobs()
    client = signed_in(registrar)
    # when the owner lists their jobs
    listed = " ".join(client.get("/jobs/").content.decode().split())
    # then the refused one reads "Refused" with its problems' count, the broken one "Failed"
    refused_row = '<span class="tag tag-job-refused">Refused</span></td> <td>1 problem; nothing written</td>'
    broken_row = '<span class="tag tag-job-failed">Failed</span></td> <td>the job stopped on an unexpected'
    assert refused_row in listed
    assert broken_row in listed
    # and each job's page says which it was: nothing wrong on the server, or the work broke
    page = " ".join(client.get(f"/jobs/{refused.pk}/").content.decode().split())
    assert '<strong class="tag tag-job-refused">Refused</strong> Refused ' in page
    assert "nothing went wrong on the server" in page
    assert "Stopped" not in page
    assert "The job did not finish" not in page
    page = " ".join(client.get(f"/jobs/{broken.pk}/").content.decode().split())
    assert '<strong class="tag tag-job-failed">Failed</strong> Stopped ' in page
    assert "The job did not finish." in page
    assert "Refused" not in page
    # and the API keeps both "failed", telling them apart by a field of its own
    token = token_create(actor=None, username=registrar.get_username(), name="script")[1]
    script = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert [
        (job["id"], job["status"], job["refused"]) for job in script.get("/api/core/jobs").json()["items"]
    ] == [(broken.pk, "failed", False), (refused.pk, "failed", True)]
    assert script.get(f"/api/core/jobs/{refused.pk}").json()["refused"] is True


def test_an_unexpected_error_fails_the_job_and_keeps_the_trace_for_the_operator(registrar):
    job = start(registrar, n=3, crash=True)
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "unexpected error (RuntimeError)" in job.error
    task_result = DBTaskResult.objects.get(id=job.task_id)
    assert task_result.status == "FAILED"
    assert "a bug" in task_result.traceback


def test_a_job_and_its_task_are_recorded_together_or_not_at_all(registrar):
    with (
        mock.patch.object(DatabaseBackend, "enqueue", side_effect=DatabaseError("disk full")),
        pytest.raises(DatabaseError),
    ):
        start(registrar, n=1)
    assert not Job.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_repeated_key_returns_the_first_job(registrar):
    first = job_start(
        owner=registrar,
        kind="counting",
        label="Counting",
        task=counting_job,
        right="view_reference",
        key="k1",
    )
    again = job_start(
        owner=registrar,
        kind="counting",
        label="Counting",
        task=counting_job,
        right="view_reference",
        key="k1",
    )
    assert not first.replayed
    assert again.replayed
    assert again.job.pk == first.job.pk
    assert Job.objects.count() == DBTaskResult.objects.count() == 1


# --- a job's end recorded with its work -------------------------------------------------------------


def _count_with_the_work(job: Job, progress: Any) -> JobResult:
    with transaction.atomic():
        audit_record(actor=None, action="counting.work", object_type="job", object_id=job.pk, after={})
        progress("counting", 3, 3)
        job_done(job, JobResult(summary="counted with the work", figures=[("Counted", 3)]))
        if job.params.get("then") == "rollback":
            raise RuntimeError("the commit failed")
    if job.params.get("then") == "crash":
        raise RuntimeError("a bug after the commit")
    return JobResult(summary="counted after the work")


@task()
def counting_with_the_work_job(job_id: int) -> dict[str, Any]:
    return job_run(job_id, _count_with_the_work)


def start_with_the_work(owner: Any, **params: Any) -> Job:
    return job_start(
        owner=owner,
        kind="counting",
        label="Counting",
        task=counting_with_the_work_job,
        right=Right.VIEW_REFERENCE,
        params=params,
    ).job


def test_a_job_ended_inside_its_works_transaction_keeps_that_end(registrar):
    # given a job whose body records its end in the transaction that writes its work
    job = start_with_the_work(registrar)
    # when the worker runs it
    run_jobs()
    # then the job succeeded with the end written with the work (not written a second time after)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["summary"] == "counted with the work"
    assert (job.stage, job.done, job.total) == ("done", 3, 3)
    assert AuditEvent.objects.filter(action="counting.work").exists()


def test_a_jobs_end_rolled_back_with_its_work_leaves_the_job_failed_and_nothing_written(registrar):
    # given a job whose work's transaction fails after the job's end was written in it
    job = start_with_the_work(registrar, then="rollback")
    run_jobs()
    # then neither the work nor the end is in: the job failed, as its body did
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "unexpected error (RuntimeError)" in job.error
    assert job.result is None
    assert not AuditEvent.objects.filter(action="counting.work").exists()


def test_an_error_after_the_work_was_committed_does_not_undo_the_jobs_success(registrar):
    # given a job whose body breaks once its work and its end are committed
    job = start_with_the_work(registrar, then="crash")
    run_jobs()
    # then the job is succeeded, as its work is in; the error is in the task's record for the operator
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["summary"] == "counted with the work"
    assert AuditEvent.objects.filter(action="counting.work").exists()
    assert "a bug after the commit" in DBTaskResult.objects.get(id=job.task_id).traceback


def test_the_heartbeat_falls_quiet_before_the_end_is_written_with_the_work(registrar):
    # (on PostgreSQL a beat would otherwise wait for the end's row lock until the commit)
    job = start(registrar, n=1)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
    seen: list[tuple[bool, bool]] = []

    def body(job: Job, progress: Any) -> JobResult:
        heartbeat = jobs._running[job.pk].heartbeat
        with transaction.atomic():
            before = heartbeat._stopped.is_set()
            job_done(job, JobResult(summary="done"))
            seen.append((before, heartbeat._stopped.is_set()))
        return JobResult(summary="done")

    job_run(job.pk, body)
    assert seen == [(False, True)]
    assert job.pk not in jobs._running


@pytest.mark.django_db(transaction=True)
def test_a_jobs_end_is_recorded_with_its_work_or_not_at_all():
    job = start(make_user(Role.REGISTRAR), n=1)
    with pytest.raises(RuntimeError, match="inside the transaction of its work"):
        job_done(job, JobResult(summary="done"))
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED


# --- jobs whose worker died -----------------------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_running_job_whose_worker_died_is_failed_and_a_live_one_is_left(registrar):
    host = worker_name().rpartition(":")[0]
    dead = start(registrar, n=1)
    stale = start(registrar, n=1)
    alive = start(registrar, n=1)
    now = timezone.now()
    Job.objects.filter(pk=dead.pk).update(
        status=JobStatus.RUNNING, worker=f"{host}:{_dead_pid()}", heartbeat_at=now
    )
    Job.objects.filter(pk=stale.pk).update(
        status=JobStatus.RUNNING, worker="elsewhere:1", heartbeat_at=now - STALE_AFTER - timedelta(seconds=1)
    )
    Job.objects.filter(pk=alive.pk).update(status=JobStatus.RUNNING, worker=worker_name(), heartbeat_at=now)
    DBTaskResult.objects.filter(id=dead.task_id).update(status="RUNNING")

    failed = jobs_mark_stale()

    assert sorted(failed) == sorted([dead.pk, stale.pk])
    for job in (dead, stale):
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED
        assert job.error.startswith("the worker stopped while running this job")
    alive.refresh_from_db()
    assert alive.status == JobStatus.RUNNING
    # the task of the dead worker no longer counts as running either
    assert DBTaskResult.objects.get(id=dead.task_id).status == "FAILED"
    # and a second sweep finds nothing more
    assert jobs_mark_stale() == []


def test_a_queued_job_whose_task_is_gone_is_failed(registrar):
    job = start(registrar, n=1)
    DBTaskResult.objects.filter(id=job.task_id).delete()
    assert jobs_mark_stale() == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


def test_the_worker_command_fails_lost_jobs_then_runs_the_queue(registrar):
    host = worker_name().rpartition(":")[0]
    lost = start(registrar, n=1)
    Job.objects.filter(pk=lost.pk).update(
        status=JobStatus.RUNNING, worker=f"{host}:{_dead_pid()}", heartbeat_at=timezone.now()
    )
    waiting = start(registrar, n=2)
    err = io.StringIO()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        # (the worker closes stale connections between tasks: here that would be the test's own)
        with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
            call_command("jobs", "worker", "--batch", stderr=err, stdout=io.StringIO())
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert f"failed 1 job left running by a stopped worker: [{lost.pk}]" in err.getvalue()
    waiting.refresh_from_db()
    assert waiting.status == JobStatus.SUCCEEDED
    out = io.StringIO()
    call_command("jobs", "list", stdout=out)
    assert "succeeded" in out.getvalue()
    assert "the worker stopped" in out.getvalue()


# --- who sees what --------------------------------------------------------------------------------


def test_a_user_sees_only_their_own_jobs_and_an_admin_every_job(registrar):
    job = start(registrar, n=1)
    run_jobs()
    other = make_user(Role.REGISTRAR)
    admin = make_user(Role.ADMIN)
    with pytest.raises(NotFound):
        access_job_by_id(other, job.pk)
    assert signed_in(other).get(f"/jobs/{job.pk}/").status_code == 404
    assert "Counting" not in signed_in(other).get("/jobs/").content.decode()
    mine = signed_in(registrar).get(f"/jobs/{job.pk}/")
    assert mine.status_code == 200
    assert "counted to 1" in mine.content.decode()
    assert "Counting" in signed_in(registrar).get("/jobs/").content.decode()
    assert "Counting" in signed_in(admin).get("/jobs/?who=all").content.decode()
    assert signed_in(admin).get(f"/jobs/{job.pk}/").status_code == 200
    assert Client().get(f"/jobs/{job.pk}/").status_code == 302  # anonymous: to the sign-in page


def test_a_result_is_hidden_once_the_owner_lost_the_right_it_needs(op):
    job = job_start(
        owner=op.registrar,
        kind="counting",
        label="Counting",
        task=counting_job,
        right=Right.REGISTER_HOUSEHOLDS,
        params={"n": 1},
    ).job
    run_jobs()
    UserProfile.objects.filter(user=op.registrar).update(role=Role.VIEWER)
    page = signed_in(op.registrar).get(f"/jobs/{job.pk}/").content.decode()
    assert "counted to 1" not in page
    assert "The result is not shown" in page


def test_the_status_part_polls_while_the_job_runs_and_stops_when_it_ends(registrar):
    job = start(registrar, n=1)
    client = signed_in(registrar)
    waiting = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in waiting
    assert "<html" not in waiting
    assert "Waiting for the worker" in waiting
    run_jobs()
    ended = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in ended
    assert "counted to 1" in ended


# --- the household jobs ----------------------------------------------------------------------------


def test_a_household_file_is_checked_and_imported_as_jobs_from_the_pages(op):
    client = signed_in(op.registrar)
    csv = (
        HEADER
        + b"Zainab Bibi,female,1,PK50401,destroyed,yes,none,\nGul Bibi,female,1,PK50401,damaged,yes,none,\n"
    )
    # when the registrar uploads a file, the page answers at once with the job's page
    uploaded = client.post("/households/import/", {"file": SimpleUploadedFile("a.csv", csv, "text/csv")})
    job = Job.objects.get()
    assert uploaded["Location"] == f"/jobs/{job.pk}/"
    assert not HouseholdImport.objects.exists()
    # the worker checks the file
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.input == b""  # the upload is not kept on the job (the import record holds it)
    preview = HouseholdImport.objects.get()
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "2 households in a.csv are ready to import" in page
    assert f"/households/import/{preview.pk}/" in page
    # importing it is a job too; asking twice gives the same job
    commit = client.post(f"/households/import/{preview.pk}/")
    assert client.post(f"/households/import/{preview.pk}/")["Location"] == commit["Location"]
    assert not Household.objects.exists()
    run_jobs()
    done = client.get(commit["Location"]).content.decode()
    assert "Imported 2 households from a.csv." in done
    assert Household.objects.count() == 2


def test_a_refused_household_file_fails_its_job_with_every_problem_and_registers_nothing(op):
    client = signed_in(op.registrar)
    bad = HEADER + b"Zainab Bibi,female,1,Atlantis,flattened,no,none,\n"
    response = client.post("/households/import/", {"file": SimpleUploadedFile("b.csv", bad, "text/csv")})
    run_jobs()
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED
    assert {p["field"] for p in job.problems} >= {"origin", "house_damage"}
    assert all(p["row"] == 2 for p in job.problems)
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was written." in page
    assert "neither a P-code nor a place name of the gazetteer" in page
    assert "Atlantis" not in page  # a refused cell is never quoted
    assert not Household.objects.exists()


def test_an_import_refused_at_commit_leaves_the_registry_as_it_was(op):
    # given a previewed file whose CNIC someone registers before the import
    client = signed_in(op.registrar)
    csv = HEADER + b"Zainab Bibi,female,1,PK50401,destroyed,yes,cnic,13503-7654321-2\n"
    client.post("/households/import/", {"file": SimpleUploadedFile("c.csv", csv, "text/csv")})
    run_jobs()
    preview = HouseholdImport.objects.get()
    register(op, document_number="13503-7654321-2", head_name="Zainab Bibi", head_sex="female")
    before = Household.objects.count()
    # when the import runs
    commit = client.post(f"/households/import/{preview.pk}/")
    run_jobs()
    # then it fails naming the line and the field, and the registry is unchanged
    job = Job.objects.get(kind="household_import_commit")
    assert job.status == JobStatus.FAILED
    assert job.problems == [{"row": 2, "field": "document_number", "reason": job.problems[0]["reason"]}]
    assert "already registered" in job.problems[0]["reason"]
    assert Household.objects.count() == before
    assert "Nothing was written." in client.get(commit["Location"]).content.decode()


def test_the_duplicate_search_runs_as_a_job_from_the_queue_page(op):
    register(op)
    register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    client = signed_in(op.registrar)
    started = client.post("/households/duplicates/", {"search": "registry"})
    # a second click while it waits gives the same job
    assert client.post("/households/duplicates/", {"search": "registry"})["Location"] == started["Location"]
    run_jobs()
    page = client.get(started["Location"]).content.decode()
    assert "Households searched" in page
    assert "/households/duplicates/" in page
    assert (
        signed_in(make_user(Role.VIEWER)).post("/households/duplicates/", {"search": "registry"}).status_code
        == 403
    )
    assert Job.objects.count() == 1


# --- the terminal ----------------------------------------------------------------------------------


def test_the_terminal_progress_draws_a_bar_on_a_tty_and_lines_otherwise():
    tty = io.StringIO()
    progress = TerminalProgress(tty, tty=True, width=10)
    progress("checking rows", 5, 10)
    progress("checking rows", 10, 10)
    progress.close()
    assert "\rchecking rows [#####.....] 5/10 (50%)" in tty.getvalue()
    assert "[##########] 10/10 (100%)" in tty.getvalue()
    assert tty.getvalue().endswith("\n")

    log = io.StringIO()
    progress = TerminalProgress(log, tty=False, every=3600)
    for i in range(1000):
        progress("checking rows", i, 1000)
    progress("checking rows", 1000, 1000)
    progress("registering", 0, 0)
    lines = log.getvalue().splitlines()
    assert [line.split(" [")[0] for line in lines] == [
        "checking rows: 0/1,000 (0%)",
        "checking rows: 1,000/1,000 (100%)",
        "registering",
    ]
    assert "\r" not in log.getvalue()


def test_the_import_command_shows_its_progress_on_stderr(op, tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(HEADER + b"Zainab Bibi,female,1,PK50401,destroyed,yes,none,\n")
    err, out = io.StringIO(), io.StringIO()
    call_command(
        "households", "import", str(path), "--as", op.registrar.username, "--commit", stdout=out, stderr=err
    )
    assert "Imported 1 household " in out.getvalue()
    assert "checking rows: 0/1 (0%)" in err.getvalue()
    assert "registering the households" in err.getvalue()
    quiet = io.StringIO()
    call_command("households", "dedupe", "--quiet", stdout=io.StringIO(), stderr=quiet)
    assert quiet.getvalue() == ""
    loud = io.StringIO()
    call_command("households", "dedupe", stdout=io.StringIO(), stderr=loud)
    assert "reading the registry" in loud.getvalue()


# --- the API's job routes ---------------------------------------------------------------------------


def api(user: Any) -> Client:
    _, plain = token_create(actor=None, username=user.get_username(), name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def test_the_api_checks_and_imports_a_large_file_through_jobs(op):
    client = api(op.registrar)
    csv = HEADER + b"Zainab Bibi,female,1,PK50401,destroyed,yes,none,\n"
    body = {"filename": "big.csv", "content_base64": base64.b64encode(csv).decode()}
    started = client.post("/api/households/import-jobs", body, content_type="application/json")
    assert started.status_code == 202
    job = started.json()
    assert (job["status"], job["kind"], job["url"]) == (
        "queued",
        "household_import_preview",
        f"/jobs/{job['id']}/",
    )
    run_jobs()
    checked = client.get(f"/api/core/jobs/{job['id']}").json()
    assert checked["status"] == "succeeded"
    assert checked["result"]["figures"][0] == {"label": "Households to import", "value": 1}
    # the import's number, which the client commits, is among the job's figures
    figures = {f["label"]: f["value"] for f in checked["result"]["figures"]}
    assert figures["Import number"] == HouseholdImport.objects.get().pk
    commit = client.post(f"/api/households/imports/{figures['Import number']}/commit-job")
    assert commit.status_code == 202
    assert (
        client.post(f"/api/households/imports/{figures['Import number']}/commit-job").status_code == 200
    )  # the same job
    run_jobs()
    assert client.get(f"/api/core/jobs/{commit.json()['id']}").json()["status"] == "succeeded"
    assert Household.objects.count() == 1
    listed = client.get("/api/core/jobs").json()
    assert listed["count"] == 2
    # another registrar does not see them
    assert api(make_user(Role.REGISTRAR)).get(f"/api/core/jobs/{job['id']}").status_code == 404


def test_the_api_reports_a_refused_file_through_its_job(op):
    client = api(op.registrar)
    bad = HEADER + b"Zainab Bibi,female,1,Atlantis,destroyed,yes,none,\n"
    body = {"filename": "bad.csv", "content_base64": base64.b64encode(bad).decode()}
    job = client.post("/api/households/import-jobs", body, content_type="application/json").json()
    run_jobs()
    failed = client.get(f"/api/core/jobs/{job['id']}").json()
    assert failed["status"] == "failed"
    assert failed["problems"] == [{"row": 2, "field": "origin", "reason": failed["problems"][0]["reason"]}]
    assert "neither a P-code nor a place name of the gazetteer" in failed["problems"][0]["reason"]
    assert "Atlantis" not in str(failed)  # a refused cell is never quoted


def test_a_file_too_large_for_any_import_is_refused_before_it_is_queued(op):
    client = signed_in(op.registrar)
    csv = HEADER + b"Zainab Bibi,female,1,PK50401,destroyed,yes,none,\n"
    with mock.patch("reliefops.households.jobs.MAX_BYTES", 20):
        response = client.post("/households/import/", {"file": SimpleUploadedFile("e.csv", csv, "text/csv")})
    assert response.status_code == 422
    assert "larger than 0 MB; split it" in response.content.decode()
    assert not Job.objects.exists()


def test_a_kept_upload_is_cleared_a_day_after_its_job_ended(registrar):
    # given a finished preview that kept its file for a commit nobody started
    job = start(registrar, n=1)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, input=b"4W rows", finished_at=timezone.now() - timedelta(hours=23)
    )
    fresh = start(registrar, n=1)  # a queued job keeps its file whatever its age
    Job.objects.filter(pk=fresh.pk).update(input=b"to check", created_at=timezone.now() - timedelta(days=3))
    # then within the day it is kept, after it is cleared; a waiting job's file is never touched
    assert jobs_clear_old_inputs() == 0
    assert jobs_clear_old_inputs(now=timezone.now() + timedelta(hours=2)) == 1
    assert bytes(Job.objects.get(pk=job.pk).input) == b""
    assert bytes(Job.objects.get(pk=fresh.pk).input) == b"to check"
    out = io.StringIO()
    call_command("jobs", "sweep", stdout=out)
    assert "0 kept files cleared" in out.getvalue()


def test_a_jobs_values_sit_beside_its_page_keys_and_never_replace_them():
    # a value for a script is at the top level of the result
    assert JobResult(summary="done", values={"batch_id": 7}).as_json()["batch_id"] == 7
    # and one named as a key of the page is refused, not written over it
    with pytest.raises(ValueError, match="summary"):
        JobResult(summary="done", values={"summary": "other"}).as_json()
