"""Locking and reopening reporting periods (months)."""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from django.db import transaction

from reliefops.cluster.models import NOTE_MAX, ReportingPeriod
from reliefops.cluster.services import bulk
from reliefops.cluster.services.report_types import Actor
from reliefops.cluster.values import EARLIEST, LATEST
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.services import audit_record, stored_user

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


def parse_month(text: str, *, field: str = "period") -> dt.date:
    """`2005-11` -> 2005-11-01, and a day of it (`2005-11-20`) -> its month; InvalidInput naming
    `field` otherwise."""
    match = _MONTH.match(text.strip())
    if match and 1 <= int(match[2]) <= 12 and EARLIEST.year <= int(match[1]) <= LATEST.year:
        try:
            dt.date(int(match[1]), int(match[2]), int(match[3] or 1))
        except ValueError:
            pass  # no such day in that month
        else:
            return dt.date(int(match[1]), int(match[2]), 1)
    reason = f"'{text}' is not a month; write it as 2005-11 (or a day of it, 2005-11-20)"
    raise InvalidInput([Problem(None, field, reason)])


class PeriodLock(NamedTuple):
    """A reporting month after a lock or a reopening, and whether that changed it: locking a
    locked month, or reopening an open one, changes nothing."""

    period: ReportingPeriod
    changed: bool

    def describe(self, month_text: str) -> str:
        """What became of the month, as the page and the command line say it (`month_text`: the
        month as each writes it)."""
        if self.changed:
            return f"{month_text} is {'locked' if self.period.locked else 'open'}."
        if self.period.locked:
            return f"{month_text} is locked already; nothing changed."
        return f"{month_text} is not locked; nothing to reopen."


def reporting_period_set_lock(*, actor: Actor, month: dt.date, locked: bool, note: str = "") -> PeriodLock:
    """Lock a reporting month (no upload may then add, change or withdraw its rows) or reopen it.
    Locking a locked month, or reopening an open one, changes nothing (its note stays); reopening
    a month that was never locked stores nothing either.

    A lock waits for the uploads and reverts under way: they read the locked months once they hold
    the table, so none of them can write into a month after its lock is confirmed."""
    if len(note) > NOTE_MAX:
        raise InvalidInput([Problem(None, "note", f"at most {NOTE_MAX} characters")])
    month = month.replace(day=1)
    real_actor = stored_user(actor)
    with transaction.atomic():
        bulk.lock_for_writing()
        periods = ReportingPeriod.objects.select_for_update()
        if locked:
            period, _ = periods.get_or_create(month=month)
        else:
            found = periods.filter(month=month).first()
            if found is None:  # never locked: nothing to reopen, and no row is stored for it
                return PeriodLock(ReportingPeriod(month=month, locked=False), changed=False)
            period = found
        if period.locked == locked:
            return PeriodLock(period, changed=False)
        period.locked = locked
        period.changed_by = real_actor
        period.changed_by_label = real_actor.get_username() if real_actor is not None else "system"
        period.note = note
        period.save()
        audit_record(
            actor=actor,
            action="cluster.period_lock" if locked else "cluster.period_reopen",
            object_type="reporting_period",
            object_id=f"{month:%Y-%m}",
            before={"locked": not locked},
            after={"locked": locked, "note": period.note},
        )
    return PeriodLock(period, changed=True)
