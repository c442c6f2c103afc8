"""Duplicate detection at scale, on the real database: the batch run over a million households and
the registration-time check against them.

    python bench/households_scale.py [--n 1000000] [--seed 3] [--database sqlite|postgresql]
                                     [--checks 400] [--keep] [--json FILE]

1. Builds a registry of `n` synthetic households (households_synthetic.py) in a fresh benchmark
   database, with their blocking keys, as registrations would leave it. A duplicate that repeats an
   identity number already registered is written without it, as the registration refuses a
   number held by an active household (the card "left at home").
2. Runs `reliefops households dedupe` in a child process, as the operator does: its wall time and
   peak memory (the child's maximum resident set) are the batch figures; the pairs it queues are
   checked against the truth.
3. Times `likely_duplicates` — the check a registration makes before saving — for drafts that are
   duplicates of registered households and for new ones, against the whole registry.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import database
from figures import table, write_json
from households_synthetic import DISTRICTS, Generator, generate
from machine import print_facts

BATCH = 5_000


def build(n: int, seed: int) -> tuple[dict[int, int], set[tuple[int, int]], Generator]:
    """Write the registry; returns synthetic id -> household id, the truth, and the generator."""
    from django.db import transaction

    from reliefops.households.models import MEMBER_NAMES, Household
    from reliefops.households.selectors import store_match_keys
    from reliefops.places.models import AdminArea, AdminLevel, Site, SiteKind

    country = AdminArea.objects.create(pcode="PK", name="Pakistan", level=AdminLevel.COUNTRY)
    areas: dict[str, AdminArea] = {}
    for district in DISTRICTS:
        areas[district] = AdminArea.objects.create(
            pcode=district, name=f"District {district}", level=AdminLevel.DISTRICT, parent=country
        )
        for t in range(1, 6):
            code = f"{district}{t:02d}"
            areas[code] = AdminArea.objects.create(
                pcode=code, name=f"Tehsil {code}", level=AdminLevel.TEHSIL, parent=areas[district]
            )
    camps = {
        i: Site.objects.create(
            code=f"CAMP-{i}", name=f"Camp {i}", kind=SiteKind.CAMP, admin_area=areas["PK107"]
        ).pk
        for i in (1, 2, 3)
    }
    started = time.perf_counter()
    registry = generate(n, seed)
    print(
        f"  generated {len(registry.people)} registrations in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    started = time.perf_counter()
    held: set[tuple[str, str]] = set()
    ids: dict[int, int] = {}
    people = registry.people
    day = dt.date(2005, 11, 1)
    for start in range(0, len(people), BATCH):
        rows = []
        part = people[start : start + BATCH]
        for person in part:
            doc_type, doc = person.document_type, person.document
            if doc and (doc_type, doc) in held:
                doc_type, doc = "none", ""
            elif doc:
                held.add((doc_type, doc))
            rows.append(
                Household(
                    head_name=person.head,
                    father_or_husband_name=person.father,
                    head_sex=person.sex,
                    document_type=doc_type,
                    document_number=doc,
                    phone=person.phone,
                    **dict(zip(MEMBER_NAMES, person.members, strict=True)),
                    size=sum(person.members),
                    origin_area=areas[person.area],
                    origin_district=areas[person.district],
                    origin_village=person.village,
                    current_site_id=camps.get(person.site_id or 0),
                    house_damage="destroyed",
                    consent_given_on=day,
                    registered_on=day,
                )
            )
        with transaction.atomic():
            created = Household.objects.bulk_create(rows)
        for person, household in zip(part, created, strict=True):
            ids[person.id] = household.pk
        if start % 100_000 == 0:
            print(
                f"  {start + len(part)} households written, {time.perf_counter() - started:.0f} s", flush=True
            )
    print(f"  households written in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    all_ids = sorted(ids.values())
    keys = 0
    for start in range(0, len(all_ids), 50_000):
        with transaction.atomic():
            keys += store_match_keys(all_ids[start : start + 50_000])
    print(f"  {keys} blocking keys written in {time.perf_counter() - started:.0f} s", flush=True)
    truth = {(min(ids[a], ids[b]), max(ids[a], ids[b])) for a, b in registry.truth}
    gen = Generator(seed + 100)
    return ids, truth, gen


def rebuilt_truth(n: int, seed: int) -> tuple[dict[int, int], set[tuple[int, int]], Generator]:
    """The ids and truth of a registry `build` wrote before: households were written in order."""
    registry = generate(n, seed)
    ids = {person.id: index + 1 for index, person in enumerate(registry.people)}
    truth = {(min(ids[a], ids[b]), max(ids[a], ids[b])) for a, b in registry.truth}
    return ids, truth, Generator(seed + 100)


def _tree_pss_kib(pid: int) -> int:
    """The proportional set size of a process and its descendants (pages they share counted once
    in all), from /proc; 0 where /proc cannot tell."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def batch_run(target: database.Target) -> dict[str, object]:
    """`reliefops households dedupe` as the operator runs it: its wall time, the peak resident set of
    its largest process, and the peak of all its processes together (it compares in one process
    per core, forked from the first)."""
    env = {**os.environ, "DATABASE_URL": target.url}
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    process = subprocess.Popen(  # noqa: S603 - our own command
        [str(Path(sys.executable).parent / "reliefops"), "households", "dedupe", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not done.wait(0.5):
            peak_tree = max(peak_tree, _tree_pss_kib(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"the batch run failed ({process.returncode}): {stderr.strip()}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("  " + stdout.strip(), flush=True)
    return {
        "seconds": seconds,
        "peak_memory_mib": round(max(peak_kib, before) / 1024),
        "peak_memory_all_processes_mib": round(peak_tree / 1024),
        "output": stdout.strip(),
    }


def queue_quality(truth: set[tuple[int, int]]) -> dict[str, float]:
    from reliefops.households.models import DuplicatePair

    found = set(DuplicatePair.objects.values_list("first_id", "second_id"))
    hits = len(found & truth)
    return {
        "pairs_queued": len(found),
        "precision": hits / max(len(found), 1),
        "recall": hits / max(len(truth), 1),
    }


def registration_checks(households: list, gen: Generator, count: int) -> dict[str, object]:
    """Time the check for drafts that duplicate a registered household, and for new households."""
    from reliefops.households.models import Household
    from reliefops.households.selectors import likely_duplicates, people_for_matching

    rng = random.Random(7)
    sample = rng.sample(households, count // 2)
    originals = list(people_for_matching(Household.objects.filter(pk__in=sample)))
    drafts = []
    for person in originals:
        copy, _ = gen.duplicate(replace(person, id=0))
        drafts.append(("duplicate", person.id, replace(copy, id=0, tehsil=person.tehsil, area=person.area)))
    for _ in range(count - len(drafts)):
        fresh = gen.household()
        drafts.append(("new", 0, replace(fresh, id=0)))
    timings: dict[str, list[float]] = {"duplicate": [], "new": []}
    found = 0
    likely_duplicates(drafts[0][2])  # warm the caches, as a running server has them
    for kind, original, draft in drafts:
        started = time.perf_counter()
        matches = likely_duplicates(draft)
        timings[kind].append(time.perf_counter() - started)
        if kind == "duplicate" and any(original in (m.first_id, m.second_id) for m in matches):
            found += 1
    every = timings["duplicate"] + timings["new"]
    quantiles = statistics.quantiles(every, n=100)

    def ms(value: float) -> float:
        return round(value * 1000, 1)

    return {
        "checks": len(every),
        "median_ms": ms(statistics.median(every)),
        "p95_ms": ms(quantiles[94]),
        "p99_ms": ms(quantiles[98]),
        "max_ms": ms(max(every)),
        "median_duplicate_ms": ms(statistics.median(timings["duplicate"])),
        "median_new_ms": ms(statistics.median(timings["new"])),
        "duplicates_shown": f"{found} of {len(timings['duplicate'])}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--database", choices=database.VENDORS, default="sqlite")
    parser.add_argument("--checks", type=int, default=400, help="registration-time checks to time")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--reuse", action="store_true", help="use the database a --keep run left (same --n and --seed)"
    )
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    machine = print_facts()
    target = database.Target(args.database, f"bench_households_{args.n}")
    if not args.reuse:
        database.recreate(target)
    database.start_django(target)
    started = time.perf_counter()
    if args.reuse:
        print(f"== reusing the {args.n} households in {target.label} ({target.name})", flush=True)
        ids, truth, gen = rebuilt_truth(args.n, args.seed)
    else:
        database.migrate()
        print(f"== building {args.n} households in {target.label} ({target.name})", flush=True)
        ids, truth, gen = build(args.n, args.seed)
    build_seconds = time.perf_counter() - started
    size = database.size_bytes(target)
    print(f"== batch run: reliefops households dedupe over {len(ids)} households", flush=True)
    batch = batch_run(target)
    quality = queue_quality(truth)
    print(f"== registration-time check, {args.checks} drafts", flush=True)
    checks = registration_checks(list(ids.values()), gen, args.checks)
    print(
        table(
            ["", "figure"],
            [
                ["households", len(ids)],
                ["database", f"{target.label}, {size / 2**30:.2f} GiB after loading"],
                ["loading (households and keys)", f"{build_seconds / 60:.1f} min"],
                ["batch run, wall time", f"{batch['seconds'] / 60:.1f} min"],
                ["batch run, peak memory, largest process", f"{batch['peak_memory_mib']} MiB"],
                [
                    "batch run, peak memory, all its processes (PSS)",
                    f"{batch['peak_memory_all_processes_mib']} MiB",
                ],
                ["pairs queued", quality["pairs_queued"]],
                ["queue precision / recall", f"{quality['precision']:.4f} / {quality['recall']:.4f}"],
                ["registration check, median", f"{checks['median_ms']} ms"],
                [
                    "registration check, p95 / p99 / max",
                    f"{checks['p95_ms']} / {checks['p99_ms']} / {checks['max_ms']} ms",
                ],
                ["duplicate drafts shown their household", checks["duplicates_shown"]],
            ],
        )
    )
    write_json(
        args.json,
        {
            "machine": machine,
            "n": len(ids),
            "database": target.label,
            "database_bytes": size,
            "build_seconds": build_seconds,
            "batch": batch,
            "queue": quality,
            "checks": checks,
        },
    )
    if not args.keep:
        database.drop(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
