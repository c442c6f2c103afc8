"""Single-line stock postings per second through the service layer, beside raw SQL in the same run.

Postings measured (each one line of one unit):
- `raw`: the physical limit, in SQL through the database driver: lock the two balance rows, insert
  the line, update the balances, commit (the line is filed under a movement made beforehand);
- `raw same rows`: raw SQL writing every row the service writes: the movement, its line, both
  balances and an audit event;
- `distribute (named grant)`, `distribute (FIFO)`: `stock_distribute`, site -> beneficiaries, with
  the grant named or taken first-in-first-out from three grants held;
- `waybill dispatch`: `waybill_dispatch` (a waybill, its in-transit location, the posting).

Cases: one writer; 8 writer processes on 8 different balances; 8 writers on one hot balance with
too little stock for all (postings are refused; the proof that nothing was overdrawn is printed).
Every figure is the median of `--repeats` runs, the variants interleaved so that the noise of a
shared machine falls on all of them alike.

    python bench/ledger_postings.py                   # both databases, full runs
    python bench/ledger_postings.py --quick --databases sqlite
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import math
import multiprocessing
import os
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import database
import figures
import machine

DAY = dt.date(2005, 10, 20)
RAW = "raw"
RAW_SAME_ROWS = "raw same rows"
NAMED = "distribute (named grant)"
FIFO = "distribute (FIFO)"
DISPATCH = "waybill dispatch"
PREPARED = "distribute (named), prepared"  # PostgreSQL: server-side binding, prepared statements
VARIANTS = (RAW, RAW_SAME_ROWS, NAMED, FIFO, DISPATCH)
HOT_VARIANTS = (RAW, NAMED, FIFO)
WRITERS = 8
PLENTY = 10**12  # stock on an ordinary lane: never runs out


@dataclass(frozen=True)
class Lane:
    """What one writer posts from: one source balance, and all the ids a posting needs."""

    site_id: int
    to_site_id: int
    item_id: int
    grant_id: int
    source_location_id: int
    target_location_id: int
    source_balance_id: int
    target_balance_id: int
    header_id: int  # the movement raw lines are filed under
    actor_id: int


@dataclass(frozen=True)
class Task:
    variant: str
    seconds: float | None = None  # run for this long ...
    attempts: int | None = None  # ... or this many postings


@dataclass
class WriterResult:
    posted: int = 0
    refused: int = 0
    started: float = 0.0
    finished: float = 0.0
    errors: list[str] = field(default_factory=list)


# --- the writers (each its own process and its own database connections) -------------------------


def _raw_poster(target: database.Target, conn: Any, lane: Lane, same_rows: bool) -> Callable[[], bool]:
    """A posting in plain SQL through the driver; returns False when the stock is short."""
    sqlite = target.vendor == "sqlite"

    def sql(text: str) -> str:
        return text.replace("%s", "?") if sqlite else text

    lock = "" if sqlite else " FOR UPDATE"  # SQLite: BEGIN IMMEDIATE has taken the write lock
    select = sql(f"SELECT id, quantity FROM stock_balance WHERE id IN (%s, %s) ORDER BY id{lock}")
    insert_line = sql(
        "INSERT INTO stock_movementline (movement_id, item_id, grant_id, quantity, from_location_id, "
        "to_location_id, lot, expiry, reason) VALUES (%s, %s, %s, 1, %s, %s, '', NULL, '')"
    )
    update_both = sql(
        "UPDATE stock_balance SET quantity = quantity + CASE WHEN id = %s THEN -1 ELSE 1 END "
        "WHERE id IN (%s, %s)"
    )
    update_one = sql("UPDATE stock_balance SET quantity = quantity + %s WHERE id = %s")
    insert_movement = sql(
        "INSERT INTO stock_movement (kind, reference, occurred_on, posted_at, posted_by_id, site_id, "
        "waybill_id, reverses_id, note, idempotency_key) "
        "VALUES ('distribution', '', %s, %s, %s, %s, NULL, NULL, '', NULL) RETURNING id"
    )
    insert_audit = sql(
        "INSERT INTO core_auditevent (at, actor_id, actor_label, action, object_type, object_id, before, "
        "after) VALUES (%s, %s, 'bench', 'stock.distribution', 'movement', %s, NULL, %s)"
    )
    src, dst = lane.source_balance_id, lane.target_balance_id
    occurred: Any = DAY.isoformat() if sqlite else DAY
    cursor = conn.cursor()

    def now() -> Any:
        moment = dt.datetime.now(dt.UTC)
        return str(moment.replace(tzinfo=None)) if sqlite else moment

    def after(movement_id: int) -> Any:
        payload = {
            "reference": "",
            "occurred_on": DAY.isoformat(),
            "lines": [[lane.item_id, lane.grant_id, 1, lane.source_location_id, lane.target_location_id]],
        }
        if sqlite:
            return json.dumps(payload)
        from psycopg.types.json import Jsonb

        return Jsonb(payload)

    def post() -> bool:
        try:
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(select, (src, dst))
            held = dict(cursor.fetchall())
            if held[src] < 1:
                if sqlite:
                    cursor.execute("ROLLBACK")
                else:
                    conn.rollback()
                return False
            movement_id = lane.header_id
            if same_rows:
                cursor.execute(insert_movement, (occurred, now(), lane.actor_id, lane.site_id))
                movement_id = cursor.fetchone()[0]
            cursor.execute(
                insert_line,
                (movement_id, lane.item_id, lane.grant_id, lane.source_location_id, lane.target_location_id),
            )
            if same_rows:
                for balance_id, delta in sorted([(src, -1), (dst, 1)]):
                    cursor.execute(update_one, (delta, balance_id))
                cursor.execute(insert_audit, (now(), lane.actor_id, str(movement_id), after(movement_id)))
            else:
                cursor.execute(update_both, (src, src, dst))
            if sqlite:
                cursor.execute("COMMIT")
            else:
                conn.commit()
            return True
        except Exception:
            if sqlite:
                if conn.in_transaction:
                    cursor.execute("ROLLBACK")
            else:
                conn.rollback()
            raise

    return post


def use_prepared_statements(on: bool) -> None:
    """PostgreSQL: Django's server-side binding with psycopg's prepared statements, or not.

    The project runs with Django's defaults (client-side binding, nothing prepared), so PostgreSQL
    parses and plans every statement of every posting. This switches one process's connection, to
    measure what preparing them would give; the project's settings are not changed.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    options = connection.settings_dict["OPTIONS"]
    wanted = {"server_side_binding": True, "prepare_threshold": 5} if on else {}
    current = {key: options[key] for key in ("server_side_binding", "prepare_threshold") if key in options}
    if current != wanted:
        connection.close()
        options.pop("server_side_binding", None)
        options.pop("prepare_threshold", None)
        options.update(wanted)


