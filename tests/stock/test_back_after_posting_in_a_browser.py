"""A posting form the browser goes back to after it was sent: sent again, it posts nothing.

Each drawing of a form carries a new idempotency key, and the browser, going back to a page it may
not keep, draws the form anew; were the lines it had typed filled in again, sending it would post
the same consignment a second time under another key."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reliefops.core.roles import Role
from reliefops.stock.models import Movement, MovementKind, Waybill
from tests.stock.conftest import DAY, build_operation, receive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_dispatch_form_gone_back_to_after_posting_posts_nothing_again(signed_in_page):
    # given 200 blankets at the hub, and its manager, who dispatches 120 of them to the point
    op = build_operation()
    receive(op, op.hub, op.blanket, 200, op.dfid, "GRN-1")
    page = signed_in_page(Role.HUB_MANAGER, hubs=[op.hub])
    page.goto("/stock/waybills/new/")
    page.get_by_label("From", exact=True).select_option(str(op.hub.pk))
    page.get_by_label("To", exact=True).select_option(str(op.point.pk))
    page.get_by_label("Dispatched on").fill(DAY.isoformat())
    page.get_by_label("Item of line 1").select_option(str(op.blanket.pk))
    page.get_by_label("Quantity, line 1").fill("120")
    page.get_by_role("button", name="Dispatch").click()
    expect(page.locator(".messages")).to_contain_text("dispatched from Balakot hub")
    # when they go back to the form and press Dispatch again
    page.go_back()
    # then the form comes back empty (not the 120 blankets of the waybill just sent) ...
    expect(page.get_by_label("Quantity, line 1")).to_have_value("")
    page.get_by_role("button", name="Dispatch").click()
    # ... and no second waybill is dispatched
    assert Waybill.objects.count() == 1
    assert Movement.objects.filter(kind=MovementKind.DISPATCH).count() == 1


def test_a_receipt_form_gone_back_to_after_posting_comes_back_empty(signed_in_page):
    # given a hub manager who posted a receipt of 50 buckets
    op = build_operation()
    page = signed_in_page(Role.HUB_MANAGER, hubs=[op.hub])
    page.goto("/stock/post/receipt/")
    page.get_by_label("Received at").select_option(str(op.hub.pk))
    page.get_by_label("Grant").select_option(str(op.echo.pk))
    page.get_by_label("GRN number").fill("GRN-7")
    page.get_by_label("Received on").fill(DAY.isoformat())
    page.get_by_label("Item of line 1").select_option(str(op.bucket.pk))
    page.get_by_label("Quantity, line 1").fill("50")
    page.get_by_role("button", name="Post the receipt").click()
    expect(page.locator(".messages")).to_contain_text("Posted receipt")
    # when they go back to the form, then it holds nothing of the receipt already posted
    page.go_back()
    expect(page.get_by_label("GRN number")).to_have_value("")
    expect(page.get_by_label("Quantity, line 1")).to_have_value("")
    assert Movement.objects.filter(kind=MovementKind.RECEIPT).count() == 1
