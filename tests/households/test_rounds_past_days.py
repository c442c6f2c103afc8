"""A round's list made and the round closed on past days, as a scenario or an import records an
operation that happened before it was entered."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from reliefops.core.errors import InvalidInput
from reliefops.households.models import DistributionRound, RoundStatus
from reliefops.households.services import round_make_list, round_set_status, round_status_change
from tests.households.conftest import register, winter_round

KARACHI = ZoneInfo("Asia/Karachi")
LISTED = dt.datetime(2005, 11, 13, 9, 0, tzinfo=KARACHI)
CLOSED = dt.datetime(2006, 1, 31, 18, 0, tzinfo=KARACHI)


def listed_round(op, **list_kwargs) -> DistributionRound:
    register(op)
    round_obj = winter_round(op, open_it=False)
    round_make_list(actor=op.registrar, round_id=round_obj.pk, **list_kwargs)
    round_set_status(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.OPEN)
    return round_obj


def test_a_round_listed_and_closed_on_past_days_keeps_those_days(op):
    # given a round whose list was made the day before it started
    round_obj = listed_round(op, listed_at=LISTED)
    # when it is closed at the end of its last day
    closed = round_status_change(
        actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.CLOSED, closed_at=CLOSED
    )
    # then the round keeps both days, not the day they were entered
    round_obj.refresh_from_db()
    assert round_obj.listed_at == LISTED
    assert round_obj.closed_at == CLOSED
    assert closed.changed
    again = round_status_change(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.CLOSED)
    assert again.message == "Round WR-1 was already closed on 31 Jan 2006 18:00: nothing changed."


def test_without_days_the_list_and_the_closing_are_dated_now(op):
    before = timezone.now()
    round_obj = listed_round(op)
    round_set_status(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.CLOSED)
    round_obj.refresh_from_db()
    assert round_obj.listed_at >= before
    assert round_obj.closed_at >= round_obj.listed_at


def test_a_closing_before_the_list_was_made_is_refused_naming_the_field(op):
    round_obj = listed_round(op, listed_at=LISTED)
    with pytest.raises(InvalidInput) as refused:
        round_status_change(
            actor=op.registrar,
            round_id=round_obj.pk,
            status=RoundStatus.CLOSED,
            closed_at=LISTED - dt.timedelta(days=1),
        )
    [problem] = refused.value.problems
    assert problem.field == "closed_at"
    assert problem.reason == "12 Nov 2005 09:00 is before the list of WR-1 was made (13 Nov 2005 09:00)"
    # and the round stays open, as it was
    assert DistributionRound.objects.get(pk=round_obj.pk).status == RoundStatus.OPEN


def test_a_list_dated_in_the_future_is_refused_naming_the_field(op):
    register(op)
    round_obj = winter_round(op, open_it=False)
    tomorrow = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        round_make_list(actor=op.registrar, round_id=round_obj.pk, listed_at=tomorrow)
    [problem] = refused.value.problems
    assert problem.field == "listed_at"
    assert problem.reason.endswith("is in the future")
    # and no list was made
    round_obj.refresh_from_db()
    assert round_obj.listed_at is None


def test_a_closing_dated_in_the_future_is_refused_naming_the_field(op):
    round_obj = listed_round(op)
    tomorrow = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        round_set_status(
            actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.CLOSED, closed_at=tomorrow
        )
    [problem] = refused.value.problems
    assert problem.field == "closed_at"
    assert problem.reason.endswith("is in the future")
    # and the round stays open
    round_obj.refresh_from_db()
    assert (round_obj.status, round_obj.closed_at) == (RoundStatus.OPEN, None)


def test_a_list_made_again_cannot_be_dated_before_its_last_making(op):
    round_obj = listed_round(op, listed_at=LISTED)
    with pytest.raises(InvalidInput) as refused:
        round_make_list(actor=op.registrar, round_id=round_obj.pk, listed_at=LISTED - dt.timedelta(hours=1))
    [problem] = refused.value.problems
    assert problem.field == "listed_at"
    assert problem.reason.startswith("the list of WR-1 was last made on 13 Nov 2005 09:00")


def test_a_closing_day_is_given_only_when_the_round_is_closed(op):
    register(op)
    round_obj = winter_round(op, open_it=False)
    round_make_list(actor=op.registrar, round_id=round_obj.pk)
    with pytest.raises(InvalidInput) as refused:
        round_set_status(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.OPEN, closed_at=CLOSED)
    assert [p.field for p in refused.value.problems] == ["closed_at"]
    assert DistributionRound.objects.get(pk=round_obj.pk).status == RoundStatus.PLANNED