def _service_poster(variant: str, lane: Lane) -> Callable[[], bool]:
    from django.contrib.auth import get_user_model

    from reliefops.stock.services import StockLine, stock_distribute, waybill_dispatch

    use_prepared_statements(variant == PREPARED)
    actor = get_user_model().objects.get(pk=lane.actor_id)
    grant_id = None if variant == FIFO else lane.grant_id
    lines = [StockLine(item_id=lane.item_id, quantity=1, grant_id=grant_id)]

    def distribute() -> bool:
        stock_distribute(actor=actor, site_id=lane.site_id, lines=lines, distributed_on=DAY)
        return True

    def dispatch() -> bool:
        waybill_dispatch(
            actor=actor, from_site_id=lane.site_id, to_site_id=lane.to_site_id, lines=lines, dispatched_on=DAY
        )
        return True

    return dispatch if variant == DISPATCH else distribute


def _run(task: Task, post: Callable[[], bool], ready: Callable[[], None]) -> WriterResult:
    from reliefops.core.errors import ServiceError

    result = WriterResult()
    ready()
    result.started = time.perf_counter()
    deadline = result.started + task.seconds if task.seconds else float("inf")
    done = 0
    while (task.attempts is None or done < task.attempts) and time.perf_counter() < deadline:
        done += 1
        try:
            if post():
                result.posted += 1
            else:
                result.refused += 1
        except ServiceError as exc:
            if type(exc) is ServiceError:  # the overdraw refusal; any other is a fault
                result.refused += 1
            else:
                result.errors.append(repr(exc))
        except Exception as exc:
            result.errors.append(repr(exc))
    result.finished = time.perf_counter()
    return result


def _writer_main(target: database.Target, pipe: Connection, go: Event) -> None:
    database.start_django(target)
    raw_conn = None
    while True:
        message = pipe.recv()
        if message is None:
            return
        task, lane = message
        if task.variant in (RAW, RAW_SAME_ROWS):
            raw_conn = raw_conn or database.raw_connection(target)
            post = _raw_poster(target, raw_conn, lane, same_rows=task.variant == RAW_SAME_ROWS)
        else:
            post = _service_poster(task.variant, lane)

        def ready() -> None:
            pipe.send("ready")
            go.wait()

        pipe.send(_run(task, post, ready))


