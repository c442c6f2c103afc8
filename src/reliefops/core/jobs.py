"""Long jobs (imports, duplicate searches) run by a background worker, with a progress record.

A page that starts a long job calls `job_start`: it records a `Job` (kind, owner, the uploaded
file) and queues a django-tasks task in the same transaction, so there is never a job without its
task or a task without its job. The worker (`reliefops jobs worker`, django-tasks-db's database
worker behind it) runs the task, whose body is `job_run(job_id, body)`: it marks the job running,
hands the body a progress callback, and records the outcome: a result summary with links, or the
error, with every problem's row, field and reason when a service refused the work.

What a job writes is written by one service in one transaction, so a job that fails leaves the
data as it was. A job whose work commits something has its success recorded in that very
transaction, as its last write: the body hands the service a `before_commit` hook that calls
`job_done`. The job is then succeeded exactly when its work is in: a worker killed at any moment
leaves either a succeeded job with its work, or a job still "running" with nothing of its work.
A worker that dies leaves its job "running"; `jobs_mark_stale` fails such a job when the worker's
process is gone (checked on the same host, when a worker starts and when a page shows the job) or
when its heartbeat is older than `STALE_AFTER`.

The CLI runs the same bodies in the foreground with a `TerminalProgress` instead.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.utils import timezone

from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.core.models import JOB_REFUSED, Job, JobStatus
from reliefops.core.services import audit_record

# (stage, done, total): what the work is doing now, and how far it is; total 0 while unknown.
Progress = Callable[[str, int, int], None]

# A running job whose heartbeat is older than this is taken for dead. The heartbeat is written
# every HEARTBEAT_SECONDS by a thread beside the job, except while the job holds SQLite's write
# lock (a long import's final transaction), so this is well above the longest such transaction.
STALE_AFTER = timedelta(seconds=getattr(settings, "RELIEFOPS_JOB_STALE_SECONDS", 15 * 60))
HEARTBEAT_SECONDS = 15.0
# A finished job keeps its uploaded file only for a follow-up (a 4W preview's commit), this long.
KEEP_INPUT = timedelta(days=1)
PROGRESS_WRITE_SECONDS = 0.5
LOST_MESSAGE = (
    "the worker stopped while running this job. What a job writes is written all at once or not at "
    "all: look at the page of what it was doing before starting it again (a repeat changes nothing "
    "that was already done)."
)


class WorkerLost(Exception):
    """Recorded on a task whose worker died while running it."""


def worker_name() -> str:
    """This process as a worker: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --- what a job returns --------------------------------------------------------------------------------


