"""Duplicate detection quality: precision and recall on a synthetic registry, against a baseline.

    python bench/households_quality.py [--n 100000] [--tune-seed 1] [--report-seed 2] [--json FILE]

The method (households.matching: blocking + RapidFuzz scores) was tuned on the tune seed's registry
and is reported on the report seed's, which it never saw. Both are compared, in the same run, with
the baseline: the same identity number, or the same head's and father's names (folded) in the same
district. Runs in memory (no database): the database-backed timings are households_scale.py's.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import table, write_json
from households_synthetic import Registry, generate
from reliefops.households.matching import (
    LIKELY_DUPLICATE,
    METHOD_VERSION,
    baseline_duplicates,
    find_duplicates,
    prepare,
)


def precision_recall(
    found: set[tuple[int, int]], truth: set[tuple[int, int]]
) -> tuple[float, float, int, int]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall, len(found) - hits, len(truth) - hits


def evaluate(registry: Registry, *, show_errors: int = 0) -> dict[str, object]:
    started = time.perf_counter()
    matches, stats = find_duplicates(registry.people, threshold=50)
    seconds = time.perf_counter() - started
    scored = {(m.first_id, m.second_id): m for m in matches}
    curve = []
    for threshold in (70, 75, 80, 85, 88, 90, 92, 95):
        found = {pair for pair, m in scored.items() if m.score >= threshold}
        p, r, fp, fn = precision_recall(found, registry.truth)
        curve.append({"threshold": threshold, "precision": p, "recall": r, "false_pairs": fp, "missed": fn})
    found = {pair for pair, m in scored.items() if m.score >= LIKELY_DUPLICATE}
    precision, recall, false_pairs, missed = precision_recall(found, registry.truth)
    started = time.perf_counter()
    baseline = set(baseline_duplicates(registry.people))
    baseline_seconds = time.perf_counter() - started
    b_precision, b_recall, b_false, b_missed = precision_recall(baseline, registry.truth)

    by_id = {p.id: p for p in registry.people}
    missed_kinds: Counter[str] = Counter()
    unblocked = 0
    for pair in registry.truth - found:
        kind = registry.duplicate_kind.get(pair, "between two copies")
        missed_kinds[kind] += 1
        a, b = prepare(by_id[pair[0]]), prepare(by_id[pair[1]])
        if not a.keys & b.keys:
            unblocked += 1
    false_kinds: Counter[str] = Counter(
        registry.look_alikes.get(pair, "other") for pair in found - registry.truth
    )
    duplicate_kinds: Counter[str] = Counter(registry.duplicate_kind.values())
    if show_errors:
        for pair in list(registry.truth - found)[:show_errors]:
            print("MISSED", registry.duplicate_kind.get(pair), scored.get(pair))
            for i in pair:
                print("   ", by_id[i])
        for pair in list(found - registry.truth)[:show_errors]:
            print("FALSE", registry.look_alikes.get(pair), scored[pair].score, scored[pair].reasons)
            for i in pair:
                print("   ", by_id[i])
    return {
        "registrations": len(registry.people),
        "true_pairs": len(registry.truth),
        "method": {
            "threshold": LIKELY_DUPLICATE,
            "precision": precision,
            "recall": recall,
            "false_pairs": false_pairs,
            "missed": missed,
            "seconds": seconds,
            "compared": stats.compared,
            "blocks": stats.blocks,
            "missed_by_kind": dict(missed_kinds.most_common()),
            "missed_never_compared": unblocked,
            "false_by_kind": dict(false_kinds.most_common()),
        },
        "baseline": {
            "precision": b_precision,
            "recall": b_recall,
            "false_pairs": b_false,
            "missed": b_missed,
            "seconds": baseline_seconds,
        },
        "curve": curve,
        "kinds": registry.kinds,
        "duplicate_kinds": dict(duplicate_kinds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="registrations (default 100,000)")
    parser.add_argument("--tune-seed", type=int, default=1)
    parser.add_argument("--report-seed", type=int, default=2)
    parser.add_argument("--show-errors", type=int, default=0, help="print this many misses and false pairs")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    from machine import print_facts

    machine = print_facts()
    print(f"method: {METHOD_VERSION}, likely duplicate from score {LIKELY_DUPLICATE}\n")
    results = {}
    for role, seed in (("tuned on", args.tune_seed), ("reported on", args.report_seed)):
        registry = generate(args.n, seed)
        result = evaluate(registry, show_errors=args.show_errors if role == "tuned on" else 0)
        results[f"seed {seed}"] = {"role": role, **result}
        m, b = result["method"], result["baseline"]
        print(
            f"== seed {seed} ({role}): {result['registrations']} registrations, "
            f"{result['true_pairs']} true pairs"
        )
        print(
            table(
                ["", "precision", "recall", "false pairs", "missed pairs", "seconds"],
                [
                    [
                        "blocking + RapidFuzz",
                        f"{m['precision']:.4f}",
                        f"{m['recall']:.4f}",
                        m["false_pairs"],
                        m["missed"],
                        f"{m['seconds']:.1f}",
                    ],
                    [
                        "baseline (same number or same names)",
                        f"{b['precision']:.4f}",
                        f"{b['recall']:.4f}",
                        b["false_pairs"],
                        b["missed"],
                        f"{b['seconds']:.1f}",
                    ],
                ],
            )
        )
        print(
            f"pairs compared: {m['compared']}; "
            f"missed pairs never compared (no shared key): {m['missed_never_compared']}"
        )
        print("missed, by kind of duplicate:", m["missed_by_kind"])
        print("false pairs, by kind of look-alike:", m["false_by_kind"])
        print(
            "precision / recall by threshold:",
            ", ".join(f"{c['threshold']}: {c['precision']:.3f}/{c['recall']:.3f}" for c in result["curve"]),
        )
        print()
    write_json(args.json, {"machine": machine, "n": args.n, "method": METHOD_VERSION, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
