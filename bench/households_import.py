"""Benchmark of a registration file's import on SQLite: how long other users wait meanwhile.

    python bench/households_import.py [--registry 8] [--file 11] [--json out.json]

On SQLite one writer holds the database at a time. This benchmark registers a registry of
households (the Kashmir scenario's registration file drawn `--registry` times with other seeds:
about 1,075 households each), then previews and commits a new file (`--file` draws more), the way
the web page's job and `reliefops households import` do. While the commit runs, a second
connection, as another user saving a form, asks for the write lock again and again (`BEGIN
IMMEDIATE`, then `ROLLBACK`) and notes how long each request waited. It prints:

- the preview's and the commit's wall time;
- the longest wait of the other user during the commit: how long the import held the database;
- the pairs of likely duplicates the commit queued for review.

The machine's facts are printed beside the figures (bench/machine.py).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def draws(seeds: range, taken: set[str]) -> list[dict[str, object]]:
    """The scenario's registration rows drawn with these seeds; an identity number drawn twice (or
    already registered) is left out of the later row, which a real file would not repeat."""
    from reliefops.scenarios.kashmir2005.households_history import registry_rows

    rows = []
    for seed in seeds:
        for row in registry_rows(random.Random(seed)):
            number = re.sub(r"\D", "", str(row["document_number"]))
            if number and number in taken:
                row["document_type"], row["document_number"] = "none", ""
            elif number:
                taken.add(number)
            rows.append(row)
    return rows


class OtherUser(threading.Thread):
    """Another user's writes during the import: the write lock asked for every 20 ms."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.waits: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        db = sqlite3.connect(self.path, timeout=600, isolation_level=None)
        try:
            while not self.stop.is_set():
                asked = time.perf_counter()
                db.execute("BEGIN IMMEDIATE")
                self.waits.append(time.perf_counter() - asked)
                db.execute("ROLLBACK")
                time.sleep(0.02)
        finally:
            db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry", type=int, default=8, help="draws registered first")
    parser.add_argument("--file", type=int, default=11, help="draws of it in the file imported")
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-households-import-"))
    database = work / "bench.sqlite3"
    os.environ["RELIEFOPS_VAR_DIR"] = str(work)
    os.environ["DJANGO_SETTINGS_MODULE"] = "reliefops.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    import django

    django.setup()
    from django.core.management import call_command

    from reliefops.households.models import DuplicatePair, Household
    from reliefops.households.services import household_import_commit, household_import_preview
    from reliefops.scenarios.base import StepContext, run_steps
    from reliefops.scenarios.kashmir2005 import DATA_DIR, REFERENCE_STEPS
    from reliefops.scenarios.kashmir2005.households_history import _csv

    call_command("migrate", verbosity=0, interactive=False)
    run_steps(scenario="bench", steps=list(REFERENCE_STEPS), context=StepContext(DATA_DIR, io.StringIO()))
    taken: set[str] = set()
    started = time.perf_counter()
    registry = household_import_preview(
        actor=None, filename="registry.csv", content=_csv(draws(range(1, 1 + args.registry), taken))
    )
    household_import_commit(actor=None, import_id=registry.batch.pk)
    figures: dict[str, Any] = {
        "registry_households": Household.objects.count(),
        "registry_s": time.perf_counter() - started,
    }
    rows = draws(range(100, 100 + args.file), taken)
    figures["file_households"] = len(rows)
    pairs_before = DuplicatePair.objects.count()

    started = time.perf_counter()
    preview = household_import_preview(actor=None, filename="new.csv", content=_csv(rows))
    figures["preview_s"] = time.perf_counter() - started
    if preview.batch.problems:
        raise SystemExit(f"the file was refused: {preview.batch.problems[:3]}")

    other = OtherUser(database)
    other.start()
    time.sleep(0.2)
    started = time.perf_counter()
    household_import_commit(actor=None, import_id=preview.batch.pk)
    figures["commit_s"] = time.perf_counter() - started
    other.stop.set()
    other.join()
    figures["other_user_writes"] = len(other.waits)
    figures["other_user_longest_wait_s"] = max(other.waits)
    figures["other_user_waits_over_1s"] = sum(1 for wait in other.waits if wait > 1)
    figures["pairs_queued"] = DuplicatePair.objects.count() - pairs_before

    from machine import print_facts  # the bench folder's own module

    figures["machine"] = print_facts("Machine (after the run)")
    for key, value in figures.items():
        if key.endswith("_s"):
            print(f"{key:32} {value:8.2f} s")
        elif key != "machine":
            print(f"{key:32} {value:8}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
