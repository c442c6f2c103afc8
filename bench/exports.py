"""How fast the shared export writer turns rows into CSV and XLSX, and how little memory it holds.

    .venv/bin/python bench/exports.py [--rows 1000000] [--xlsx-rows 200000]

The rows are made one at a time by a generator (as a queryset's `.iterator()` hands them out), so
the figures are the writer's own: rows a second, the file's size, and the process's largest
resident size after each run, which stays flat from a tenth of the rows to all of them when
nothing is built in memory at once. Each column is text, a number, a date or a yes/no, and one cell in a
thousand looks like a formula (so neutralising is on the measured path).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from collections.abc import Iterator

from reliefops.core.exports import Column, Table, csv_chunks, xlsx_write

TABLE = Table(
    "bench",
    (
        Column("Movement", "#meta+id", "id"),
        Column("Kind", "#meta+type", "kind"),
        Column("Date", "#date", "day"),
        Column("Site", "#loc+name", "site"),
        Column("Item code", "#item+code", "item"),
        Column("Units", "#output+num", "units"),
        Column("Reference", "#meta+ref", "reference"),
        Column("Open", "#status", "open"),
    ),
)
SITES = ["IOM Balakot hub", "IOM Mansehra hub", "Muzaffarabad hub", "Bagh hub", "Batagram hub"]
ITEMS = ["NFI-BLK", "SHL-TARP", "SHL-CGI", "KIT-WINT", "SHL-TENT"]
START = dt.date(2005, 10, 8)


def rows(count: int) -> Iterator[dict[str, object]]:
    for n in range(count):
        yield {
            "id": n + 1,
            "kind": "delivery" if n % 3 else "dispatch",
            "day": START + dt.timedelta(days=n % 200),
            "site": SITES[n % 5],
            "item": ITEMS[n % 5],
            "units": (n * 37) % 5000,
            "reference": f"=WB-{n}" if n % 1000 == 0 else f"WB-{n:07d}",
            "open": n % 2 == 0,
        }


def measure(label: str, count: int, write: object) -> None:
    started = time.perf_counter()
    size = write(count)  # type: ignore[operator]
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label:5} {count:>10,} rows  {seconds:7.1f} s  {count / seconds:>10,.0f} rows/s  "
        f"{size / 1e6:8.1f} MB file  largest resident size so far {rss:6.0f} MB"
    )


def write_csv(count: int) -> int:
    with tempfile.TemporaryFile() as out:
        for chunk in csv_chunks(TABLE, rows(count)):
            out.write(chunk)
        return out.tell()


def write_xlsx(count: int) -> int:
    with tempfile.TemporaryFile() as out:
        xlsx_write(TABLE, rows(count), out)
        out.seek(0, 2)
        return out.tell()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows written as CSV")
    parser.add_argument("--xlsx-rows", type=int, default=200_000, help="rows written as XLSX")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for count in (args.rows // 10, args.rows):
        measure("CSV", count, write_csv)
    for count in (args.xlsx_rows // 10, args.xlsx_rows):
        measure("XLSX", count, write_xlsx)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
