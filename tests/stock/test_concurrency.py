"""Many writers at once, on the real database (SQLite or PostgreSQL): no overdraw, nothing lost."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.utils import timezone

from reliefops.core.errors import Conflict, ServiceError
from reliefops.core.text import day_text
from reliefops.stock.models import Movement, MovementKind, MovementLine, Pledge
from reliefops.stock.selectors import ledger_verify
from reliefops.stock.services import (
    DeliveryLine,
    StockLine,
    pledge_create,
    stock_distribute,
    waybill_confirm_delivery,
    waybill_dispatch,
)
from tests.stock.conftest import DAY, build_operation, on_hand, receive

THREADS = 8


def run_in_threads(work, count=THREADS):
    """Run `work(i)` in `count` threads released together; returns what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def target(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def outcome(result) -> str:
    if isinstance(result, Conflict):
        return "conflict"
    if isinstance(result, ServiceError):
        return "refused"
    if isinstance(result, Exception):
        return f"error: {result!r}"
    return "posted"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("named_grant", [True, False], ids=["named-grant", "first-in-first-out"])
def test_many_writers_on_one_balance_never_overdraw(named_grant):
    # given 60 blankets at the warehouse
    op = build_operation()
    receive(op, op.warehouse, op.blanket, 60, op.dfid, "GRN-1")

    # when 8 writers each try to distribute 7 blankets, three times over (168 asked for, 60 held)
    def work(i):
        outcomes = []
        for _ in range(3):
            try:
                stock_distribute(
                    actor=None,
                    site_id=op.warehouse.pk,
                    distributed_on=DAY,
                    lines=[
                        StockLine(
                            item_id=op.blanket.pk, quantity=7, grant_id=op.dfid.pk if named_grant else None
                        )
                    ],
                )
                outcomes.append("posted")
            except ServiceError as exc:
                outcomes.append(outcome(exc))
        return outcomes

    results = run_in_threads(work)
    flat = Counter(o for r in results for o in (r if isinstance(r, list) else [outcome(r)]))

    # then exactly 8 postings went through (56 blankets), the rest were refused, nothing was lost
    assert flat == Counter({"posted": 8, "refused": 16})
    assert on_hand(op.warehouse, op.blanket) == 4
    assert Movement.objects.filter(kind=MovementKind.DISTRIBUTION).count() == 8
    assert (
        sum(
            MovementLine.objects.filter(movement__kind=MovementKind.DISTRIBUTION).values_list(
                "quantity", flat=True
            )
        )
        == 56
    )
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_many_writers_on_different_balances_lose_no_movement():
    op = build_operation()
    receive(op, op.warehouse, op.blanket, 1000, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.cgi, 1000, op.echo, "GRN-2")
    items = [op.blanket, op.cgi]

    def work(i):
        for _ in range(5):
            waybill_dispatch(
                actor=None,
                from_site_id=op.warehouse.pk,
                to_site_id=op.hub.pk,
                dispatched_on=DAY,
                lines=[StockLine(item_id=items[i % 2].pk, quantity=3)],
            )
        return "posted"

    results = run_in_threads(work)
    assert [outcome(r) for r in results] == ["posted"] * THREADS
    assert Movement.objects.filter(kind=MovementKind.DISPATCH).count() == 40
    assert on_hand(op.warehouse, op.blanket) + on_hand(op.warehouse, op.cgi) == 2000 - 40 * 3
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_key", [True, False], ids=["same-key-replays", "no-key-conflicts"])
def test_double_submitted_confirmation_posts_once(same_key):
    op = build_operation()
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    waybill = waybill_dispatch(
        actor=None,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        dispatched_on=DAY,
        lines=[StockLine(item_id=op.blanket.pk, quantity=10)],
    ).waybill

    def work(i):
        return waybill_confirm_delivery(
            actor=None,
            waybill_id=waybill.pk,
            delivered_on=DAY,
            lines=[DeliveryLine(item_id=op.blanket.pk, received=10)],
            idempotency_key="confirm-wb" if same_key else None,
        )

    results = run_in_threads(work, count=4)
    posted = [r for r in results if not isinstance(r, Exception)]
    if same_key:
        assert len(posted) == 4
        assert len({r.movement.pk for r in posted}) == 1
        assert sum(not r.replayed for r in posted) == 1
    else:
        assert len(posted) == 1
        assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))
    assert Movement.objects.filter(kind=MovementKind.DELIVERY).count() == 1
    assert on_hand(op.hub, op.blanket) == 10
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_first_postings_to_a_new_balance_race_safely():
    # Eight writers create the same destination balance rows at once.
    op = build_operation()
    receive(op, op.warehouse, op.blanket, 80, op.dfid, "GRN-1")
    points = [op.hub, op.point]

    def work(i):
        return waybill_dispatch(
            actor=None,
            from_site_id=op.warehouse.pk,
            to_site_id=points[i % 2].pk,
            dispatched_on=DAY,
            lines=[StockLine(item_id=op.blanket.pk, quantity=10)],
        )

    results = run_in_threads(work)
    assert [outcome(r) for r in results] == ["posted"] * THREADS
    assert on_hand(op.warehouse, op.blanket) == 0
    assert ledger_verify().ok
    assert connection.vendor in {"sqlite", "postgresql"}


