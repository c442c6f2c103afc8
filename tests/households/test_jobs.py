"""The households' jobs record their end in the transaction that writes their work (the check of a
file, its households, the pairs of a search), so that a job is succeeded exactly when its work is
in, whenever the worker dies."""

from __future__ import annotations

from typing import Any

import pytest

from reliefops.core.jobs import job_run
from reliefops.core.models import Job, JobStatus
from reliefops.households import jobs as household_jobs
from reliefops.households.models import DuplicateRun, Household, HouseholdImport, ImportStatus
from tests.households.conftest import build_operation, register

HEADER = b"head_name,head_sex,females_18_59,origin,house_damage,consent,document_type,document_number\n"
FILE = (
    HEADER
    + b"Zainab Bibi,female,1,PK50401,destroyed,yes,none,\nGul Bibi,female,1,PK50401,damaged,yes,none,\n"
)


class Killed(BaseException):
    """The worker's process ending on the spot (kill -9): nothing of the job's code runs after it."""


@pytest.fixture
def op(db):
    return build_operation()


def _checked(op: Any) -> HouseholdImport:
    job = household_jobs.import_preview_start(owner=op.registrar, filename="a.csv", content=FILE).job
    job_run(job.pk, household_jobs._preview)
    return HouseholdImport.objects.get()


def _die_after(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The worker dies as soon as the service `name` returns: its transaction is committed."""
    service = getattr(household_jobs, name)

    def call_then_die(**kwargs: Any) -> Any:
        service(**kwargs)
        raise Killed

    monkeypatch.setattr(household_jobs, name, call_then_die)


def _die_with_the_end_written(monkeypatch: pytest.MonkeyPatch) -> None:
    done = household_jobs.job_done

    def end_then_die(job: Job, result: Any) -> None:
        done(job, result)
        raise Killed

    monkeypatch.setattr(household_jobs, "job_done", end_then_die)


def test_a_check_killed_after_its_commit_is_succeeded_with_the_import_to_open(op, monkeypatch):
    job = household_jobs.import_preview_start(owner=op.registrar, filename="a.csv", content=FILE).job
    _die_after(monkeypatch, "household_import_preview")
    with pytest.raises(Killed):
        job_run(job.pk, household_jobs._preview)
    job.refresh_from_db()
    batch = HouseholdImport.objects.get()
    assert job.status == JobStatus.SUCCEEDED
    assert {"label": "Import number", "value": batch.pk} in job.result["figures"]


def test_an_import_killed_after_its_commit_is_succeeded_with_its_households(op, monkeypatch):
    batch = _checked(op)
    job = household_jobs.import_commit_start(owner=op.registrar, import_id=batch.pk, filename="a.csv").job
    _die_after(monkeypatch, "household_import_commit")
    with pytest.raises(Killed):
        job_run(job.pk, household_jobs._commit)
    job.refresh_from_db()
    assert Household.objects.count() == 2
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["figures"] == [{"label": "Households registered", "value": 2}]


def test_an_import_killed_before_its_commit_has_neither_households_nor_an_end(op, monkeypatch):
    batch = _checked(op)
    job = household_jobs.import_commit_start(owner=op.registrar, import_id=batch.pk, filename="a.csv").job
    _die_with_the_end_written(monkeypatch)
    with pytest.raises(Killed):
        job_run(job.pk, household_jobs._commit)
    job.refresh_from_db()
    assert not Household.objects.exists()
    assert HouseholdImport.objects.get().status == ImportStatus.PREVIEWED
    assert job.status == JobStatus.RUNNING  # failed as lost once swept


def test_a_search_killed_after_its_commit_is_succeeded_with_its_pairs(op, monkeypatch):
    register(op)
    register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    job = household_jobs.duplicates_run_start(owner=op.registrar, threshold=85).job
    _die_after(monkeypatch, "duplicates_run")
    with pytest.raises(Killed):
        job_run(job.pk, household_jobs._duplicates)
    job.refresh_from_db()
    run = DuplicateRun.objects.get()
    assert job.status == JobStatus.SUCCEEDED
    assert {"label": "New pairs queued", "value": run.queued} in job.result["figures"]