class WriterPool:
    """Writer processes started once (each sets Django up on its own connection), then given tasks."""

    def __init__(self, target: database.Target, size: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.go = context.Event()
        self.pipes: list[Connection] = []
        self.processes = []
        for _ in range(size):
            parent, child = context.Pipe()
            process = context.Process(target=_writer_main, args=(target, child, self.go))
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def run(self, task: Task, lanes: list[Lane]) -> list[WriterResult]:
        """Run `task` on one writer per lane, all released at once."""
        self.go.clear()
        pipes = self.pipes[: len(lanes)]
        for pipe, lane in zip(pipes, lanes, strict=True):
            pipe.send((task, lane))
        for pipe in pipes:
            assert pipe.recv() == "ready"
        self.go.set()
        return [pipe.recv() for pipe in pipes]

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for process in self.processes:
            process.join(timeout=30)


# --- the data the writers post from ---------------------------------------------------------------


@dataclass
class Reference:
    warehouse_id: int
    hub_id: int
    grant_ids: list[int]
    actor_id: int
    lanes_made: int = 0


def make_reference() -> Reference:
    from reliefops.core.roles import Role
    from reliefops.core.services import user_create
    from reliefops.partners.models import Grant, Organisation, OrganisationType
    from reliefops.places.models import AdminArea, AdminLevel, Site, SiteKind

    area = AdminArea.objects.create(pcode="PK-BENCH", name="Bench district", level=AdminLevel.DISTRICT)
    warehouse = Site.objects.create(
        code="BENCH-WH", name="Bench warehouse", kind=SiteKind.WAREHOUSE, admin_area=area
    )
    hub = Site.objects.create(code="BENCH-HUB", name="Bench hub", kind=SiteKind.HUB, admin_area=area)
    donor = Organisation.objects.create(name="Bench donor", acronym="BENCH", type=OrganisationType.DONOR)
    grants = [Grant.objects.create(donor=donor, reference=f"BENCH-GRANT-{n}") for n in range(3)]
    actor = user_create(actor=None, username="bench", password=None, role=Role.HUB_MANAGER)
    return Reference(warehouse.pk, hub.pk, [g.pk for g in grants], actor.pk)


def make_lanes(ref: Reference, stock_by_grant: list[int], writers: int = 1) -> list[Lane]:
    """A new item received at the warehouse under the given grants, oldest grant first.

    Returns one lane per writer, all on the item's balance of the oldest grant; each lane has its own
    warm-up posting, which makes the beneficiaries' balance rows and is the movement its raw lines
    are filed under (so that raw writers do not share one parent row).
    """
    from reliefops.catalog.models import Item, ItemCategory
    from reliefops.stock.models import Balance, LocationKind
    from reliefops.stock.services import (
        ReceiptLine,
        StockLine,
        singleton_location,
        site_location,
        stock_distribute,
        stock_receive,
    )

    ref.lanes_made += 1
    code = f"BENCH-{ref.lanes_made:03d}"
    item = Item.objects.create(code=code, name=f"Bench item {ref.lanes_made}", category=ItemCategory.NFI)
    for n, quantity in enumerate(stock_by_grant):
        stock_receive(
            actor=None,
            site_id=ref.warehouse_id,
            grant_id=ref.grant_ids[n],
            grn_number=f"GRN-{code}-{n}",
            received_on=DAY - dt.timedelta(days=30 - 10 * n),
            lines=[ReceiptLine(item_id=item.pk, quantity=quantity)],
        )
    source = site_location(ref.warehouse_id)
    beneficiaries = singleton_location(LocationKind.BENEFICIARIES)
    headers = [
        stock_distribute(
            actor=None,
            site_id=ref.warehouse_id,
            lines=[StockLine(item_id=item.pk, quantity=1)],
            distributed_on=DAY,
        ).movement.pk
        for _ in range(writers)
    ]
    grant_id = ref.grant_ids[0]
    src = Balance.objects.get(location=source, item=item, grant_id=grant_id)
    dst = Balance.objects.get(location=beneficiaries, item=item, grant_id=grant_id)
    return [
        Lane(
            site_id=ref.warehouse_id,
            to_site_id=ref.hub_id,
            item_id=item.pk,
            grant_id=grant_id,
            source_location_id=source.pk,
            target_location_id=beneficiaries.pk,
            source_balance_id=src.pk,
            target_balance_id=dst.pk,
            header_id=header,
            actor_id=ref.actor_id,
        )
        for header in headers
    ]


# --- the hot balance: rate, and the proof that nothing was overdrawn -----------------------------


def _hot_snapshot(lane: Lane) -> tuple[int, int]:
    from django.db.models import Max, Sum

    from reliefops.stock.models import Balance, MovementLine

    held = Balance.objects.filter(location_id=lane.source_location_id, item_id=lane.item_id).aggregate(
        s=Sum("quantity")
    )["s"]
    last = MovementLine.objects.aggregate(m=Max("id"))["m"]
    return int(held or 0), int(last or 0)


def hot_proof(lane: Lane, before: tuple[int, int], posted: int) -> dict[str, Any]:
    """Replay every line of the hot item at the source in id order (the order the balance lock was held)."""
    from django.db.models import Q

    from reliefops.stock.models import Balance, MovementLine

    held_before, last_line = before
    held_after = sum(
        Balance.objects.filter(location_id=lane.source_location_id, item_id=lane.item_id).values_list(
            "quantity", flat=True
        )
    )
    running: dict[int, int] = defaultdict(int)
    lowest = 0
    for grant_id, quantity, from_id in (
        MovementLine.objects.filter(item_id=lane.item_id)
        .filter(Q(from_location_id=lane.source_location_id) | Q(to_location_id=lane.source_location_id))
        .order_by("id")
        .values_list("grant_id", "quantity", "from_location_id")
    ):
        running[grant_id] += -quantity if from_id == lane.source_location_id else quantity
        lowest = min(lowest, running[grant_id])
    run_lines = MovementLine.objects.filter(
        item_id=lane.item_id, from_location_id=lane.source_location_id, id__gt=last_line
    )
    lines_posted = run_lines.count()
    movements_posted = run_lines.values("movement_id").distinct().count()
    consumed = held_before - held_after
    return {
        "stock_before": held_before,
        "stock_after": held_after,
        "lowest_running_balance": lowest,
        "lines_posted": lines_posted,
        "movements_posted": movements_posted,
        "consumed": consumed,
        "writers_counted_posted": posted,
        "not_overdrawn": held_after >= 0 and lowest >= 0 and lines_posted == consumed == posted,
    }


# --- one database -------------------------------------------------------------------------------


def _rate(results: list[WriterResult]) -> tuple[float, float]:
    wall = max(r.finished for r in results) - min(r.started for r in results)
    return sum(r.posted + r.refused for r in results) / wall, wall


def _effective_sqlite_settings() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cursor.fetchone()[0]]
    mode = connection.settings_dict["OPTIONS"].get("transaction_mode")
    return f"journal_mode={journal}, synchronous={synchronous}, transaction_mode={mode}"