@dataclass
class JobResult:
    """The summary a finished job shows: a sentence, figures, notes, links to the pages with the
    whole outcome, at most one follow-up action (a button that posts `fields` to `url`), and an
    optional table. Kept as JSON on the job; it carries no personal data.

    `values` are what a script reads instead of the words (an id, counts), by name, each at the top
    level of the JSON beside the page's own keys."""

    summary: str
    figures: list[tuple[str, str | int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    action: dict[str, Any] | None = None
    table: dict[str, Any] | None = None
    keep_input: bool = False  # keep the uploaded file for a follow-up job (a preview's commit)
    values: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("keep_input")
        data.pop("values")
        data["figures"] = [{"label": label, "value": value} for label, value in self.figures]
        data["links"] = [{"label": label, "url": url} for label, url in self.links]
        taken = sorted(data.keys() & self.values.keys())
        if taken:
            raise ValueError(f"a job's values may not take the names of its page's keys: {', '.join(taken)}")
        return {**data, **self.values}


class JobRefused(ServiceError):
    """A job body's refusal that still points somewhere (the record of the refused file)."""

    def __init__(self, message: str, problems: list[Any], links: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.problems = problems
        self.links = links


@dataclass(frozen=True)
class JobSequel:
    """What became of a finished job's work since it ended, as the app that runs it tells it: a
    preview applied (or being applied), a batch reverted. The job's page shows it, and no longer
    offers the result's follow-up action, which was taken already.

    Its sentence is `before`, the link's label, then `after`; a `warning` when the work was undone
    or never done."""

    before: str
    link: tuple[str, str] | None = None
    after: str = ""
    warning: bool = False

    @property
    def sentence(self) -> str:
        return f"{self.before}{self.link[0] if self.link else ''}{self.after}"


# What became of a kind of job since, by kind: the apps register theirs when they are ready.
_sequels: dict[str, Callable[[Job], JobSequel | None]] = {}


def job_sequel_register(kind: str, describe: Callable[[Job], JobSequel | None]) -> None:
    """Tell what became of a succeeded job of this kind since it ended (None: nothing yet)."""
    _sequels[kind] = describe


def job_sequel(job: Job) -> JobSequel | None:
    """What became of a succeeded job's work since it ended; None when nothing did (or is known)."""
    describe = _sequels.get(job.kind)
    if describe is None or job.status != JobStatus.SUCCEEDED:
        return None
    return describe(job)


# --- starting ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobStart:
    job: Job
    replayed: bool = False


def job_start(
    *,
    owner: Any,
    kind: str,
    label: str,
    task: Any,
    right: str,
    params: dict[str, Any] | None = None,
    input: bytes = b"",
    input_name: str = "",
    key: str = "",
) -> JobStart:
    """Record a job and queue its task, both or neither; a repeated key returns the first job."""
    with transaction.atomic():
        if key:
            existing = Job.objects.filter(owner=owner, key=key).first()
            if existing is not None:
                return JobStart(existing, replayed=True)
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    kind=kind,
                    label=label[:200],
                    owner=owner,
                    right=str(right),
                    key=key,
                    params=params or {},
                    input=input,
                    input_name=input_name[:200],
                    stage="waiting for the worker",
                )
        except IntegrityError:
            # Two submissions with one key raced: the first one's job is the answer.
            return JobStart(Job.objects.get(owner=owner, key=key), replayed=True)
        queued = task.enqueue(job.pk)
        job.task_id = str(queued.id)
        job.save(update_fields=["task_id"])
        audit_record(
            actor=owner,
            action="job.start",
            object_type="job",
            object_id=job.pk,
            after={"kind": kind, "label": job.label, "input_bytes": len(input), "params": params or {}},
        )
    return JobStart(job)


# --- progress ------------------------------------------------------------------------------------------


class JobProgress:
    """The progress callback a job body gets: writes the job's stage and counts, at most every
    PROGRESS_WRITE_SECONDS (and at a new stage, and at its end), so that reporting every row
    costs nothing.

    Inside a transaction the work opened, a write would stay invisible until the commit and, on
    SQLite, hold the write lock for others: there the latest figures are only remembered and
    written afterwards. (The transactions open when the callback was made, none in the worker, do
    not count.)
    """

    def __init__(self, job_id: int, interval: float = PROGRESS_WRITE_SECONDS) -> None:
        self.job_id = job_id
        self.interval = interval
        self._depth = len(connection.atomic_blocks)
        self.writes = 0
        self._last_write = float("-inf")
        self._written: tuple[str, int, int] | None = None
        self._latest: tuple[str, int, int] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        total = max(0, int(total))
        done = max(0, int(done))
        if total:
            done = min(done, total)
        self._latest = (stage[:200], done, total)
        now = time.monotonic()
        new_stage = self._written is None or self._written[0] != self._latest[0]
        stage_done = bool(total) and done >= total
        if not (new_stage or stage_done) and now - self._last_write < self.interval:
            return
        self.flush()

    @property
    def latest(self) -> tuple[str, int, int] | None:
        return self._latest

    def flush(self) -> None:
        if self._latest is None or self._latest == self._written:
            return
        if len(connection.atomic_blocks) > self._depth:
            return
        stage, done, total = self._latest
        Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(
            stage=stage, done=done, total=total, heartbeat_at=timezone.now()
        )
        self._written = self._latest
        self._last_write = time.monotonic()
        self.writes += 1


class _Heartbeat(threading.Thread):
    """Marks the job alive every `every` seconds from its own database connection.

    It only touches a running job, so that a beat never undoes the job's end; and it falls quiet
    before the end is written inside the work's transaction (`job_done`), where on PostgreSQL the
    end's row lock would hold a beat until the commit (it would then change nothing)."""

    def __init__(self, job_id: int, every: float) -> None:
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.job_id = job_id
        self.every = every
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopped.wait(self.every):
                try:
                    Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    continue  # the database is busy (SQLite's write lock held by the job): next beat
        finally:
            connections.close_all()

    def quiet(self) -> None:
        """No beat from now on; does not wait for one under way."""
        self._stopped.set()

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)


class TerminalProgress:
    """Progress on a terminal: a bar redrawn in place on a TTY, a plain line now and then otherwise
    (a log file or cron's mail gets a line per stage and one every `every` seconds)."""

    def __init__(
        self, stream: IO[str] | None = None, *, tty: bool | None = None, every: float = 5.0, width: int = 30
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every = every
        self.width = width
        self.started = time.monotonic()
        self._last = float("-inf")
        self._stage = ""
        self._finished_stage: str | None = None
        self._drawn = False

    def _figures(self, done: int, total: int) -> str:
        if total:
            return f"{done:,}/{total:,} ({min(100, done * 100 // total)}%)"
        return f"{done:,}" if done else ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        new_stage = stage != self._stage
        finished = bool(total) and done >= total
        if self.tty:
            if not (new_stage or finished) and now - self._last < 0.1:
                return
            if total:
                filled = min(self.width, done * self.width // total)
                bar = "[" + "#" * filled + "." * (self.width - filled) + "] "
            else:
                bar = ""
            line = f"{stage} {bar}{self._figures(done, total)}  {now - self.started:.0f} s"
            self.stream.write("\r" + line.ljust(78))
            self._drawn = True
        else:
            due = now - self._last >= self.every
            if not (new_stage or due or (finished and self._finished_stage != stage)):
                return
            if finished:
                self._finished_stage = stage
            figures = self._figures(done, total)
            self.stream.write(f"{stage}{': ' + figures if figures else ''} [{now - self.started:.0f} s]\n")
        self.stream.flush()
        self._stage = stage
        self._last = now

    def close(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SilentProgress(TerminalProgress):
    """Progress that shows nothing (a command's --quiet)."""

    def __call__(self, stage: str, done: int, total: int) -> None:
        return None


def command_progress(command: Any, *, quiet: bool = False) -> TerminalProgress:
    """The progress of a management command on its stderr (the raw stream, so that a bar can be
    redrawn in place), or nothing with --quiet. Use it as a context manager: it ends the bar."""
    stream = getattr(command.stderr, "_out", command.stderr)
    return SilentProgress(stream) if quiet else TerminalProgress(stream)


# --- running (in the worker) ---------------------------------------------------------------------------


def _claim(job_id: int) -> Job | None:
    """Mark a queued job running for this worker; None when it is not queued (run or failed already)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        worker=worker_name(),
        stage="starting",
    )
    return Job.objects.select_related("owner").get(pk=job_id) if claimed else None


def _finish(job_id: int, **fields: Any) -> None:
    """Record how the job ended, unless it is succeeded already: its success was written with its
    work (`job_done`), and nothing that happens after that commit makes the work undone."""
    Job.objects.filter(pk=job_id).exclude(status=JobStatus.SUCCEEDED).update(
        finished_at=timezone.now(), heartbeat_at=timezone.now(), **fields
    )


def _succeeded(result: JobResult, progress: JobProgress | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"status": JobStatus.SUCCEEDED, "stage": "done", "result": result.as_json()}
    if not result.keep_input:
        fields["input"] = b""
    if progress is not None and progress.latest is not None and progress.latest[2]:
        fields.update(done=progress.latest[2], total=progress.latest[2])
    return fields


@dataclass
class _Running:
    progress: JobProgress
    heartbeat: _Heartbeat


# The jobs this process runs now, by id: what `job_done` needs of them.
_running: dict[int, _Running] = {}


def job_done(job: Job, result: JobResult) -> None:
    """Record the job's success inside the transaction that commits its work, as its last write.

    A body calls it from the hook its service calls just before that commit (`before_commit`), so
    that the job's end and its work are committed together: a worker killed before the commit
    leaves neither, one killed after it leaves both. Written by the job's own connection, in the
    transaction, it waits for no lock: the heartbeat falls quiet first. Should the transaction
    roll back after all, the end goes with it and the job ends as its body does."""
    if not connection.in_atomic_block:
        raise RuntimeError("job_done records a job's end inside the transaction of its work; there is none")
    running = _running.get(job.pk)
    if running is not None:
        running.heartbeat.quiet()
    Job.objects.filter(pk=job.pk).update(
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        **_succeeded(result, running.progress if running is not None else None),
    )


def _problems(exc: ServiceError) -> list[dict[str, Any]]:
    found = getattr(exc, "problems", None) or []
    return [
        {
            "row": getattr(p, "row", None),
            "field": getattr(p, "field", ""),
            "reason": getattr(p, "reason", str(p)),
        }
        for p in found
    ]


def job_run(job_id: int, body: Callable[[Job, Progress], JobResult]) -> dict[str, Any]:
    """Run a job's body in the worker and record how it ended; what the task returns is a summary
    for the task's own record (django-tasks-db keeps it).

    The body's result is recorded when it returns, unless the body had it recorded with its work
    already (`job_done`); then the job is succeeded whatever happens after that commit."""
    job = _claim(job_id)
    if job is None:
        return {"job": job_id, "status": "not run: it was not waiting to run"}
    progress = JobProgress(job.pk)
    heartbeat = _Heartbeat(job.pk, HEARTBEAT_SECONDS)
    heartbeat.start()
    _running[job.pk] = _Running(progress, heartbeat)
    try:
        result = body(job, progress)
    except ServiceError as exc:
        links = getattr(exc, "links", [])
        _finish(
            job.pk,
            status=JobStatus.FAILED,
            stage=JOB_REFUSED,
            error=exc.message.split("\n", 1)[0] if isinstance(exc, InvalidInput) else exc.message,
            problems=_problems(exc),
            result=JobResult(summary="", links=links).as_json() if links else None,
            input=b"",
        )
        return {"job": job_id, "status": JobStatus.FAILED}
    except Exception as exc:
        _finish(
            job.pk,
            status=JobStatus.FAILED,
            stage="stopped",
            error=(
                f"the job stopped on an unexpected error ({type(exc).__name__}); the worker's log has "
                "the details. What a job writes is written all at once or not at all: look at the "
                "page of what it was doing before starting it again."
            ),
            input=b"",
        )
        raise
    finally:
        _running.pop(job.pk, None)
        heartbeat.stop()
    _finish(job.pk, **_succeeded(result, progress))
    return {"job": job_id, "status": JobStatus.SUCCEEDED, "summary": result.summary}


# --- jobs whose worker died ----------------------------------------------------------------------------


def _process_gone(worker: str, host: str) -> bool:
    """Whether the worker `host:pid` was on this host and its process no longer exists."""
    name, _, pid = worker.rpartition(":")
    if name != host or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another account
    return False


def jobs_mark_stale(*, now: datetime | None = None) -> list[int]:
    """Fail every running job whose worker is gone: its process has ended (on this host), or its
    heartbeat is older than STALE_AFTER; and every queued job whose task no longer exists or
    failed before it ran. Returns the ids of the jobs it failed."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    host = socket.gethostname()
    running = list(
        Job.objects.filter(status=JobStatus.RUNNING).values_list("pk", "worker", "heartbeat_at", "task_id")
    )
    lost = [
        (pk, task_id)
        for pk, worker, beat, task_id in running
        if (beat is None or beat < now - STALE_AFTER) or _process_gone(worker, host)
    ]
    queued = list(Job.objects.filter(status=JobStatus.QUEUED).values_list("pk", "task_id"))
    unrunnable: list[int] = []
    if queued:
        alive = set(
            DBTaskResult.objects.filter(id__in=[t for _, t in queued if t])
            .exclude(status="FAILED")
            .values_list("id", flat=True)
        )
        alive_ids = {str(t) for t in alive}
        unrunnable = [pk for pk, task_id in queued if task_id not in alive_ids]
    if not lost and not unrunnable:
        return []
    with transaction.atomic():
        failed = []
        for pk, _task in lost:
            if Job.objects.filter(pk=pk, status=JobStatus.RUNNING).update(
                status=JobStatus.FAILED, stage="stopped", error=LOST_MESSAGE, finished_at=now, input=b""
            ):
                failed.append(pk)
        for pk in unrunnable:
            if Job.objects.filter(pk=pk, status=JobStatus.QUEUED).update(
                status=JobStatus.FAILED,
                stage="not run",
                error="the worker could not run this job; start it again",
                finished_at=now,
                input=b"",
            ):
                failed.append(pk)
        task_ids = [t for pk, t in lost if pk in failed and t]
        if task_ids:
            DBTaskResult.objects.filter(id__in=task_ids, status="RUNNING").update(
                status="FAILED",
                finished_at=now,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback="The worker running this task stopped before it finished.",
            )
        for pk in failed:
            audit_record(
                actor=None, action="job.lost", object_type="job", object_id=pk, after={"status": "failed"}
            )
    return failed


def jobs_clear_old_inputs(*, now: datetime | None = None) -> int:
    """Clear the uploaded files that finished jobs kept for a follow-up nobody started in time;
    returns how many. (A 4W preview kept for its commit: the partner uploads it again.)"""
    now = now or timezone.now()
    return (
        Job.objects.filter(
            finished_at__lt=now - KEEP_INPUT, status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED]
        )
        .exclude(input=b"")
        .update(input=b"")
    )
