"""Random sequences of every stock operation, refused ones included, keep the ledger's invariants.

After each step: for every (item, grant) the balances sum to zero, no physical balance is below
zero, the balance table equals a recomputation from the ledger lines, and each site's stock equals
what a simple model of the operations says it should be.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from reliefops.core.errors import ServiceError
from reliefops.stock.models import Balance, Movement, MovementKind, MovementLine, WaybillStatus
from reliefops.stock.selectors import ledger_verify
from reliefops.stock.services import (
    CountLine,
    DeliveryLine,
    ReceiptLine,
    StockLine,
    kits_assemble,
    kits_break,
    movement_reverse,
    stock_count,
    stock_distribute,
    stock_handover_to_partner,
    stock_receive,
    stock_report_loss,
    waybill_confirm_delivery,
    waybill_dispatch,
)
from tests.stock.conftest import build_operation

DAY = dt.date(2005, 11, 1)
quantities = st.integers(min_value=-3, max_value=60)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.op = build_operation()
        self.sites = [self.op.warehouse, self.op.hub, self.op.point]
        self.items = [self.op.blanket, self.op.bucket, self.op.kit_item]
        self.grants = [self.op.dfid, self.op.echo]
        self.model: dict[tuple[int, int], int] = defaultdict(int)  # (site, item) -> on hand
        self.open_waybills: list[int] = []
        self.grn = 0
        self.refusals = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _attempt(self, call, effect) -> None:
        """Run an operation; if refused, nothing may have changed."""
        before = (
            Movement.objects.count(),
            MovementLine.objects.count(),
            list(Balance.objects.order_by("pk").values_list("pk", "quantity")),
        )
        try:
            result = call()
        except ServiceError:
            self.refusals += 1
            after = (
                Movement.objects.count(),
                MovementLine.objects.count(),
                list(Balance.objects.order_by("pk").values_list("pk", "quantity")),
            )
            assert after == before
            return
        effect(result)

    @rule(site=st.integers(0, 2), item=st.integers(0, 2), grant=st.integers(0, 1), quantity=quantities)
    def receive(self, site, item, grant, quantity):
        self.grn += 1
        site_obj, item_obj = self.sites[site], self.items[item]

        def effect(_):
            self.model[(site_obj.pk, item_obj.pk)] += quantity

        self._attempt(
            lambda: stock_receive(
                actor=None,
                site_id=site_obj.pk,
                grant_id=self.grants[grant].pk,
                grn_number=f"GRN-{self.grn}",
                received_on=DAY,
                lines=[ReceiptLine(item_id=item_obj.pk, quantity=quantity)],
            ),
            effect,
        )

    @rule(
        src=st.integers(0, 2),
        dst=st.integers(0, 2),
        item=st.integers(0, 2),
        quantity=quantities,
        named=st.booleans(),
        grant=st.integers(0, 1),
    )
    def dispatch(self, src, dst, item, quantity, named, grant):
        source, item_obj = self.sites[src], self.items[item]

        def effect(result):
            self.model[(source.pk, item_obj.pk)] -= quantity
            self.open_waybills.append(result.waybill.pk)

        self._attempt(
            lambda: waybill_dispatch(
                actor=None,
                from_site_id=source.pk,
                to_site_id=self.sites[dst].pk,
                dispatched_on=DAY,
                lines=[
                    StockLine(
                        item_id=item_obj.pk,
                        quantity=quantity,
                        grant_id=self.grants[grant].pk if named else None,
                    )
                ],
            ),
            effect,
        )

    @precondition(lambda self: self.open_waybills)
    @rule(data=st.data())
    def confirm(self, data):
        waybill_id = data.draw(st.sampled_from(self.open_waybills))
        sent = dict(
            Balance.objects.filter(location__waybill_id=waybill_id, quantity__gt=0).values_list(
                "item_id", "quantity"
            )
        )
        lines, arrived = [], {}
        for item_id, quantity in sent.items():
            received = data.draw(st.integers(0, quantity + 2))
            damaged = data.draw(st.integers(0, 2))
            arrived[item_id] = received
            lines.append(
                DeliveryLine(
                    item_id=item_id,
                    received=received,
                    damaged=damaged,
                    damage_reason="wet",
                    short_reason="missing",
                )
            )
        excess = data.draw(st.sampled_from(["", "extra bale"]))
        from reliefops.stock.models import Waybill

        destination = Waybill.objects.get(pk=waybill_id).to_site_id

        def effect(_):
            for item_id, received in arrived.items():
                self.model[(destination, item_id)] += received
            self.open_waybills.remove(waybill_id)

        self._attempt(
            lambda: waybill_confirm_delivery(
                actor=None, waybill_id=waybill_id, delivered_on=DAY, lines=lines, excess_reason=excess
            ),
            effect,
        )

    @rule(
        site=st.integers(0, 2),
        item=st.integers(0, 2),
        quantity=quantities,
        how=st.sampled_from(["distribute", "handover", "loss"]),
    )
    def issue(self, site, item, quantity, how):
        site_obj, item_obj = self.sites[site], self.items[item]
        lines = [StockLine(item_id=item_obj.pk, quantity=quantity)]
        calls = {
            "distribute": lambda: stock_distribute(
                actor=None, site_id=site_obj.pk, distributed_on=DAY, lines=lines
            ),
            "handover": lambda: stock_handover_to_partner(
                actor=None,
                site_id=site_obj.pk,
                organisation_id=self.op.partner.pk,
                handed_on=DAY,
                lines=lines,
            ),
            "loss": lambda: stock_report_loss(
                actor=None, site_id=site_obj.pk, reason="theft", note="gone", occurred_on=DAY, lines=lines
            ),
        }

        def effect(_):
            self.model[(site_obj.pk, item_obj.pk)] -= quantity

        self._attempt(calls[how], effect)

    @rule(site=st.integers(0, 2), item=st.integers(0, 2), counted=st.integers(-1, 80))
    def count(self, site, item, counted):
        site_obj, item_obj = self.sites[site], self.items[item]

        def effect(_):
            self.model[(site_obj.pk, item_obj.pk)] = counted

        self._attempt(
            lambda: stock_count(
                actor=None,
                site_id=site_obj.pk,
                counted_on=DAY,
                counts=[CountLine(item_id=item_obj.pk, counted=counted)],
            ),
            effect,
        )

    @rule(
        site=st.integers(0, 2),
        quantity=st.integers(-1, 8),
        grant=st.sampled_from([None, 0, 1]),
        assemble=st.booleans(),
    )
    def kitting(self, site, quantity, grant, assemble):
        site_obj, op = self.sites[site], self.op
        grant_id = None if grant is None else self.grants[grant].pk
        sign = 1 if assemble else -1

        def effect(_):
            self.model[(site_obj.pk, op.kit_item.pk)] += sign * quantity
            self.model[(site_obj.pk, op.blanket.pk)] -= sign * 3 * quantity
            self.model[(site_obj.pk, op.bucket.pk)] -= sign * quantity

        service = kits_assemble if assemble else kits_break
        date_arg = {"assembled_on": DAY} if assemble else {"broken_on": DAY}
        self._attempt(
            lambda: service(
                actor=None,
                site_id=site_obj.pk,
                kit_item_id=op.kit_item.pk,
                quantity=quantity,
                grant_id=grant_id,
                **date_arg,
            ),
            effect,
        )

    @precondition(lambda self: Movement.objects.exists())
    @rule(data=st.data())
    def reverse(self, data):
        ids = list(Movement.objects.order_by("pk").values_list("pk", flat=True))
        movement = Movement.objects.get(pk=data.draw(st.sampled_from(ids)))
        effects = [
            (line.from_location.site_id, line.to_location.site_id, line.item_id, line.quantity)
            for line in movement.lines.select_related("from_location", "to_location")
        ]

        def effect(_):
            for from_site, to_site, item_id, quantity in effects:
                if from_site is not None:
                    self.model[(from_site, item_id)] += quantity
                if to_site is not None:
                    self.model[(to_site, item_id)] -= quantity
            if movement.kind == MovementKind.DISPATCH:
                self.open_waybills.remove(movement.waybill_id)
            if movement.kind == MovementKind.DELIVERY:
                self.open_waybills.append(movement.waybill_id)

        self._attempt(
            lambda: movement_reverse(
                actor=None, movement_id=movement.pk, reason="correction", reversed_on=DAY
            ),
            effect,
        )

    @invariant()
    def ledger_is_sound(self):
        result = ledger_verify()
        assert result.ok, result

    @invariant()
    def sites_hold_what_the_model_says(self):
        held: dict[tuple[int, int], int] = defaultdict(int)
        for site_id, item_id, quantity in Balance.objects.filter(is_physical=True).values_list(
            "location__site_id", "item_id", "quantity"
        ):
            held[(site_id, item_id)] += quantity
        for key in set(held) | set(self.model):
            assert held[key] == self.model[key], key

    @invariant()
    def open_waybills_are_in_transit(self):
        from reliefops.stock.models import Waybill

        statuses = set(Waybill.objects.filter(pk__in=self.open_waybills).values_list("status", flat=True))
        assert statuses <= {WaybillStatus.IN_TRANSIT}


LedgerMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.django_db
def test_ledger_state_machine():
    LedgerMachine.TestCase().runTest()