MAIN_VARIANTS = (RAW, RAW_SAME_ROWS, NAMED, FIFO)
WAYBILL_STEPS = (10_000, 100_000)


def _locations() -> int:
    from reliefops.stock.models import StockLocation

    return StockLocation.objects.count()


def _rounds(
    pool: WriterPool,
    lanes: list[Lane],
    cases: list[tuple[str, int]],
    variants: tuple[str, ...],
    phase: str,
    args: argparse.Namespace,
    repeats: int | None = None,
) -> list[dict[str, Any]]:
    """Rounds of timed runs, every variant once per round, so that noise falls on all alike."""
    runs = []
    for repeat in range(repeats or args.repeats):
        # The disk's fsync time swings widely on a shared machine: note it beside each round.
        fsync_ms = machine.fsync_latency_ms(database.VAR_DIR, rounds=20)
        locations = _locations()
        for case, writers in cases:
            for variant in variants:
                results = pool.run(Task(variant, seconds=args.seconds), lanes[:writers])
                rate, _wall = _rate(results)
                errors = [e for r in results for e in r.errors]
                runs.append(
                    {
                        "phase": phase,
                        "case": case,
                        "variant": variant,
                        "repeat": repeat,
                        "rate": rate,
                        "errors": errors,
                        "fsync_ms": fsync_ms,
                        "locations": locations,
                    }
                )
                print(
                    f"  round {repeat + 1} (fsync {fsync_ms:.2f} ms, {locations:,} locations) "
                    f"{case:<22} {variant:<26}{rate:>8,.0f} postings/s"
                    + (f"  ERRORS {len(errors)}: {errors[:2]}" if errors else ""),
                    flush=True,
                )
    return runs


def add_waybills(target: database.Target, ref: Reference, upto: int) -> int:
    """Bulk-insert empty delivered waybills, each with its in-transit location, up to `upto` waybills.

    A ledger that has run for a while has a waybill and an in-transit location per consignment;
    this gives the location table that size quickly, to see whether postings slow down with it.
    """
    from reliefops.stock.models import Waybill

    have = Waybill.objects.count()
    if have >= upto:
        return have
    conn = database.raw_connection(target)
    mark = "?" if target.vendor == "sqlite" else "%s"
    day = DAY.isoformat()
    cursor = conn.cursor()
    if target.vendor == "sqlite":
        cursor.execute("BEGIN IMMEDIATE")
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM stock_waybill")
    first = int(cursor.fetchone()[0]) + 1
    numbers = range(first, first + upto - have)
    cursor.executemany(
        "INSERT INTO stock_waybill (id, number, from_site_id, to_site_id, transport, vehicle, driver, "
        f"dispatched_on, expected_on, delivered_on, status) VALUES ({', '.join([mark] * 11)})",
        [
            (n, f"BULK-{n:08d}", ref.warehouse_id, ref.hub_id, "truck", "", "", day, day, day, "delivered")
            for n in numbers
        ],
    )
    cursor.executemany(
        "INSERT INTO stock_stocklocation (kind, name, is_physical, waybill_id) "
        f"VALUES ('in_transit', {mark}, {mark}, {mark})",
        [(f"In transit BULK-{n:08d}", False, n) for n in numbers],
    )
    if target.vendor == "sqlite":
        cursor.execute("COMMIT")
    else:
        conn.commit()
    conn.close()
    return upto


