"""How the duplicate score's weights and threshold were chosen: a grid over the weights that the
seed-1 registry's errors pointed at, scored on seed 1 only (the report seed is never looked at).

    python bench/households_tune.py [--n 100000] [--seed 1]

Candidate pairs are blocked once; each setting of the weights rescores them. The chosen setting
is the one with the highest recall whose precision is at least 0.985 on this seed (a margin over
the 0.98 asked for), ties going to the higher threshold.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import table
from households_synthetic import generate
from reliefops.households.matching import WEIGHTS, RunStats, Weights, _blocks, compare, prepare

GRID = {
    "spouse_base": (-2.0, -2.5, -3.0),
    "other_village": (-2.0, -2.5, -3.5),
    "common_name": (0.5, 1.0, 1.5),
    "members": ((2.0, 1.0, 0.0, -1.5, -3.0), (2.0, 1.0, -0.5, -2.0, -4.0)),
}
THRESHOLDS = (75, 80, 85, 88, 90)


def candidate_pairs(prepared: list) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for _, members, _ in _blocks(prepared, RunStats()):
        if len(members) > 2_000:
            continue
        for i, first in enumerate(members):
            for second in members[i + 1 :]:
                pairs.add((min(first, second), max(first, second)))
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    registry = generate(args.n, args.seed)
    prepared = [prepare(p) for p in registry.people]
    started = time.perf_counter()
    pairs = candidate_pairs(prepared)
    print(f"{len(pairs)} candidate pairs in {time.perf_counter() - started:.1f} s")
    truth = registry.truth
    rows = []
    best = None
    for values in itertools.product(*GRID.values()):
        weights = replace(WEIGHTS, **dict(zip(GRID, values, strict=True)))
        scored = []
        for i, j in pairs:
            a, b = prepared[i], prepared[j]
            score, _ = compare(a, b, weights)
            if score >= min(THRESHOLDS):
                scored.append((score, (min(a.person.id, b.person.id), max(a.person.id, b.person.id))))
        for threshold in THRESHOLDS:
            found = {pair for score, pair in scored if score >= threshold}
            hits = len(found & truth)
            precision, recall = hits / max(len(found), 1), hits / len(truth)
            rows.append((precision, recall, threshold, values))
            if precision >= 0.985 and (best is None or (recall, threshold) > (best[1], best[2])):
                best = (precision, recall, threshold, values)
    rows.sort(key=lambda r: (-r[1], -r[0]))
    print(
        table(
            ["precision", "recall", "threshold", *GRID],
            [[f"{p:.4f}", f"{r:.4f}", t, *v] for p, r, t, v in rows[:15]],
        )
    )
    if best is not None:
        print(
            f"chosen: precision {best[0]:.4f}, recall {best[1]:.4f}, threshold {best[2]}, "
            + ", ".join(f"{k}={v}" for k, v in zip(GRID, best[3], strict=True))
        )
    print("current:", Weights() == WEIGHTS and "matching.WEIGHTS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
