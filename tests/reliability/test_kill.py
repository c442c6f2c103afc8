"""Killing the process mid-work leaves the database whole.

A child process (tests/reliability/worker.py, the services a command or request runs) works on a
copy of the Kashmir 2005 scenario; once it has made progress it gets `kill -9` at a random
moment, with no chance to clean up. Then `reliefops stock verify` must pass, every handover must
have its movement and every handover movement its handover, every waybill its dispatch (and its
delivery exactly when it is marked delivered), no 4W import batch may be half written, and every
unit of work the child reported done before it died must be in the database. A background job that
applies a 4W file is succeeded exactly when its batch is in, the job worker killed at a random
moment or at the two edges of the commit.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import ROOT, Database, check_report, child_env, run
from tests.reliability.operation import is_sound
from tests.scenario_template import ON_THE_SCENARIOS_WORKER

pytestmark = ON_THE_SCENARIOS_WORKER


def _start(args: list[str], database: Database, var_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own worker
        [sys.executable, "-m", "tests.reliability.worker", *args],
        cwd=ROOT,
        env=child_env(database, var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the child had ended before it was killed"


def _run_until(process: subprocess.Popen[str], units: int, timeout: float = 120) -> int:
    """Read the child's `done N` lines until N reaches `units`; the last N read."""
    assert process.stdout is not None
    deadline, done = time.monotonic() + timeout, 0
    while done < units:
        line = process.stdout.readline()
        if not line:
            stderr = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"the child stopped after {done} units:\n{stderr}")
        if line.startswith("done "):
            done = int(line.split()[1])
        assert time.monotonic() < deadline, f"the child did only {done} units in {timeout} s"
    return done


def _sound(database: Database, var_dir: Path) -> dict:
    verify = run(["reliefops", "stock", "verify"], database, var_dir, check=False)
    assert verify.returncode == 0, f"stock verify failed after the kill:\n{verify.stdout}\n{verify.stderr}"
    report = check_report(database, var_dir)
    assert is_sound(report), json.dumps(report, indent=1)
    return report


def test_killing_a_loop_of_household_handovers(databases, var_dir, tmp_path):
    # Given a copy of the scenario with an open round of 300 households at Narra, with cards and stock
    rng = random.Random()
    database = databases.copy()
    seed = run(["worker", "seed", "--households", "300", "--code", "KILL-H"], database, var_dir).stdout
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(seed.strip().splitlines()[-1])
    before = check_report(database, var_dir)["counts"]

    # When a child records handovers by card token and is killed at a random moment after some
    child = _start(["handovers", str(seed_file)], database, var_dir)
    reported = _run_until(child, rng.randint(5, 40))
    time.sleep(rng.uniform(0, 0.3))
    _kill(child)

    # Then the ledger is sound, handovers and their movements match, and nothing reported is lost
    after = _sound(database, var_dir)["counts"]
    made = after["deliveries"] - before["deliveries"]
    assert made >= reported, f"the child reported {reported} handovers done; {made} are in the database"
    assert made < len(json.loads(seed_file.read_text())["tokens"]), "the child finished before the kill"
    assert after["movements"] - before["movements"] == made


def test_killing_a_loop_of_waybill_dispatches_and_confirmations(databases, var_dir, tmp_path):
    # Given a copy of the scenario with tarpaulins at Balakot hub
    rng = random.Random()
    database = databases.copy()
    seed = run(["worker", "seed", "--households", "1", "--code", "KILL-W"], database, var_dir).stdout
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(seed.strip().splitlines()[-1])
    before = check_report(database, var_dir)["counts"]

    # When a child dispatches waybills to Mansehra hub and confirms them, killed at a random moment
    child = _start(["waybills", str(seed_file)], database, var_dir)
    reported = _run_until(child, rng.randint(5, 40))
    time.sleep(rng.uniform(0, 0.3))
    _kill(child)

    # Then the ledger is sound, each waybill has its dispatch and (when delivered) its delivery,
    # and every round trip the child reported is in the database
    after = _sound(database, var_dir)["counts"]
    delivered = after["delivered_waybills"] - before["delivered_waybills"]
    dispatched = after["waybills"] - before["waybills"]
    assert delivered >= reported
    assert dispatched - delivered in {0, 1}, "at most the last waybill can be left in transit"


def _writing(database: Database, baseline: int) -> bool:
    """Whether the import has begun writing its rows (not yet committed)."""
    if database.vendor == "sqlite":
        wal = Path(f"{database.name}-wal")
        return wal.exists() and wal.stat().st_size > baseline + 2 * 1024 * 1024
    with database.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
            "AND (query ILIKE 'INSERT INTO%%cluster_activityrow%%' "
            "OR query ILIKE 'COPY%%cluster_activityrow%%')",
            [database.name],
        ).fetchone()
        return bool(row and row[0])