def _singleton_plan(target: database.Target) -> str:
    """How the database finds the beneficiaries location, the lookup every distribution makes."""
    from django.db import connection

    from reliefops.stock.services.locations import location_query

    sql, params = location_query("kind", "beneficiaries")
    with connection.cursor() as cursor:
        if target.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "; ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}", params)
        return "; ".join(row[0].strip() for row in cursor.fetchall())


def bench_database(target: database.Target, args: argparse.Namespace) -> dict[str, Any]:
    """Measure one database, in an order that keeps each figure's conditions stated.

    Distributions first (they create no locations); then the hot balance; then waybill dispatches
    (each adds an in-transit location); then distributions again with 10,000 and 100,000 waybills
    on file, because the location table grows with every waybill.
    """
    database.recreate(target)
    database.start_django(target)
    database.migrate()
    from reliefops.stock.selectors import ledger_verify

    settings_note = _effective_sqlite_settings() if target.vendor == "sqlite" else "psycopg, READ COMMITTED"
    print(f"\n== {target.label}: {settings_note} ==", flush=True)
    ref = make_reference()
    lanes = [make_lanes(ref, [PLENTY, PLENTY, PLENTY])[0] for _ in range(WRITERS)]
    cases = [("1 writer", 1), (f"{WRITERS} writers, {WRITERS} balances", WRITERS)]
    pool = WriterPool(target, WRITERS)
    runs: list[dict[str, Any]] = []
    profile: dict[str, Any] = {}
    try:
        # One untimed pass so that every writer has its connection open and its code loaded.
        main = MAIN_VARIANTS + ((PREPARED,) if target.vendor == "postgresql" else ())
        for variant in main:
            pool.run(Task(variant, attempts=20), lanes)
        runs += _rounds(pool, lanes, cases, main, "main", args)
        hot_runs = _bench_hot(pool, ref, args)
        if args.profile:
            profile.update(profile_postings(target, lanes[0], args.profile_postings, main))
        pool.run(Task(DISPATCH, attempts=5), lanes)
        runs += _rounds(pool, lanes, cases, (RAW, DISPATCH), "dispatch", args)
        if args.profile:
            profile.update(profile_postings(target, lanes[0], args.profile_postings, (DISPATCH,)))
        plan = _singleton_plan(target)
        print(f"  the beneficiaries location is found by: {plan}", flush=True)
        steps = WAYBILL_STEPS[:1] if args.quick else WAYBILL_STEPS
        runs += _rounds(pool, lanes, cases[:1], (RAW, NAMED), f"{_locations():,} locations", args, 3)
        for upto in steps:
            add_waybills(target, ref, upto)
            runs += _rounds(pool, lanes, cases[:1], (RAW, NAMED), f"{_locations():,} locations", args, 3)
    finally:
        pool.close()
    verify = ledger_verify()
    print(f"  ledger_verify at the end: ok={verify.ok} over {verify.lines:,} lines", flush=True)
    return {
        "database": target.vendor,
        "settings": settings_note,
        "runs": runs,
        "hot": hot_runs,
        "verify_ok": verify.ok,
        "verify_lines": verify.lines,
        "singleton_plan": plan,
        "profile": profile or None,
    }


