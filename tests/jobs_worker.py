"""Running the background jobs' worker inside a test: django-tasks-db's own worker loop, either in
this thread until the queue is empty (`run_jobs`) or in a thread beside a live server
(`worker_thread`). Both take the tasks from the database as `reliefops jobs worker` does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import connections
from django_tasks_db.management.commands.db_worker import Worker


def _worker(*, batch: bool, interval: float) -> Worker:
    return Worker(
        queue_names=["default"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )


def run_jobs() -> int:
    """Run every queued job in this thread, as the worker would; returns how many ran.

    The worker closes stale connections between tasks; inside a test's transaction that would close
    the test's own connection, so here it does not."""
    worker = _worker(batch=True, interval=0)
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        worker.run()
    return worker._run_tasks


@contextmanager
def worker_thread(interval: float = 0.1) -> Iterator[Worker]:
    """A worker polling the queue in a thread of its own until the block ends."""
    worker = _worker(batch=False, interval=interval)

    def loop() -> None:
        try:
            worker.run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=loop, name="test-jobs-worker", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.running = False
        thread.join(timeout=10)
