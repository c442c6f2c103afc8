"""`reliefops jobs ACTION`: run the worker that runs the long jobs, list jobs, fail lost ones.

`worker` first fails the jobs whose worker died (see core.jobs.jobs_mark_stale), then runs
django-tasks-db's database worker: it takes the queued jobs one at a time, oldest first, and keeps
polling for new ones (`--batch`: runs what is queued, then stops). Run one worker per server
beside the web server, under the same account and settings (docs/operations.md).
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser
from django.utils import timezone

from reliefops.core.cli import ReliefopsCommand
from reliefops.core.jobs import jobs_clear_old_inputs, jobs_mark_stale, worker_name
from reliefops.core.models import Job, JobStatus
from reliefops.core.text import counted


class Command(ReliefopsCommand):
    help = "Background jobs: run the worker, list the jobs, fail jobs whose worker died."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        worker = actions.add_parser("worker", help="run the queued jobs (and keep waiting for new ones)")
        worker.add_argument("--batch", action="store_true", help="run the jobs queued now, then stop")
        worker.add_argument(
            "--interval", type=float, default=1.0, help="seconds between looks at the queue (default 1)"
        )
        worker.add_argument("--max-tasks", type=int, default=None, help="stop after this many jobs")
        listing = actions.add_parser("list", help="the latest jobs with their status")
        listing.add_argument("--limit", type=int, default=20)
        listing.add_argument("--status", choices=[s.value for s in JobStatus], default=None)
        actions.add_parser(
            "sweep", help="fail the jobs whose worker died, clear files kept past a day; print what it did"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"])(options)

    def _worker(self, options: dict[str, Any]) -> None:
        failed = jobs_mark_stale()
        if failed:
            self.stderr.write(
                f"failed {counted(len(failed), 'job')} left running by a stopped worker: {failed}"
            )
        cleared = jobs_clear_old_inputs()
        if cleared:
            self.stderr.write(f"cleared the files of {counted(cleared, 'job')} kept past a day")
        self.stderr.write(f"worker {worker_name()} waiting for jobs")
        arguments = ["--no-reload", "--no-startup-delay", "--interval", str(options["interval"])]
        if options["batch"]:
            arguments.append("--batch")
        if options["max_tasks"]:
            arguments += ["--max-tasks", str(options["max_tasks"])]
        call_command("db_worker", *arguments, verbosity=options["verbosity"])

    def _list(self, options: dict[str, Any]) -> None:
        jobs = Job.objects.select_related("owner").defer("input", "result")
        if options["status"]:
            jobs = jobs.filter(status=options["status"])
        listed = list(jobs[: options["limit"]])
        if not listed:
            status = f" {options['status']}" if options["status"] else ""
            self.stdout.write(f"no{status} jobs")
            return
        for job in listed:
            progress = f" {job.done}/{job.total}" if job.total else ""
            owner = job.owner.get_username()
            created = timezone.localtime(job.created_at)
            self.stdout.write(
                f"{job.pk:>6}  {created:%Y-%m-%d %H:%M}  {job.status:<9}  {owner:<16}"
                f"  {job.label}  [{job.stage}{progress}]{'  ' + job.error if job.error else ''}"
            )

    def _sweep(self, options: dict[str, Any]) -> None:
        failed = jobs_mark_stale()
        cleared = jobs_clear_old_inputs()
        self.stdout.write(f"{counted(cleared, 'kept file')} cleared: older than a day")
        self.stdout.write(
            f"{counted(len(failed), 'job')} failed: their worker had stopped {failed or ''}".rstrip()
        )
