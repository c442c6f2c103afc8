"""What a balance held since a day (stock.held): the one reading behind a posting dated in the past,
a count's shortage and what a distribution point can give on a past day."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from reliefops.stock.held import Held, held_since

DAY = dt.date(2005, 10, 20)


def on(days: int) -> dt.date:
    return DAY + dt.timedelta(days=days)


def test_the_end_of_the_day_and_the_least_held_since_with_the_first_day_it_was_that_low():
    # given 100 blankets held today, after 40 came in on the 21st, 90 went out on the 22nd and
    # 50 came in on the 23rd; and 5 buckets touched by nothing since
    later = [(on(1), "blanket", 40), (on(2), "blanket", -90), (on(3), "blanket", 50), (on(3), "tent", 7)]
    held = held_since({"blanket": 100, "bucket": 5}, later, DAY)
    # then the blankets held 100 at the end of the 20th (140, 50, then 100 since), 50 at the least (on
    # the 22nd); the buckets 5; and the tents, held no more, are not read
    assert held == {"blanket": Held(100, 50, on(2)), "bucket": Held(5, 5, DAY)}


changes = st.lists(st.tuples(st.integers(1, 5), st.sampled_from("ab"), st.integers(-50, 50)), max_size=12)


@given(now=st.fixed_dictionaries({"a": st.integers(0, 200), "b": st.integers(0, 200)}), later=changes)
def test_what_was_held_then_is_today_less_what_came_since_and_the_least_is_a_balance_it_had(now, later):
    later = sorted(((on(d), key, change) for d, key, change in later), key=lambda c: c[0])
    held = held_since(now, later, DAY)
    for key, quantity in now.items():
        mine = [(day, change) for day, k, change in later if k == key]
        balances = [(DAY, held[key].at_end)]
        for day, change in mine:
            balances.append((day, balances[-1][1] + change))
        assert balances[-1][1] == quantity
        lowest = min(b for _, b in balances)
        assert held[key].lowest == lowest
        assert held[key].lowest_on == next(day for day, b in balances if b == lowest)
