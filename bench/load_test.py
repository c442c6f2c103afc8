"""Load test: many field clients recording handovers and dispatching waybills at once, through the
API of a real server (gunicorn on 127.0.0.1, PostgreSQL behind it).

    python bench/load_test.py [--seconds 60] [--clients 50] [--workers 5] [--name bench_load]

What it does:

1. Makes a fresh PostgreSQL database (`--name`, always `bench_*`, on BENCH_POSTGRES_URL, default
   postgresql://postgres@127.0.0.1:5432), migrates it, loads the Kashmir 2005 scenario (or copies
   `--template`, a database that holds it already), and seeds an
   open distribution round at Narra with enough households (with cards) and blankets for the run,
   and tarpaulins at Balakot hub (tests/reliability/operation.py).
2. Creates a distributor at Narra and a hub manager of Balakot hub, each with an API token.
3. Starts gunicorn (`--workers`, sync workers) on a free port of 127.0.0.1 and waits for /healthz.
4. Runs `--clients` threads for `--seconds`: each posts, without pause, a household handover by
   card token (POST /api/households/rounds/{id}/handovers) or a waybill dispatch from Balakot to
   Mansehra hub (POST /api/stock/waybills), half and half, each with a new Idempotency-Key; one
   request in twenty is sent a second time with the same key, as a client retrying after a lost
   answer would.
5. Checks: no error answer (anything but 201, and 200 for a retry); every accepted request's key is
   stored on exactly one movement, the one its answer named (no lost, no doubled posting); every
   retry named the movement of its first answer; `reliefops stock verify` passes.
6. Prints the latencies (p50, p95, p99, max) per kind, the throughput, the machine and the load
   average before and after, and exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
BIN = Path(sys.executable).parent

from bench.machine import print_facts  # noqa: E402

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
DISTRIBUTOR, HUB_MANAGER = "load-distributor", "load-hub-manager"
RETRY_SHARE = 0.05


def _env(url: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(DATABASE_URL=url, ALLOWED_HOSTS="127.0.0.1,localhost", PYTHONPATH=str(ROOT))
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return environment


def _reliefops(url: str, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own command
        [str(BIN / "reliefops"), *args], env=_env(url), capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"reliefops {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(name: str, households: int, template: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
    import psycopg

    if not name.startswith("bench_"):
        raise SystemExit("the load test's database is named bench_*: it is dropped and made again")
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        started = time.monotonic()
        if template:
            server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            server.execute(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    if not template:
        _reliefops(url, "migrate", "--no-input", "-v", "0")
        _reliefops(url, "scenario", "load", "kashmir-2005")
    seeded = subprocess.run(  # noqa: S603 - our own worker
        [
            sys.executable,
            "-m",
            "tests.reliability.worker",
            "seed",
            "--households",
            str(households),
            "--code",
            "LOAD",
        ],
        env=_env(url),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])
    _reliefops(
        url,
        "user",
        "create",
        DISTRIBUTOR,
        "--role",
        "distributor",
        "--distribution-point",
        seed["point"],
        "--no-input",
    )
    _reliefops(
        url, "user", "create", HUB_MANAGER, "--role", "hub_manager", "--hub", seed["hub_from"], "--no-input"
    )
    tokens = {}
    for user in (DISTRIBUTOR, HUB_MANAGER):
        lines = _reliefops(url, "token", "create", user, "--name", "load test").splitlines()
        tokens[user] = lines[1].strip()
    print(
        f"prepared {name} in {time.monotonic() - started:.0f} s: {len(seed['tokens'])} households with cards"
    )
    return url, seed, tokens


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(url: str, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - gunicorn from our own environment
        [str(BIN / "gunicorn"), "reliefops.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", "60", "--log-level", "warning"],
        env=_env(url),
        cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit("gunicorn stopped at start-up")
        time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


@dataclass
class Sample:
    kind: str  # "handover" or "dispatch"
    key: str
    status: int
    seconds: float
    movement: int | None
    retry: bool = False


@dataclass
class Shared:
    tokens: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def next_token(self) -> str | None:
        with self.lock:
            return self.tokens.pop() if self.tokens else None


def _post(
    conn: http.client.HTTPConnection, path: str, body: dict[str, Any], token: str, key: str
) -> tuple[int, Any, float]:
    data = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "application/json"}
    started = time.perf_counter()
    conn.request("POST", path, body=data, headers=headers)
    response = conn.getresponse()
    raw = response.read()
    elapsed = time.perf_counter() - started
    try:
        return response.status, json.loads(raw), elapsed
    except ValueError:
        return response.status, raw[:200], elapsed


def client(
    number: int, port: int, seed: dict[str, Any], tokens: dict[str, str], shared: Shared, until: float
) -> None:
    rng = random.Random(number)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    handover_path = f"/api/households/rounds/{seed['round_id']}/handovers"
    n = 0
    while time.monotonic() < until:
        n += 1
        card = shared.next_token() if (number + n) % 2 == 0 else None
        key = str(uuid.uuid4())
        if card is not None:
            kind, path, token = "handover", handover_path, tokens[DISTRIBUTOR]
            body: dict[str, Any] = {
                "point": seed["point"],
                "card": card,
                "collected_by": "the head",
                "handed_on": seed["day"],
            }
        else:
            kind, path, token = "dispatch", "/api/stock/waybills", tokens[HUB_MANAGER]
            body = {"from_site": seed["hub_from"], "to_site": seed["hub_to"], "dispatched_on": seed["day"],
                    "lines": [{"item": seed["waybill_item"], "quantity": 1}]}  # fmt: skip
        try:
            status, answer, elapsed = _post(conn, path, body, token, key)
        except (OSError, http.client.HTTPException) as exc:
            shared.failures.append(f"{kind}: {exc.__class__.__name__}: {exc}")
            conn.close()
            continue
        movement = _movement(kind, answer) if status in (200, 201) else None
        samples = [Sample(kind, key, status, elapsed, movement)]
        if status not in (200, 201):
            shared.failures.append(f"{kind}: HTTP {status}: {answer}")
        elif rng.random() < RETRY_SHARE:
            status2, answer2, elapsed2 = _post(conn, path, body, token, key)
            again = _movement(kind, answer2) if status2 in (200, 201) else None
            samples.append(Sample(kind, key, status2, elapsed2, again, retry=True))
            if status2 != 200 or again != movement:
                shared.failures.append(
                    f"{kind} retry: HTTP {status2}, movement {again} for {movement}: {answer2}"
                )
        with shared.lock:
            shared.samples.extend(samples)
    conn.close()


def _movement(kind: str, answer: Any) -> int | None:
    if not isinstance(answer, dict):
        return None
    if kind == "handover":
        return answer.get("movement_id")
    return (answer.get("movement") or {}).get("id")


def check_ledger(url: str, shared: Shared) -> dict[str, int]:
    """Each accepted key maps to exactly one stored movement, the one its answer named."""
    import psycopg

    accepted = {s.key: s for s in shared.samples if s.status == 201 and not s.retry}
    with psycopg.connect(url) as conn:
        users = dict(
            conn.execute(
                "SELECT username, id FROM auth_user WHERE username IN (%s, %s)", [DISTRIBUTOR, HUB_MANAGER]
            ).fetchall()
        )
        stored: dict[str, list[int]] = defaultdict(list)
        prefix_h, prefix_d = f"u{users[DISTRIBUTOR]}:", f"u{users[HUB_MANAGER]}:"
        for key, movement in conn.execute(
            "SELECT idempotency_key, movement_id FROM households_handoverdelivery "
            "WHERE idempotency_key LIKE %s",
            [prefix_h + "%"],
        ):
            stored[key.removeprefix(prefix_h)].append(movement)
        for key, movement in conn.execute(
            "SELECT idempotency_key, id FROM stock_movement "
            "WHERE kind = 'dispatch' AND idempotency_key LIKE %s",
            [prefix_d + "%"],
        ):
            stored[key.removeprefix(prefix_d)].append(movement)
        handover_movements = conn.execute(
            "SELECT count(*) FROM stock_movement WHERE posted_by_id = %s", [users[DISTRIBUTOR]]
        ).fetchone()[0]
        dispatch_movements = conn.execute(
            "SELECT count(*) FROM stock_movement WHERE posted_by_id = %s", [users[HUB_MANAGER]]
        ).fetchone()[0]
    lost = [key for key, sample in accepted.items() if stored.get(key) != [sample.movement]]
    doubled = [key for key, movements in stored.items() if len(movements) > 1]
    unanswered = [key for key in stored if key not in accepted]
    accepted_kinds = Counter(s.kind for s in accepted.values())
    return {
        "accepted": len(accepted),
        "lost_or_mismatched": len(lost),
        "doubled": len(doubled),
        "stored_without_an_accepted_answer": len(unanswered),
        "movements_by_distributor_minus_accepted_handovers": handover_movements - accepted_kinds["handover"],
        "movements_by_hub_manager_minus_accepted_dispatches": dispatch_movements - accepted_kinds["dispatch"],
    }


def _percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return (
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {pick(0.95):.0f} ms, "
        f"p99 {pick(0.99):.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--name", default="bench_load", help="the database (bench_*), dropped and made again")
    parser.add_argument(
        "--households", type=int, help="households in the round (default: enough for the run)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--template",
        help="copy this database (migrated, with the Kashmir 2005 scenario) instead of loading it",
    )
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    facts = print_facts("Load test machine")
    households = args.households or int(300 + 60 * args.seconds)
    url, seed, tokens = prepare(args.name, households, args.template)
    server, port = start_server(url, args.workers)
    load_before = os.getloadavg()
    shared = Shared(tokens=list(seed["tokens"]))
    try:
        started = time.monotonic()
        until = started + args.seconds
        threads = [
            threading.Thread(target=client, args=(n, port, seed, tokens, shared, until), daemon=True)
            for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 120)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()

    ledger = check_ledger(url, shared)
    verify = subprocess.run(  # noqa: S603 - our own command
        [str(BIN / "reliefops"), "stock", "verify"],
        env=_env(url),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    first = [s for s in shared.samples if not s.retry]
    retries = [s for s in shared.samples if s.retry]
    by_kind = {
        kind: [s.seconds for s in first if s.kind == kind and s.status == 201]
        for kind in ("handover", "dispatch")
    }
    statuses = Counter(s.status for s in shared.samples)
    figures = {
        "seconds": round(elapsed, 1),
        "clients": args.clients,
        "gunicorn_workers": args.workers,
        "requests": len(shared.samples),
        "accepted": ledger["accepted"],
        "retries_replayed": sum(1 for s in retries if s.status == 200),
        "throughput_per_s": round(ledger["accepted"] / elapsed, 1),
        "statuses": dict(statuses),
        "failures": len(shared.failures),
        "ledger": ledger,
        "stock_verify_exit": verify.returncode,
        "latency_ms": {
            kind: {
                "p50": round(statistics.median(values) * 1000, 1) if values else None,
                "p95": round(sorted(values)[int(0.95 * len(values))] * 1000, 1) if values else None,
                "p99": round(sorted(values)[int(0.99 * len(values))] * 1000, 1) if values else None,
            }
            for kind, values in {**by_kind, "all": by_kind["handover"] + by_kind["dispatch"]}.items()
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "machine": facts,
    }
    print(
        f"== Load: {args.clients} clients for {elapsed:.1f} s against gunicorn "
        f"({args.workers} sync workers), PostgreSQL =="
    )
    print(f"  requests            {len(shared.samples):,} ({len(retries)} retries with the same key)")
    print(
        f"  accepted (201)      {ledger['accepted']:,}: {len(by_kind['handover']):,} handovers, "
        f"{len(by_kind['dispatch']):,} dispatches"
    )
    print(f"  throughput          {figures['throughput_per_s']} accepted postings/s")
    print(f"  latency, handovers  {_percentiles(by_kind['handover'])}")
    print(f"  latency, dispatches {_percentiles(by_kind['dispatch'])}")
    print(f"  latency, all        {_percentiles(by_kind['handover'] + by_kind['dispatch'])}")
    print(f"  statuses            {dict(sorted(statuses.items()))}")
    print(f"  errors              {len(shared.failures)}")
    for failure in shared.failures[:10]:
        print(f"    {failure}")
    print(f"  lost or mismatched  {ledger['lost_or_mismatched']}; doubled {ledger['doubled']}; "
          f"stored without an accepted answer {ledger['stored_without_an_accepted_answer']}")  # fmt: skip
    print(
        f"  stock verify        {'sound' if verify.returncode == 0 else 'FAILED'}: "
        f"{(verify.stdout.strip() or verify.stderr.strip()).splitlines()[-1:]}"
    )
    print(f"  load average        before {load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    if not args.keep:
        import psycopg

        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{args.name}" WITH (FORCE)')
    sound = (
        not shared.failures
        and ledger["accepted"] > 0
        and ledger["lost_or_mismatched"] == 0
        and ledger["doubled"] == 0
        and ledger["stored_without_an_accepted_answer"] == 0
        and ledger["movements_by_distributor_minus_accepted_handovers"] == 0
        and ledger["movements_by_hub_manager_minus_accepted_dispatches"] == 0
        and verify.returncode == 0
    )
    print("RESULT: " + ("no error, no lost or doubled movement" if sound else "FAILED"))
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main())