def _bench_hot(pool: WriterPool, ref: Reference, args: argparse.Namespace) -> list[dict[str, Any]]:
    hot_runs = []
    attempts = args.hot_attempts
    # Stock for 60% of what the writers ask for: the rest must be refused.
    stock = int(0.6 * WRITERS * attempts) + WRITERS  # + the writers' warm-up postings
    for repeat in range(args.repeats):
        for variant in HOT_VARIANTS:
            split = [stock] if variant != FIFO else [stock // 2, stock - stock // 2]
            lanes = make_lanes(ref, split, writers=WRITERS)
            before = _hot_snapshot(lanes[0])
            results = pool.run(Task(variant, attempts=attempts), lanes)
            rate, wall = _rate(results)
            posted = sum(r.posted for r in results)
            refused = sum(r.refused for r in results)
            errors = [e for r in results for e in r.errors]
            proof = hot_proof(lanes[0], before, posted)
            hot_runs.append(
                {
                    "variant": variant,
                    "repeat": repeat,
                    "rate": rate,
                    "posted_rate": posted / wall,
                    "attempts": WRITERS * attempts,
                    "posted": posted,
                    "refused": refused,
                    "errors": errors,
                    "proof": proof,
                }
            )
            print(
                f"  {WRITERS} writers, 1 hot balance {variant:<26} run {repeat + 1}: "
                f"{rate:>7,.0f} attempts/s, {posted} posted, {refused} refused, "
                f"stock {proof['stock_before']} -> {proof['stock_after']}, "
                f"lowest {proof['lowest_running_balance']}, not overdrawn: {proof['not_overdrawn']}"
                + (f"  ERRORS {len(errors)}: {errors[:2]}" if errors else ""),
                flush=True,
            )
    return hot_runs


# --- where the time of a service posting goes ----------------------------------------------------


RAW_STATEMENTS = {RAW: 3, RAW_SAME_ROWS: 6}  # besides BEGIN and COMMIT


def _process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a local process has used, from /proc; 0 where unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_postings(
    target: database.Target, lane: Lane, postings: int, variants: tuple[str, ...]
) -> dict[str, Any]:
    """One writer in this process, every variant: where the time of one posting goes.

    Wall time, the client's CPU time, the PostgreSQL backend's CPU time (read from /proc: the server
    runs on this machine), and for the services the SQL they send, the wall time inside the driver's
    execute and inside commit, and a cProfile of the Python.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    raw_conn = database.raw_connection(target)
    out: dict[str, Any] = {}
    rows = []
    for variant in variants:
        entry: dict[str, Any] = {}
        if variant in RAW_STATEMENTS:
            post = _raw_poster(target, raw_conn, lane, same_rows=variant == RAW_SAME_ROWS)
            backend = raw_conn.info.backend_pid if target.vendor == "postgresql" else None
            entry["statements"] = RAW_STATEMENTS[variant]
        else:
            post = _service_poster(variant, lane)
            with CaptureQueriesContext(connection) as captured:
                post()
            sql = [q["sql"] for q in captured.captured_queries]
            entry["sql"] = sql
            entry["statements"] = sum(1 for q in sql if not q.startswith(("BEGIN", "COMMIT")))
            backend = connection.connection.info.backend_pid if target.vendor == "postgresql" else None
        post()
        cpu, server = time.process_time(), _process_cpu_s(backend) if backend else 0.0
        wall, sql_s, commit_s = _time_split(post, postings)
        cpu = time.process_time() - cpu
        server = (_process_cpu_s(backend) - server) if backend else 0.0
        entry.update(
            {
                "wall_us": wall / postings * 1e6,
                "client_cpu_us": cpu / postings * 1e6,
                "server_cpu_us": server / postings * 1e6 if backend else None,
            }
        )
        if variant not in RAW_STATEMENTS:
            entry["in_sql_us"] = sql_s / postings * 1e6
            entry["in_commit_us"] = commit_s / postings * 1e6
            entry["python_us"] = entry["wall_us"] - entry["in_sql_us"] - entry["in_commit_us"]
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(postings):
                post()
            profiler.disable()
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text)
            stats.sort_stats("tottime").print_stats(20)
            stats.sort_stats("cumulative").print_stats(40)
            entry["cprofile"] = _trim_profile(text.getvalue())
        out[variant] = entry
        rows.append(
            [
                variant,
                entry["statements"],
                f"{entry['wall_us']:,.0f}",
                f"{entry['client_cpu_us']:,.0f}",
                "" if entry["server_cpu_us"] is None else f"{entry['server_cpu_us']:,.0f}",
                _cpu_ceiling(entry),
                f"{entry['in_sql_us']:,.0f}" if "in_sql_us" in entry else "",
                f"{entry['in_commit_us']:,.0f}" if "in_commit_us" in entry else "",
                f"{entry['python_us']:,.0f}" if "python_us" in entry else "",
            ]
        )
    raw_conn.close()
    locations = _locations()
    for entry in out.values():
        entry["locations"] = locations
    print(
        f"\n  -- one writer, {postings} postings each, {locations:,} stock locations: "
        "where the time of a posting goes (µs) --"
    )
    headers = ["posting", "statements", "wall", "client CPU", "server CPU", "CPU ceiling/s"]
    headers += ["in SQL", "in commit", "rest"]
    print("  " + figures.table(headers, rows).replace("\n", "\n  "))
    print(
        "  (statements: besides BEGIN and COMMIT; CPU ceiling: postings/s if all the machine's cores did "
        "nothing else (PostgreSQL); in SQL: inside the driver's execute, not fetch; rest: the other wall "
        "time of the service)"
    )
    service = next((v for v in variants if v not in RAW_STATEMENTS), None)
    if service:
        for sql in out[service]["sql"]:
            print(f"    {service}: {sql[:140]}")
        print(f"  cProfile of {service}, by own time:")
        own = out[service]["cprofile"].split("Ordered by: cumulative")[0]
        print("    " + "\n    ".join(own.splitlines()[:26]))
    return out


def _cpu_ceiling(entry: dict[str, Any]) -> str:
    """Postings/s the machine's cores could give if client and server CPU were the only limit."""
    if entry["server_cpu_us"] is None:
        return ""
    entry["cpu_ceiling"] = (os.cpu_count() or 1) * 1e6 / (entry["client_cpu_us"] + entry["server_cpu_us"])
    return figures.rate(entry["cpu_ceiling"])


def _time_split(post: Callable[[], bool], postings: int) -> tuple[float, float, float]:
    """Seconds for `postings` postings: in all, inside the driver's execute, inside commit."""
    from django.db import connection

    in_sql = 0.0
    in_commit = 0.0

    def timed_execute(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal in_sql
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_sql += time.perf_counter() - start

    original_commit = connection._commit

    def timed_commit() -> None:
        nonlocal in_commit
        start = time.perf_counter()
        try:
            original_commit()
        finally:
            in_commit += time.perf_counter() - start

    connection._commit = timed_commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(timed_execute):
            start = time.perf_counter()
            for _ in range(postings):
                post()
            wall = time.perf_counter() - start
    finally:
        connection._commit = original_commit  # type: ignore[method-assign]
    return wall, in_sql, in_commit


def _trim_profile(text: str) -> str:
    root = str(Path(__file__).resolve().parent.parent)
    return "\n".join(line.replace(root + "/", "").rstrip() for line in text.splitlines() if line.strip())


# --- the report ---------------------------------------------------------------------------------


def _round_ratios(
    runs: list[dict[str, Any]], variant: str, baseline: str, key: tuple[str, ...]
) -> list[float]:
    """Rate of `variant` over the rate of `baseline` in the same round (same case), one per round."""
    by_round: dict[tuple[Any, ...], dict[str, float]] = defaultdict(dict)
    for run in runs:
        by_round[tuple(run[k] for k in key)][run["variant"]] = run["rate"]
    return [
        rates[variant] / rates[baseline]
        for rates in by_round.values()
        if variant in rates and rates.get(baseline)
    ]


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Medians per (phase, case, variant), and the ratio to raw SQL: the median of the rounds' ratios."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for run in result["runs"]:
        groups[(run["phase"], run["case"])].append(run)
    rows = []
    for (phase, case), runs in groups.items():
        rates: dict[str, list[float]] = defaultdict(list)
        for run in runs:
            rates[run["variant"]].append(run["rate"])
        for variant in rates:
            same_rows = _round_ratios(runs, variant, RAW_SAME_ROWS, ("repeat",))
            rows.append(
                {
                    "database": result["database"],
                    "phase": phase,
                    "locations": max(run["locations"] for run in runs),
                    "case": case,
                    "variant": variant,
                    "median": figures.median(rates[variant]),
                    "runs": rates[variant],
                    "raw": figures.median(rates[RAW]),
                    "ratio_raw": figures.median(_round_ratios(runs, variant, RAW, ("repeat",))),
                    "ratio_same_rows": figures.median(same_rows) if same_rows else float("nan"),
                    "errors": sum(len(run["errors"]) for run in runs if run["variant"] == variant),
                }
            )
    fsync = [run["fsync_ms"] for run in result["runs"]]
    hot: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in result["hot"]:
        hot[run["variant"]].append(run)
    hot_rows = []
    raw_hot = figures.median([r["rate"] for r in hot.get(RAW, [])])
    for variant, hot_list in hot.items():
        hot_rows.append(
            {
                "database": result["database"],
                "variant": variant,
                "median": figures.median([r["rate"] for r in hot_list]),
                "runs": [r["rate"] for r in hot_list],
                "posted_rate": figures.median([r["posted_rate"] for r in hot_list]),
                "raw": raw_hot,
                "ratio_raw": figures.median(_round_ratios(result["hot"], variant, RAW, ("repeat",))),
                "attempts": sum(r["attempts"] for r in hot_list),
                "posted": sum(r["posted"] for r in hot_list),
                "refused": sum(r["refused"] for r in hot_list),
                "errors": sum(len(r["errors"]) for r in hot_list),
                "lowest": min(r["proof"]["lowest_running_balance"] for r in hot_list),
                "lines_equal_consumed": all(
                    r["proof"]["lines_posted"] == r["proof"]["consumed"] == r["posted"] for r in hot_list
                ),
                "all_not_overdrawn": all(r["proof"]["not_overdrawn"] for r in hot_list),
            }
        )
    return {
        "database": result["database"],
        "settings": result["settings"],
        "rows": rows,
        "hot_rows": hot_rows,
        "verify_ok": result["verify_ok"],
        "verify_lines": result["verify_lines"],
        "fsync_ms": fsync,
        "singleton_plan": result["singleton_plan"],
    }


def print_summary(summaries: list[dict[str, Any]]) -> None:
    print("\n== Postings per second: median of the rounds; raw SQL measured in the same rounds ==")
    print("   (÷ raw: median over the rounds of the posting's rate over raw SQL's rate in that round)")
    rows = []
    for summary in summaries:
        for row in summary["rows"]:
            if row["variant"] == RAW or row["phase"] not in ("main", "dispatch"):
                continue
            rows.append(
                [
                    row["database"],
                    row["case"],
                    row["variant"],
                    figures.rate(row["median"]),
                    figures.spread(row["runs"]),
                    figures.rate(row["raw"]),
                    f"{row['ratio_raw']:.2f}",
                    ""
                    if row["variant"] == RAW_SAME_ROWS or math.isnan(row["ratio_same_rows"])
                    else f"{row['ratio_same_rows']:.2f}",
                    row["errors"],
                ]
            )
    headers = ["database", "writers", "posting", "postings/s", "runs (min-max)", "raw SQL/s", "÷ raw"]
    print(figures.table([*headers, "÷ raw same rows", "errors"], rows))
    print("\n== One writer, distribute (named grant), as waybills accumulate (one location each) ==")
    rows = []
    for summary in summaries:
        for row in summary["rows"]:
            if row["phase"] in ("main", "dispatch") or row["variant"] != NAMED:
                continue
            rows.append(
                [
                    row["database"],
                    f"{row['locations']:,}",
                    figures.rate(row["median"]),
                    figures.spread(row["runs"]),
                    figures.rate(row["raw"]),
                    f"{row['ratio_raw']:.2f}",
                ]
            )
    print(
        figures.table(
            ["database", "stock locations", "postings/s", "runs (min-max)", "raw SQL/s", "÷ raw"], rows
        )
    )
    print(f"\n== {WRITERS} writers on one hot balance, stock for 60% of the attempts ==")
    rows = []
    for summary in summaries:
        for row in summary["hot_rows"]:
            rows.append(
                [
                    row["database"],
                    row["variant"],
                    figures.rate(row["median"]),
                    figures.spread(row["runs"]),
                    figures.rate(row["posted_rate"]),
                    "" if row["variant"] == RAW else f"{row['ratio_raw']:.2f}",
                    f"{row['attempts']:,}",
                    f"{row['posted']:,}",
                    f"{row['refused']:,}",
                    row["errors"],
                    row["lowest"],
                    "yes" if row["lines_equal_consumed"] else "NO",
                    "yes" if row["all_not_overdrawn"] else "NO",
                ]
            )
    print(
        figures.table(
            [
                "database",
                "posting",
                "attempts/s",
                "runs (min-max)",
                "posted/s",
                "÷ raw",
                "attempts",
                "posted",
                "refused",
                "errors",
                "lowest balance",
                "lines = consumed",
                "not overdrawn",
            ],
            rows,
        )
    )
    for summary in summaries:
        fsync = summary["fsync_ms"]
        print(
            f"{summary['database']}: {summary['settings']}; ledger_verify() at the end: "
            f"ok={summary['verify_ok']} over {summary['verify_lines']:,} lines; fsync of 4 KiB during the "
            f"rounds: median {figures.median(fsync):.2f} ms ({figures.spread(fsync, lambda v: f'{v:.2f}')}); "
            f"the beneficiaries location is found by: {summary['singleton_plan']}"
        )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one timed run")
    parser.add_argument("--repeats", type=int, default=7, help="runs of each measurement (median reported)")
    parser.add_argument(
        "--hot-attempts", type=int, default=250, help="postings each hot-balance writer tries"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also show where a service posting's time goes"
    )
    parser.add_argument("--profile-postings", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 run of 1 s each")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases afterwards")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--database", help=argparse.SUPPRESS)  # one database, in a child process
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats, args.hot_attempts, args.profile_postings = 1.0, 1, 30, 100
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.database:
        # Django reads its database once per process: each database is benchmarked in a child.
        target = database.Target(args.database, "bench_postings")
        try:
            result = bench_database(target, args)
        finally:
            if not args.keep:
                from django.db import connections

                connections.close_all()
                database.drop(target)
        figures.write_json(args.json, result)
        return 0
    facts = machine.print_facts()
    argv = argv if argv is not None else sys.argv[1:]
    results = database.run_per_database(__file__, argv, args.databases.split(","))
    summaries = [summarise(result) for result in results]
    print_summary(summaries)
    print(f"\nfinished {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    figures.write_json(
        args.json,
        {
            "machine": facts,
            "summaries": summaries,
            "profiles": {r["database"]: r["profile"] for r in results},
            "hot": {r["database"]: r["hot"] for r in results},
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
