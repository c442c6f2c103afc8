"""The printed waybill and goods received note read on a phone's screen without the page scrolling
sideways (their lines scroll in their own box), and the stock pages' fields have an edge that can be
seen (3:1 against white, as WCAG 1.4.11 asks of a field's edge)."""

from __future__ import annotations

import pytest

from reliefops.core.roles import Role
from reliefops.stock.models import Movement, MovementKind
from reliefops.stock.services import DeliveryLine, StockLine, waybill_confirm_delivery, waybill_dispatch
from tests.stock.conftest import DAY, build_operation, receive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def sideways(page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_the_printed_waybill_and_goods_received_note_fit_a_phone(signed_in_page):
    # given a waybill of 120 blankets, delivered
    op = build_operation()
    receive(op, op.hub, op.blanket, 200, op.dfid, "GRN-1")
    waybill = waybill_dispatch(
        actor=op.actor,
        from_site_id=op.hub.pk,
        to_site_id=op.point.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=120)],
        dispatched_on=DAY,
        driver="Gul Khan",
    ).waybill
    waybill_confirm_delivery(
        actor=None,
        waybill_id=waybill.pk,
        lines=[DeliveryLine(item_id=op.blanket.pk, received=120)],
        delivered_on=DAY,
    )
    delivery = Movement.objects.get(kind=MovementKind.DELIVERY)
    page = signed_in_page(Role.VIEWER)
    page.set_viewport_size(PHONE)
    # when the printable waybill and goods received note are opened on a phone
    for url in (f"/stock/waybills/{waybill.pk}/print/", f"/stock/movements/{delivery.pk}/grn/"):
        page.goto(url)
        # then the page does not scroll sideways
        assert sideways(page) <= 0, url


def test_the_stock_cards_day_fields_have_an_edge_that_can_be_seen(signed_in_page):
    build_operation()
    page = signed_in_page(Role.VIEWER)
    page.goto("/stock/card/")
    edge = page.eval_on_selector("input[name=start]", "e => getComputedStyle(e).borderTopColor")
    assert edge == "rgb(125, 137, 150)"
