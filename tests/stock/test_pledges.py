"""Pledges: one donor reference of a grant once, an expected day within the grant, cancelling one that
will not come (or not in full), and a receipt that brings more than was pledged."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.stock.models import PledgeStatus
from reliefops.stock.selectors import pipeline
from reliefops.stock.services import (
    ReceiptLine,
    movement_reverse,
    pledge_cancel,
    pledge_cancelled_message,
    pledge_create,
    stock_receive,
)
from tests.factories import make_user
from tests.stock.conftest import DAY, snapshot


def pledge(op, quantity=1000, reference="DFID-PL-77", grant=None, expected_on=DAY, site=None, key=None):
    return pledge_create(
        actor=op.actor,
        grant_id=(grant or op.dfid).pk,
        item_id=op.blanket.pk,
        quantity=quantity,
        destination_site_id=(site or op.hub).pk,
        expected_on=expected_on,
        reference=reference,
        idempotency_key=key,
    )


@pytest.fixture
def op(op):
    """The test operation, with an administrator to cancel pledges (its hub manager has no sites)."""
    op.admin = make_user(Role.ADMIN)
    return op


def cancel(op, p, reason):
    return pledge_cancel(actor=op.admin, pledge_id=p.pk, reason=reason)


def receive_against(op, p, quantity, grn):
    return stock_receive(
        actor=op.actor,
        site_id=op.hub.pk,
        grant_id=op.dfid.pk,
        grn_number=grn,
        received_on=DAY,
        pledge_id=p.pk,
        lines=[ReceiptLine(item_id=op.blanket.pk, quantity=quantity)],
    )


# --- one reference of a grant ---------------------------------------------------------------------------


@pytest.mark.parametrize("again", ["DFID-PL-77", "dfid-pl-77", "  DFID-PL-77 "])
def test_a_donor_reference_of_a_grant_is_one_pledge(op, again):
    first = pledge(op)
    before = snapshot()
    with pytest.raises(Conflict) as caught:
        pledge(op, reference=again)
    assert caught.value.message == f"pledge {first.pk} already has the reference DFID-PL-77"
    assert snapshot() == before


def test_the_same_reference_of_another_grant_or_no_reference_twice_is_another_pledge(op):
    pledge(op)
    pledge(op, grant=op.echo)
    pledge(op, reference="")
    pledge(op, reference="")
    assert len(pipeline(today=DAY).pledges) == 4


def test_a_repeated_key_is_still_the_first_pledge_not_a_refusal(op):
    first = pledge(op, key="k-1")
    again = pledge(op, key="k-1")
    assert (again.pk, again.replayed) == (first.pk, True)


def test_the_reference_of_a_cancelled_pledge_is_refused_saying_so(op):
    first = pledge(op)
    cancel(op, first, "pledged twice")
    with pytest.raises(Conflict, match=f"pledge {first.pk} \\(cancelled\\) already has the reference"):
        pledge(op)


# --- the expected day -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected_on", "reason"),
    [
        pytest.param(
            dt.date(1990, 1, 1), "1 Jan 1990 is before grant DFID-2005-07 began (12 Oct 2005)", id="1990"
        ),
        pytest.param(
            dt.date(2005, 10, 11), "11 Oct 2005 is before grant DFID-2005-07 began (12 Oct 2005)", id="eve"
        ),
        pytest.param(
            dt.date(1989, 12, 31), "31 Dec 1989 is before 1 Jan 1990; check the year", id="before-1990"
        ),
    ],
)
def test_a_pledge_expected_before_its_grant_began_is_refused(op, expected_on, reason):
    op.dfid.start = dt.date(2005, 10, 12)
    op.dfid.save()
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        pledge(op, expected_on=expected_on)
    assert [(p.field, p.reason) for p in caught.value.problems] == [("expected_on", reason)]
    assert snapshot() == before
    pledge(op, expected_on=dt.date(2005, 10, 12))


# --- more than pledged ----------------------------------------------------------------------------------


def test_a_receipt_beyond_the_pledge_says_how_many_more(op):
    p = pledge(op)
    first = receive_against(op, p, 600, "GRN-1")
    assert first.notes == (f"Pledge {p.pk}: 600 of 1,000 received; 400 still to come.",)
    second = receive_against(op, p, 500, "GRN-2")
    assert second.notes == (f"Pledge {p.pk} is received: 1,100 of 1,000 received, 100 more than pledged.",)
    p.refresh_from_db()
    assert (p.status, p.more_than_pledged) == (PledgeStatus.RECEIVED, 100)
    exact = pledge(op, quantity=10, reference="DFID-PL-78")
    assert receive_against(op, exact, 10, "GRN-3").notes == (f"Pledge {exact.pk} is received in full.",)


# --- cancelling -------------------------------------------------------------------------------------------


def test_a_partly_received_pledge_is_cancelled_with_its_reason_and_leaves_the_pipeline(op):
    p = pledge(op)
    receive_against(op, p, 600, "GRN-1")
    # when it is cancelled: the rest will not come
    cancelled = cancel(op, p, "  the rest will not come  ")
    # then it is cancelled with what was received, the reason and the moment, and audited
    p.refresh_from_db()
    assert (p.status, p.received_quantity, p.cancel_reason) == (
        PledgeStatus.CANCELLED,
        600,
        "the rest will not come",
    )
    assert p.cancelled_at is not None
    assert pledge_cancelled_message(cancelled) == (
        f"Pledge {p.pk} (DFID-PL-77) cancelled: 600 of 1,000 blankets received; the other 400 will not come."
    )
    assert pipeline(today=DAY).pledges == []
    event = AuditEvent.objects.get(action="stock.pledge_cancel")
    assert (event.object_id, event.before, event.after) == (
        str(p.pk),
        {"status": "open", "received_quantity": 600},
        {"status": "cancelled", "reason": "the rest will not come", "not_coming": 400},
    )
    # and reversing its receipt takes the quantity back, the pledge staying cancelled
    receipt = p.receipts.get()
    movement_reverse(actor=op.actor, movement_id=receipt.pk, reason="wrong grant", reversed_on=DAY)
    p.refresh_from_db()
    assert (p.status, p.received_quantity) == (PledgeStatus.CANCELLED, 0)


def test_cancelling_again_for_the_same_reason_changes_nothing_and_for_another_is_refused(op):
    p = pledge(op)
    cancel(op, p, "not coming")
    before = snapshot()
    again = cancel(op, p, "not coming")
    assert again.replayed
    assert (
        pledge_cancelled_message(again)
        == f"Pledge {p.pk} (DFID-PL-77) was already cancelled: nothing changed."
    )
    with pytest.raises(Conflict, match=f"pledge {p.pk} was already cancelled on .*: not coming"):
        cancel(op, p, "another reason")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        pytest.param("", "say why the pledge is cancelled", id="blank"),
        pytest.param("x" * 201, "longer than 200 characters; shorten it", id="too-long"),
    ],
)
def test_a_cancellation_without_a_readable_reason_is_refused(op, reason, problem):
    p = pledge(op)
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        cancel(op, p, reason)
    assert [(x.field, x.reason) for x in caught.value.problems] == [("reason", problem)]
    assert snapshot() == before


def test_a_pledge_received_in_full_is_not_cancelled(op):
    p = pledge(op, quantity=10)
    receive_against(op, p, 12, "GRN-1")
    with pytest.raises(Conflict) as caught:
        cancel(op, p, "not needed")
    assert caught.value.message == (
        f"pledge {p.pk} was received in full (12 of 10 blankets): nothing is left to cancel; reverse its "
        "receipts first if they were posted against the wrong pledge"
    )


def test_only_who_may_post_stock_at_its_site_cancels_a_pledge(op):
    p = pledge(op, site=op.warehouse)
    # a hub manager of another site does not learn it exists; a coordinator sees it but may not post
    other = make_user(Role.HUB_MANAGER, hubs=[op.hub])
    with pytest.raises(NotFound, match=f"no pledge {p.pk}"):
        pledge_cancel(actor=other, pledge_id=p.pk, reason="x")
    with pytest.raises(AccessDenied):
        pledge_cancel(actor=make_user(Role.COORDINATOR), pledge_id=p.pk, reason="x")
    with pytest.raises(NotFound, match="no pledge 999999"):
        pledge_cancel(actor=make_user(Role.ADMIN), pledge_id=999_999, reason="x")
    assert (
        pledge_cancel(actor=make_user(Role.ADMIN), pledge_id=p.pk, reason="x").status
        == PledgeStatus.CANCELLED
    )


# --- a past cancellation recorded by the system ----------------------------------------------------

PKT = dt.timezone(dt.timedelta(hours=5))  # the operation's time zone, Pakistan


def test_the_system_cancels_a_pledge_on_a_day_in_the_past(op):
    # given a pledge of which 600 of 1,000 were received on 20 Oct 2005
    p = pledge(op)
    receive_against(op, p, 600, "GRN-1")
    # when the system (no signed-in user) records that the rest was cancelled on 1 Nov 2005, in Pakistan
    when = dt.datetime(2005, 11, 1, 10, 30, tzinfo=PKT)
    cancelled = pledge_cancel(actor=None, pledge_id=p.pk, reason="the ship was diverted", cancelled_at=when)
    # then the pledge is cancelled at that moment, leaves the pipeline, and the audit keeps the moment
    p.refresh_from_db()
    assert (p.status, p.cancelled_at, p.cancel_reason) == (
        PledgeStatus.CANCELLED,
        when,
        "the ship was diverted",
    )
    assert pledge_cancelled_message(cancelled).endswith(
        "600 of 1,000 blankets received; the other 400 will not come."
    )
    assert pipeline(today=DAY).pledges == []
    event = AuditEvent.objects.get(action="stock.pledge_cancel")
    assert (event.actor_id, event.after["cancelled_at"]) == (None, when.isoformat())
    # and a refusal of another reason names the day it was cancelled
    with pytest.raises(
        Conflict, match=f"pledge {p.pk} was already cancelled on 1 Nov 2005: the ship was diverted"
    ):
        pledge_cancel(actor=None, pledge_id=p.pk, reason="another")


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        pytest.param(
            dt.datetime(2099, 1, 1, tzinfo=dt.UTC), "1 Jan 2099 05:00 is in the future", id="future"
        ),
        pytest.param(
            dt.datetime(1985, 6, 1, 12, tzinfo=PKT),
            "1 Jun 1985 is before 1 Jan 1990; check the year",
            id="too-old",
        ),
        pytest.param(
            dt.datetime(2005, 10, 19, 23, 30, tzinfo=PKT),
            "19 Oct 2005 is before pledge {pk} was last received (20 Oct 2005); "
            "it is cancelled on or after that day",
            id="before-its-receipt",
        ),
    ],
)
def test_a_past_cancellation_on_a_day_it_cannot_have_been_is_refused_naming_the_field(op, when, reason):
    p = pledge(op)
    receive_against(op, p, 600, "GRN-1")
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        pledge_cancel(actor=None, pledge_id=p.pk, reason="not coming", cancelled_at=when)
    assert [(x.field, x.reason) for x in caught.value.problems] == [("cancelled_at", reason.format(pk=p.pk))]
    assert snapshot() == before
    p.refresh_from_db()
    assert (p.status, p.cancelled_at) == (PledgeStatus.OPEN, None)