@pytest.mark.django_db(transaction=True)
def test_one_grn_posted_at_once_by_many_is_posted_once_and_the_others_are_told_of_the_conflict():
    op = build_operation()

    # when 8 clerks post the same GRN at the same moment, without idempotency keys
    def work(i):
        receive(op, op.warehouse, op.blanket, 10 + i, op.dfid, "GRN-SAME")
        return "posted"

    results = run_in_threads(work)

    # then one receipt is posted and the others hear of the conflict, as they would one after another
    assert Counter(r if isinstance(r, str) else outcome(r) for r in results) == Counter(
        {"posted": 1, "conflict": 7}
    )
    posted = Movement.objects.get(kind=MovementKind.RECEIPT)
    posted_on = day_text(timezone.localdate(posted.posted_at))
    assert all(
        str(r) == f"GRN GRN-SAME was posted as receipt #{posted.pk} on {posted_on}"
        for r in results
        if isinstance(r, Conflict)
    )
    assert Movement.objects.filter(kind=MovementKind.RECEIPT).count() == 1
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_one_waybill_number_dispatched_at_once_by_many_is_dispatched_once_and_the_others_conflict():
    op = build_operation()
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")

    # when 8 dispatchers type the same waybill number at the same moment, without idempotency keys
    def work(i):
        waybill_dispatch(
            actor=None,
            from_site_id=op.warehouse.pk,
            to_site_id=op.hub.pk,
            dispatched_on=DAY,
            number="BLK/2005/0412",
            lines=[StockLine(item_id=op.blanket.pk, quantity=1 + i)],
        )
        return "posted"

    results = run_in_threads(work)

    # then one waybill is dispatched and the others hear of the conflict
    assert Counter(r if isinstance(r, str) else outcome(r) for r in results) == Counter(
        {"posted": 1, "conflict": 7}
    )
    refused = {str(r) for r in results if isinstance(r, Conflict)}
    assert refused == {
        "waybill BLK/2005/0412 exists already (dispatched 20 Oct 2005 from Islamabad warehouse to "
        "Balakot hub) with other items or details; give this consignment a number of its own"
    }
    assert Movement.objects.filter(kind=MovementKind.DISPATCH).count() == 1
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_one_pledge_sent_at_once_under_one_key_is_recorded_once_and_replayed_to_the_others():
    op = build_operation()

    # when the same pledge, under one idempotency key, is sent 8 times at the same moment
    def work(i):
        return pledge_create(
            actor=None,
            grant_id=op.dfid.pk,
            item_id=op.blanket.pk,
            quantity=5000,
            destination_site_id=op.warehouse.pk,
            expected_on=DAY,
            idempotency_key="u0:pledge-dfid-blankets",
        )

    results = run_in_threads(work)

    # then one pledge is recorded, and every other answer is that pledge, replayed
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Pledge.objects.count() == 1
    assert {r.pk for r in results} == {Pledge.objects.get().pk}
    assert sorted(r.replayed for r in results) == [False] + [True] * 7
