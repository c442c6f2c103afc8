"""Benchmark of the cluster's 4W import and gap analysis over a million rows.

    python bench/cluster_import.py [--rows 1000000] [--database sqlite|postgresql] [--json out.json]

What it times, on a fresh database holding the Kashmir 2005 gazetteer, organisations and activity
types:

1. `reliefops cluster import FILE --preview` and `reliefops cluster import FILE` on a generated
   4W CSV of N rows (HXL-tagged, dozens of organisations, every tehsil, six months, pipeline and
   programming-partner rows among them): the same code path as the command line — reading,
   validation against the gazetteer and the organisations, the preview of what changes, the
   batch record, the bulk insert, the double-counting rule and the audit event.
2. The same file uploaded again (a delta that changes nothing).
3. The floor: reading the same CSV with Python's csv module and inserting the same rows with
   raw SQL (executemany on SQLite, COPY on PostgreSQL) into a table of the same columns, without
   any check. The import's time over this floor is the price of validation and bookkeeping.
4. The gap analysis at district and at tehsil level (one activity, and every activity), as
   `reliefops cluster gaps` computes it: median of 5 runs; and the double-counting rule applied
   again across the whole table, as after an upload or a revert that touches every organisation.
5. The same district and tehsil totals computed "without us", as an information manager would
   without reliefops, over the same CSV: with pandas (`read_csv` + `groupby`, reading the file for
   each level, and the `groupby` alone on a frame read once), and with a plain Python csv + dict
   script. Both add up completed households per area and activity; neither applies the
   double-counting rules or checks anything. pandas comes from requirements-bench.txt.

The machine, database and Python versions are printed beside the figures, and a speed probe (a
fixed piece of Python work, timed just before the preview and just after the import): on a shared
host the machine's own speed changes from minute to minute, and the probe shows by how much.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

COLUMNS = [
    ("Row ID", "#meta+id"),
    ("Reporting organisation", "#org+reporting"),
    ("Programming organisation", "#org+prog"),
    ("Implementing organisation", "#org+impl"),
    ("Funding organisation", "#org+funder"),
    ("Handed to partner", "#org+recipient"),
    ("Activity", "#activity"),
    ("District P-code", "#adm2+code"),
    ("Tehsil P-code", "#adm3+code"),
    ("Status", "#status"),
    ("Start date", "#date+start"),
    ("End date", "#date+end"),
    ("Quantity", "#output+num"),
    ("Households", "#reached+hh"),
    ("Women and girls", "#reached+ind+f"),
    ("Men and boys", "#reached+ind+m"),
]
MONTHS = ["2005-10", "2005-11", "2005-12", "2006-01", "2006-02", "2006-03"]


def generate(path: Path, rows: int, seed: int = 2005) -> dict[str, Any]:
    """A 4W CSV of `rows` rows: every organisation reports rows across tehsils and months; one in
    ten is a pipeline row, one in ten a programming partner's row of another's work."""
    from reliefops.cluster.models import ActivityType
    from reliefops.partners.models import Organisation
    from reliefops.places.models import AdminArea

    rng = random.Random(seed)
    organisations = [o.acronym or o.name for o in Organisation.objects.exclude(type="donor").order_by("name")]
    donors = [o.acronym or o.name for o in Organisation.objects.filter(type="donor")]
    activities = list(ActivityType.objects.values_list("name", flat=True))
    tehsils = list(AdminArea.objects.filter(level="tehsil").values_list("pcode", "parent__pcode"))
    # Each organisation works in a dozen tehsils and a few activities, as partners do.
    works = {org: (rng.sample(tehsils, 12), rng.sample(activities, 4)) for org in organisations}
    statuses = ["completed"] * 7 + ["ongoing", "planned"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([c[0] for c in COLUMNS])
        writer.writerow([c[1] for c in COLUMNS])
        n = 0
        while n < rows:
            org = organisations[n % len(organisations)]
            places, kinds = works[org]
            tehsil, district = places[rng.randrange(12)]
            month, day = MONTHS[rng.randrange(6)], rng.randint(1, 20)
            quantity = rng.randint(10, 5000)
            kind = rng.random()
            common = [
                kinds[rng.randrange(4)], district, tehsil if kind > 0.05 else "", statuses[n % 9],
                f"{month}-{day:02d}", f"{month}-{day + 5:02d}",
            ]  # fmt: skip
            funder = donors[n % len(donors)]
            if kind < 0.1:  # pipeline: handed to another partner, whose own rows count the households
                partner = organisations[(n + 7) % len(organisations)]
                writer.writerow([f"R{n:07d}", org, org, org, funder, partner, *common, quantity, "", "", ""])
                n += 1
            elif kind < 0.2 and n + 1 < rows:  # a programming partner's row, and its implementing partner's
                partner = organisations[(n + 3) % len(organisations)]
                writer.writerow(
                    [f"R{n:07d}", org, org, partner, funder, "", *common, quantity, quantity, "", ""]
                )
                own = quantity - 1
                writer.writerow(
                    [f"R{n + 1:07d}", partner, org, partner, funder, "", *common, own, own, "", ""]
                )
                n += 2
            else:
                people = [quantity * 3, quantity * 4] if kind > 0.6 else ["", ""]
                writer.writerow(
                    [f"R{n:07d}", org, org, org, funder, "", *common, quantity, quantity, *people]
                )
                n += 1
    return {
        "rows": rows,
        "bytes": path.stat().st_size,
        "organisations": len(organisations),
        "tehsils": len(tehsils),
    }


FLOOR_COLUMNS = [
    ("row_id", "text"), ("reporting", "text"), ("prog", "text"), ("impl", "text"), ("funder", "text"),
    ("recipient", "text"), ("activity", "text"), ("adm2", "text"), ("adm3", "text"), ("status", "text"),
    ("start", "date"), ("end_date", "date"), ("quantity", "bigint"), ("households", "int"),
    ("female", "int"), ("male", "int"),
]  # fmt: skip
FLOOR_NAMES = ", ".join(name for name, _ in FLOOR_COLUMNS)


def floor_sqlite(path: Path, database: Path) -> float:
    """Read the CSV and insert its rows with raw SQL into a plain table, no checks: the floor."""
    start = time.perf_counter()
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("DROP TABLE IF EXISTS floor_rows")
    types = ", ".join(f"{name} {kind}" for name, kind in FLOOR_COLUMNS)
    connection.execute(f"CREATE TABLE floor_rows (id INTEGER PRIMARY KEY, {types})")
    marks = ", ".join("?" for _ in FLOOR_COLUMNS)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader), next(reader)
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(f"INSERT INTO floor_rows ({FLOOR_NAMES}) VALUES ({marks})", reader)
        connection.execute("COMMIT")
    connection.close()
    return time.perf_counter() - start


def floor_postgres(path: Path, url: str) -> float:
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS floor_rows")
        types = ", ".join(f"{name} {kind}" for name, kind in FLOOR_COLUMNS)
        cursor.execute(f"CREATE TABLE floor_rows (id bigserial PRIMARY KEY, {types})")
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader), next(reader)
            with cursor.copy(f"COPY floor_rows ({FLOOR_NAMES}) FROM STDIN") as copy:
                for row in reader:
                    copy.write_row([value or None for value in row])
    return time.perf_counter() - start


def without_us(path: Path) -> dict[str, float]:
    """District and tehsil totals as a script would make them: csv + dict over the file."""
    timings = {}
    for level, column in (("district", 7), ("tehsil", 8)):
        start = time.perf_counter()
        totals: dict[tuple[str, str], int] = defaultdict(int)
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader), next(reader)
            for row in reader:
                if row[9] == "completed" and row[13]:
                    totals[(row[column], row[6])] += int(row[13])
        timings[level] = time.perf_counter() - start
    return timings


def without_us_pandas(path: Path) -> dict[str, float]:
    """District and tehsil totals as an information manager makes them in pandas: read the CSV
    (its second line is the HXL row), keep completed rows, group by area and activity, sum the
    households. Timed reading the file for each level, and grouping alone on a frame read once."""
    import pandas as pd

    timings: dict[str, float] = {}
    levels = (("district", "District P-code"), ("tehsil", "Tehsil P-code"))
    frame = None
    for level, column in levels:
        start = time.perf_counter()
        frame = pd.read_csv(path, skiprows=[1], low_memory=False)
        done = frame[frame["Status"] == "completed"]
        totals = done.groupby([column, "Activity"])["Households"].sum()
        timings[level] = time.perf_counter() - start
        assert totals.sum() > 0
    for level, column in levels:
        start = time.perf_counter()
        done = frame[frame["Status"] == "completed"]
        done.groupby([column, "Activity"])["Households"].sum()
        timings[f"{level}_grouping"] = time.perf_counter() - start
    return timings


def median_time(function: Any, runs: int = 5) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    os.environ["RELIEFOPS_VAR_DIR"] = str(work)
    os.environ["DJANGO_SETTINGS_MODULE"] = "reliefops.settings"
    if args.database == "postgresql":
        import psycopg

        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as server:
            server.execute('DROP DATABASE IF EXISTS "bench_cluster" WITH (FORCE)')
            server.execute('CREATE DATABASE "bench_cluster"')
        os.environ["DATABASE_URL"] = f"{args.postgres}/bench_cluster"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench_cluster.sqlite3'}"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from reliefops.cluster.selectors import gap_by_area, selection
    from reliefops.scenarios.base import StepContext, run_steps
    from reliefops.scenarios.kashmir2005 import DATA_DIR, REFERENCE_STEPS
    from reliefops.scenarios.kashmir2005.cluster_history import load_cluster_reference

    call_command("migrate", verbosity=0, interactive=False)
    run_steps(
        scenario="bench",
        steps=[*REFERENCE_STEPS, load_cluster_reference],
        context=StepContext(DATA_DIR, io.StringIO()),
    )
    csv_path = work / "bench-4w.csv"
    started = time.perf_counter()
    shape = generate(csv_path, args.rows)
    generation = time.perf_counter() - started
    print(
        f"generated {shape['rows']:,} rows ({shape['bytes'] / 1e6:.0f} MB) in {generation:.1f} s", flush=True
    )

    def command(*extra: str) -> tuple[float, float, str]:
        """Wall and CPU seconds of `reliefops cluster import FILE …`, and its timing line."""
        out = io.StringIO()
        wall, cpu = time.perf_counter(), time.process_time()
        call_command("cluster", "import", str(csv_path), *extra, stdout=out, verbosity=2)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        lines = out.getvalue().strip().splitlines()
        steps = next((line for line in lines if line.startswith("timings:")), "")
        summary = next(line for line in reversed(lines) if not line.startswith("timings:"))
        print(f"    {summary}\n    {steps}", flush=True)
        return wall, cpu, steps

    from machine import speed_probe  # the bench folder's own module

    figures: dict[str, Any] = {"database": connection.vendor, **shape}
    # The machine's own speed just before and after the import (a shared host's speed changes from
    # minute to minute): the same fixed work, timed.
    figures["speed_probe_before_s"] = speed_probe()
    for name, extra in (("preview", ("--preview",)), ("import", ()), ("reimport", ())):
        wall, cpu, steps = command(*extra)
        figures[f"{name}_s"], figures[f"{name}_cpu_s"], figures[f"{name}_steps"] = wall, cpu, steps
        if name == "import":
            figures["speed_probe_after_s"] = speed_probe()
    if args.database == "postgresql":
        figures["floor_s"] = floor_postgres(csv_path, os.environ["DATABASE_URL"])
    else:
        figures["floor_s"] = floor_sqlite(csv_path, work / "bench_floor.sqlite3")
    figures["ratio_import_to_floor"] = figures["import_s"] / figures["floor_s"]

    def time_gaps(suffix: str = "") -> None:
        """The gap analysis at district and tehsil level, for one activity and for every one."""
        for level in ("district", "tehsil"):
            for activity in ("TENTS", None):
                chosen = selection(level=level, activity=activity)
                med, runs = median_time(lambda chosen=chosen: gap_by_area(chosen))
                figures[f"gaps_{level}_{activity or 'all'}{suffix}_s"] = med
                figures[f"gaps_{level}_{activity or 'all'}{suffix}_runs"] = runs

    time_gaps()
    # The double-counting rule applied again across the whole table, as after an upload or a
    # revert that touches every organisation (the marks are right already: nothing is written).
    from django.db import transaction

    from reliefops.cluster.services import bulk
    from reliefops.partners.models import Organisation

    started = time.perf_counter()
    with transaction.atomic():
        figures["rule_across_table_set_aside"] = bulk.recount_pairs(
            organisation_ids=Organisation.objects.values_list("id", flat=True)
        )
        transaction.set_rollback(True)
    figures["rule_across_table_s"] = time.perf_counter() - started
    if args.database == "postgresql":
        # Right after a million rows went in by COPY, PostgreSQL's visibility map is empty and an
        # index-only scan visits the table for every row, until a vacuum has read them: the import
        # of a large batch runs one once committed (before, autovacuum's pass over a table that grew
        # came within a minute or two). The same analysis after one more, for comparison:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) cluster_activityrow")
        figures["vacuum_s"] = time.perf_counter() - started
        time_gaps("_vacuumed")
    mine = without_us(csv_path)
    for level, seconds in mine.items():
        figures[f"without_us_{level}_s"] = seconds
        figures[f"ratio_without_us_to_gaps_{level}"] = seconds / figures[f"gaps_{level}_all_s"]
    in_pandas = without_us_pandas(csv_path)
    for level in ("district", "tehsil"):
        figures[f"pandas_{level}_s"] = in_pandas[level]
        figures[f"pandas_{level}_grouping_s"] = in_pandas[f"{level}_grouping"]
        figures[f"ratio_pandas_to_gaps_{level}"] = in_pandas[level] / figures[f"gaps_{level}_all_s"]
        figures[f"ratio_pandas_grouping_to_gaps_{level}"] = (
            in_pandas[f"{level}_grouping"] / figures[f"gaps_{level}_all_s"]
        )

    from machine import print_facts  # the bench folder's own module: the machine the figures come from

    figures["machine"] = print_facts("Machine (after the run)")
    for key, value in figures.items():
        if key.endswith("_s"):
            print(f"{key:40} {value:8.2f} s")
        elif key.startswith("ratio"):
            print(f"{key:40} {value:8.1f} x")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    if args.database == "postgresql":
        connection.close()
        import psycopg

        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as server:
            server.execute('DROP DATABASE IF EXISTS "bench_cluster" WITH (FORCE)')
    shutil.rmtree(work, ignore_errors=True)  # the CSV, the SQLite files and the folder itself


if __name__ == "__main__":
    main()
