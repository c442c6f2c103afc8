"""A child process that works on a database until it is killed: `python -m tests.reliability.worker MODE`.

The database comes from DATABASE_URL. Modes:

- `seed --households N --code CODE`: the stress round of tests.reliability.operation; prints its ids as JSON.
- `handovers --seed FILE`: hands each household of the seeded round its blanket by card token.
- `waybills --seed FILE`: dispatches a waybill from Balakot hub to Mansehra hub and confirms its
  delivery (one tarpaulin damaged), again and again.
- `import FILE`: imports a 4W file as `reliefops cluster import FILE` does.
- `generate FILE --rows N`: writes a 4W CSV of N rows (bench/cluster_import.py's generator).
- `enqueue-import FILE`: queues the 4W file as a coordinator's background job; prints its id.
- `jobs-worker --die MOMENT`: runs `reliefops jobs worker`, which kills itself (`kill -9`) at that
  moment of the first 4W upload it applies: `after-the-commit`, as soon as the import has committed
  its batch; `with-the-end-written`, once the job's end is written in the batch's transaction,
  before its commit.
- `check`: prints tests.reliability.operation.consistency() as JSON.

Each finished unit of work prints `done N` (flushed), so that a test knows work is under way.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reliefops.settings")
    import django

    django.setup()


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def handovers(seed: dict) -> None:
    from reliefops.households.services import handover_record

    day = dt.date.fromisoformat(seed["day"])
    for n, token in enumerate(seed["tokens"], start=1):
        handover_record(
            actor=None,
            round_id=seed["round_id"],
            point_site_id=seed["point_id"],
            collected_by="the head",
            handed_on=day,
            card_token=token,
            idempotency_key=f"kill-{token}",
        )
        _say(f"done {n}")


def waybills(seed: dict) -> None:
    from reliefops.stock.services import DeliveryLine, StockLine, waybill_confirm_delivery, waybill_dispatch

    day = dt.date.fromisoformat(seed["waybill_day"])
    item = seed["waybill_item_id"]
    n = 0
    while True:
        n += 1
        sent = waybill_dispatch(
            actor=None,
            from_site_id=seed["hub_from_id"],
            to_site_id=seed["hub_to_id"],
            lines=[StockLine(item_id=item, quantity=10)],
            dispatched_on=day,
        )
        waybill_confirm_delivery(
            actor=None,
            waybill_id=sent.waybill.pk,
            delivered_on=day,
            lines=[DeliveryLine(item_id=item, received=9, damaged=1, damage_reason="torn in the rain")],
        )
        _say(f"done {n}")


def import_file(path: str) -> None:
    from reliefops.cluster.importers import activity_report_import_file

    _say("started")
    result = activity_report_import_file(
        actor=None, data=Path(path).read_bytes(), filename=Path(path).name, preview=False
    )
    _say(f"done {result.added}")


# The scenario locks its reporting months (October 2005 to January 2006): the generated rows are
# moved to May to October 2006, which are open.
LATER_MONTHS = {"2005-10": "2006-05", "2005-11": "2006-06", "2005-12": "2006-07", "2006-01": "2006-08",
                "2006-02": "2006-09", "2006-03": "2006-10"}  # fmt: skip


def generate(path: str, rows: int) -> None:
    from bench.cluster_import import generate as write_4w

    target = Path(path)
    write_4w(target, rows)
    text = target.read_text(encoding="utf-8")
    for old, new in LATER_MONTHS.items():
        text = text.replace(f",{old}-", f",{new}-")
    target.write_text(text, encoding="utf-8")


def enqueue_import(path: str) -> None:
    """Queue the 4W file as a background job of a coordinator, as the API's large-file route does."""
    from django.contrib.auth import get_user_model

    from reliefops.cluster.jobs import upload_apply_start
    from reliefops.core.roles import Role
    from reliefops.core.services import user_create

    owner = get_user_model().objects.filter(username="kill-coordinator").first() or user_create(
        actor=None, username="kill-coordinator", password=None, role=Role.COORDINATOR
    )
    started = upload_apply_start(
        owner=owner, filename=Path(path).name, content=Path(path).read_bytes(), organisation_id=None
    )
    _say(json.dumps({"job": started.job.pk}))


DIE_MOMENTS = ["after-the-commit", "with-the-end-written"]


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def jobs_worker(die: str) -> None:
    """The jobs worker, killed at a chosen moment of a 4W apply rather than at a random one."""
    from unittest import mock

    from django.core.management import call_command

    from reliefops.cluster import jobs as cluster_jobs

    with contextlib.ExitStack() as patches:
        if die == "after-the-commit":
            apply = cluster_jobs.activity_report_import_file

            def apply_then_die(**kwargs: Any) -> Any:
                result = apply(**kwargs)  # returns once the batch is committed
                if not kwargs.get("preview"):
                    _die()
                return result

            patches.enter_context(
                mock.patch.object(cluster_jobs, "activity_report_import_file", apply_then_die)
            )
        else:
            done = cluster_jobs.job_done

            def end_then_die(job: Any, result: Any) -> None:
                done(job, result)  # inside the batch's transaction, not yet committed
                _die()

            patches.enter_context(mock.patch.object(cluster_jobs, "job_done", end_then_die))
        call_command("jobs", "worker")


def main() -> None:
    parser = argparse.ArgumentParser()
    modes = ["seed", "handovers", "waybills", "import", "enqueue-import", "jobs-worker", "check", "generate"]
    parser.add_argument("mode", choices=modes)
    parser.add_argument("--die", choices=DIE_MOMENTS, default=DIE_MOMENTS[0])
    parser.add_argument("file", nargs="?")
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--code", default="STRESS-1")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    _setup()
    from tests.reliability import operation

    if args.mode == "seed":
        print(json.dumps(operation.seed(households=args.households, code=args.code)))
    elif args.mode == "check":
        print(json.dumps(operation.consistency()))
    elif args.mode == "generate":
        generate(args.file, args.rows)
    elif args.mode == "enqueue-import":
        enqueue_import(args.file)
    elif args.mode == "jobs-worker":
        jobs_worker(args.die)
    elif args.mode == "import":
        import_file(args.file)
    else:
        seed = json.loads(Path(args.file).read_text())
        (handovers if args.mode == "handovers" else waybills)(seed)


if __name__ == "__main__":
    main()
