"""What a balance held since a day: at the end of that day, and the least it held after any posting
dated later.

No posting is dated after today, so what a location held at the end of a past day is its balance now
less what was posted after that day; each later posting then changes it, and the least of those
balances is what a posting dated that day may still take without a stock card going below zero on a
later day. The ledger refuses a posting that would (`_refuse_earlier_overdraw`), a count takes its
shortage only as far as it allows (`counts`), and a distribution point is offered no more than it
leaves (`selectors.available_from`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


@dataclass
class Held:
    """What was held of one balance (or of several together) at the end of a day, and the least held
    then or after any posting dated later, with the day it was first that low (the day itself when it
    never held less)."""

    at_end: int
    lowest: int
    lowest_on: dt.date


def held_since(
    now: Mapping[Key, int], later: Iterable[tuple[dt.date, Key, int]], day: dt.date
) -> dict[Key, Held]:
    """For each balance of `now` (what it holds today, by any key), what it held at the end of `day`
    and the least it held since.

    `later` gives what each posting dated after `day` changed of a balance (more than zero in, less
    than zero out), in the order they were posted (by day, then movement and line); the changes of
    balances not in `now` are left out.
    """
    changes = [(on, key, change) for on, key, change in later if key in now]
    since: dict[Key, int] = defaultdict(int)
    for _, key, change in changes:
        since[key] += change
    held = {key: Held(quantity - since[key], quantity - since[key], day) for key, quantity in now.items()}
    running = {key: h.at_end for key, h in held.items()}
    for on, key, change in changes:
        running[key] += change
        if running[key] < held[key].lowest:
            held[key].lowest, held[key].lowest_on = running[key], on
    return held
