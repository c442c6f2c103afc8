"""Run every benchmark of the stock ledger: `make bench` (full), or `--quick` for a smoke run.

Full: postings on SQLite and PostgreSQL (with a profile of where a posting's time goes), then
reports over synthetic ledgers of 1 and 10 million lines on both (about an hour on 2 cores, and
some gigabytes of disk while it runs; the databases are dropped at the end).
Quick: the same code paths in a minute or two, with small sizes and single short runs.

Each benchmark prints the machine it ran on beside its figures. `--json DIR` also keeps the
figures as JSON files in DIR.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a minute or two")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--json", metavar="DIR", help="also write each benchmark's figures as JSON into DIR")
    args = parser.parse_args(argv)

    if args.quick:
        postings = ["--quick", "--profile"]
        size = ["--lines", "100000,300000", "--repeats", "3", "--verify-repeats", "1"]
    else:
        postings = ["--profile"]
        size = []
    runs = [("ledger_postings.py", postings), ("ledger_size.py", size)]
    started = time.perf_counter()
    for script, options in runs:
        command = [sys.executable, str(HERE / script), "--databases", args.databases, *options]
        if args.json:
            Path(args.json).mkdir(parents=True, exist_ok=True)
            command += ["--json", str(Path(args.json) / script.replace(".py", ".json"))]
        print(f"\n######## {script} {' '.join(options)}", flush=True)
        subprocess.run(command, check=True)  # noqa: S603 - our own scripts
    minutes = (time.perf_counter() - started) / 60
    print(f"\nall benchmarks done in {minutes:.1f} min, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