@pytest.fixture(scope="session")
def big_4w_file(scenario_template, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("4w")
    path = folder / "cluster-4w-big.csv"
    run(["worker", "generate", str(path), "--rows", "100000"], scenario_template, folder)
    return path


@pytest.mark.parametrize("moment", ["while-reading", "while-writing"])
def test_killing_a_large_4w_import(databases, var_dir, big_4w_file, moment):
    # Given a copy of the scenario and a 4W file of 100,000 rows
    database = databases.copy()
    before = check_report(database, var_dir)["counts"]
    rows_before = _activity_rows(database)
    wal = Path(f"{database.name}-wal")
    baseline = wal.stat().st_size if wal.exists() else 0

    # When a child imports it and is killed while it reads and checks the file, or once it writes rows
    child = _start(["import", str(big_4w_file)], database, var_dir)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "started"
    if moment == "while-reading":
        time.sleep(random.uniform(0.3, 1.0))
    else:
        deadline = time.monotonic() + 180
        while not _writing(database, baseline):
            assert child.poll() is None, f"the import ended before it was seen writing: {child.stdout.read()}"
            assert time.monotonic() < deadline, "the import was never seen writing its rows"
            time.sleep(0.02)
        time.sleep(random.uniform(0, 0.05))
    _kill(child)

    # Then the import is there whole or not at all, and the database is sound. Killed while reading,
    # nothing can have been written; killed while writing, the commit may just have gone through
    # (a fast machine writes the last rows in well under a second), and then every row is there.
    report = _sound(database, var_dir)
    rows = _activity_rows(database)
    committed = report["counts"]["batches"] - before["batches"]
    if moment == "while-reading" or committed == 0:
        assert committed == 0, "a batch of the killed import was committed"
        assert rows == rows_before, f"{rows - rows_before} rows of the killed import are in the database"
    else:
        assert committed == 1
        assert rows == rows_before + 100_000, f"a committed import holds {rows - rows_before} of 100,000 rows"


def _activity_rows(database: Database) -> int:
    with database.connect() as conn:
        return conn.execute("SELECT count(*) FROM cluster_activityrow").fetchone()[0]


@pytest.mark.parametrize("moment", ["while-applying", "after-the-commit", "with-the-end-written"])
def test_killing_the_job_worker_mid_import(databases, var_dir, big_4w_file, moment):
    # Given a copy of the scenario and a 4W import of 100,000 rows queued as a background job
    database = databases.copy()
    before = check_report(database, var_dir)["counts"]
    rows_before = _activity_rows(database)
    queued = run(["worker", "enqueue-import", str(big_4w_file)], database, var_dir).stdout
    job = json.loads(queued.strip().splitlines()[-1])["job"]

    # When the job worker runs it and is killed: at a random moment once the import has read the
    # file and is applying it, or, by itself, just after the import's commit, or just before it
    # with the job's end written in the batch's transaction
    if moment == "while-applying":
        program = [str(Path(sys.executable).parent / "reliefops"), "jobs", "worker"]
    else:
        program = [sys.executable, "-m", "tests.reliability.worker", "jobs-worker", "--die", moment]
    worker = subprocess.Popen(  # noqa: S603 - our own command
        program,
        cwd=ROOT,
        env=child_env(database, var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if moment == "while-applying":
        deadline = time.monotonic() + 240
        while True:
            status, stage = _job(database, job)
            if status == "running" and stage.startswith("applying the changes"):
                break
            assert worker.poll() is None, f"the worker ended: {worker.stderr.read() if worker.stderr else ''}"
            assert status in {"queued", "running"}, f"the job ended ({status}) before it was seen applying"
            assert time.monotonic() < deadline, "the job was never seen applying its rows"
            time.sleep(0.05)
        time.sleep(random.uniform(0, 1.0))
        _kill(worker)
    else:
        try:
            worker.wait(timeout=240)
        except subprocess.TimeoutExpired:
            _kill(worker)
            raise AssertionError("the worker was never killed at the chosen moment") from None
        stderr = worker.stderr.read() if worker.stderr else ""
        assert worker.returncode == -signal.SIGKILL, f"the worker ended ({worker.returncode}):\n{stderr}"

    # Then, once lost jobs are swept, the job is succeeded with every row of its batch in, or
    # failed as lost with nothing of it in: never failed with its batch in
    swept = run(["reliefops", "jobs", "sweep"], database, var_dir)
    status = _job(database, job)[0]
    report = _sound(database, var_dir)
    committed = report["counts"]["batches"] - before["batches"]
    rows = _activity_rows(database)
    if moment == "after-the-commit":
        assert status == "succeeded", f"the batch is in ({committed}) but the job is {status}"
    if moment == "with-the-end-written":
        assert status == "failed", "the job's end was committed without its batch"
    if status == "succeeded":
        assert "0 jobs failed" in swept.stdout
        assert committed == 1, "the job succeeded without its batch"
        assert rows == rows_before + 100_000, f"a committed import holds {rows - rows_before} of 100,000 rows"
    else:
        assert status == "failed"
        assert "1 job failed" in swept.stdout
        assert committed == 0, "the job failed as lost, yet its batch was committed"
        assert rows == rows_before, f"{rows - rows_before} rows of the killed import are in the database"


def _job(database: Database, job: int) -> tuple[str, str]:
    """The job's status and stage, as its page shows them."""
    with database.connect() as conn:
        row = conn.execute(f"SELECT status, stage FROM core_job WHERE id = {int(job)}").fetchone()  # noqa: S608
        return row[0], row[1]
