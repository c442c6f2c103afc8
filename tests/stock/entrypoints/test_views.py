"""The stock pages: reports, forms that post once and show refusals beside the fields, printables."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reliefops.core.roles import Role
from reliefops.stock.models import Movement, MovementKind, Waybill, WaybillStatus
from reliefops.stock.services import StockLine, waybill_dispatch
from tests.factories import ItemFactory, make_user
from tests.stock.conftest import DAY, assert_ledger_sound, on_hand, receive, snapshot


def text(response) -> str:
    return response.content.decode()


def hidden_key(response) -> str:
    """The idempotency key the form was rendered with."""
    found = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', text(response))
    assert found, "the form carries no idempotency key"
    return found.group(1)


def form_data(fields: dict, lines: list[dict] | None = None, *, initial: int = 0) -> dict:
    """POST data of a posting form: its fields and its lines (a Django formset named `lines`)."""
    data = {key: "" if value is None else str(value) for key, value in fields.items()}
    if lines is not None:
        data["lines-TOTAL_FORMS"] = str(len(lines))
        data["lines-INITIAL_FORMS"] = str(initial)
        for index, line in enumerate(lines):
            for name, value in line.items():
                data[f"lines-{index}-{name}"] = "" if value is None else str(value)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- reports ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shows"),
    [
        pytest.param("stock:onhand-list", ["Stock on hand", "Balakot hub", "BLANKET"], id="on-hand"),
        pytest.param("stock:pipeline", ["Waybills in transit", "overdue"], id="pipeline"),
        pytest.param("stock:waybill-list", ["Waybills", "Islamabad warehouse"], id="waybills"),
        pytest.param("stock:movement-list", ["Movements", "GRN-H1"], id="movements"),
        pytest.param("stock:onhand-card", ["Stock card", "Choose a site"], id="stock-card-form"),
        pytest.param("stock:donor-list", ["Donor reports", "DFID-2005-07"], id="donor-reports"),
        pytest.param("stock:post-menu", ["Receive goods", "Waybills to confirm"], id="post-menu"),
    ],
)
def test_report_pages_render_in_the_layout(waybill, web_as, url, shows):
    response = web_as(Role.ADMIN).get(reverse(url))
    assert response.status_code == 200
    body = text(response)
    assert 'aria-label="Main"' in body
    for words in shows:
        assert words in body


def test_on_hand_with_the_grant_breakdown(stocked, web_as):
    body = text(web_as(Role.VIEWER).get(reverse("stock:onhand-list"), {"by_grant": "on"}))
    assert re.search(r"DFID-2005-07</td>\s*<td class=\"num\">500</td>", body)
    assert re.search(r"ECHO-2005-01</td>\s*<td class=\"num\">100</td>", body)


def test_a_hub_manager_sees_only_the_stock_of_their_sites(stocked, web_as):
    body = text(web_as(Role.HUB_MANAGER).get(reverse("stock:onhand-list")))
    assert "Balakot hub" in body
    assert "Garhi Habibullah point" in body
    assert "Islamabad warehouse" not in body


@pytest.mark.parametrize("url", ["stock:onhand-list", "stock:waybill-list", "stock:movement-list"])
def test_a_closed_site_is_still_a_filter_of_the_stock_lists(stocked, web_as, url):
    # given a hub closed after its stock moved (its pages and the app's links still name it)
    stocked.hub.is_active = False
    stocked.hub.save(update_fields=["is_active"])
    # when a list is filtered by it
    response = web_as(Role.VIEWER).get(reverse(url), {"site": stocked.hub.pk})
    # then the list answers for it, and the filter offers it, marked closed
    assert response.status_code == 200
    assert "closed)</option>" in text(response)
    assert "Nothing is listed" not in text(response)


def test_stock_card_shows_opening_movements_and_closing(stocked, web_as):
    response = web_as(Role.VIEWER).get(
        reverse("stock:onhand-card"),
        {"site": stocked.hub.pk, "item": "BLANKET", "start": "2005-10-01", "end": "2005-10-31"},
    )
    body = text(response)
    assert "Stock card: Blanket at Balakot hub" in body
    assert re.search(r"Closing 31 Oct 2005</dt><dd>200</dd>", body)
    assert "GRN-H1" in body


def test_pipeline_highlights_overdue_waybills(waybill, web_as):
    body = text(web_as(Role.VIEWER).get(reverse("stock:pipeline")))
    assert "1 waybill overdue." in body
    assert re.search(rf'<tr class="overdue">\s*<td class="code"><a href="[^"]+">{waybill.number}</a>', body)


def test_donor_reports_are_for_roles_that_see_every_site(stocked, web_as):
    url = reverse("stock:donor-report", args=[stocked.dfid.pk])
    assert web_as(Role.HUB_MANAGER).get(url).status_code == 403
    body = text(web_as(Role.COORDINATOR).get(url))
    assert "Donor report" in body
    assert re.search(r"BLANKET</span> Blanket</td>\s*<td class=\"num\">700</td>", body)


def test_waybill_and_movement_pages_show_their_lines(waybill, web_as):
    client = web_as(Role.VIEWER)
    body = text(client.get(reverse("stock:waybill-detail", args=[waybill.pk])))
    assert waybill.number in body
    assert "Gul Khan" in body
    assert re.search(r"DFID-2005-07</td>\s*<td class=\"num\">120 ", body)
    dispatch = waybill.movements.get()
    body = text(client.get(reverse("stock:movement-detail", args=[dispatch.pk])))
    assert "Islamabad warehouse" in body
    assert f"In transit {waybill.number}" in body
    assert "Reverse this movement" not in body  # a viewer may not reverse


def test_stock_pages_are_closed_to_roles_without_stock_rights(stocked, web_as):
    client = web_as(Role.REGISTRAR)
    assert client.get(reverse("stock:onhand-list")).status_code == 403
    assert client.get(reverse("stock:post-receipt")).status_code == 403


def test_a_hub_manager_may_not_open_another_hubs_movement(stocked, web_as):
    movement = Movement.objects.get(reference="GRN-W1")  # at the warehouse
    assert (
        web_as(Role.HUB_MANAGER).get(reverse("stock:movement-detail", args=[movement.pk])).status_code == 403
    )


def test_a_distributor_reaches_the_distribution_form_from_the_navigation(stocked, web_as):
    client = web_as(Role.DISTRIBUTOR)
    home = text(client.get(reverse("web:home")))
    assert ">Post stock</a>" in home
    assert ">Stock on hand</a>" not in home
    menu = text(client.get(reverse("stock:post-menu")))
    assert "Report a distribution" in menu
    assert "Receive goods" not in menu


# --- posting forms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "stock:post-receipt",
        "stock:waybill-dispatch",
        "stock:post-distribution",
        "stock:post-handover",
        "stock:post-loss",
        "stock:post-kitting",
    ],
)
def test_forms_offer_only_the_sites_the_user_may_post_at(stocked, web_as, url):
    response = web_as(Role.HUB_MANAGER).get(reverse(url))
    assert response.status_code == 200
    body = text(response)
    hidden_key(response)
    assert "Balakot hub (BLK-HUB)" in body
    # the warehouse is offered only as a waybill's destination
    posting_sites = re.findall(r'<select name="(?:site|from_site)".*?</select>', body, re.S)
    assert posting_sites
    assert all("ISB-WH" not in select for select in posting_sites)


POSTED_AT = {
    "stock:post-receipt": "site",
    "stock:waybill-dispatch": "from_site",
    "stock:post-distribution": "site",
    "stock:post-handover": "site",
    "stock:post-loss": "site",
    "stock:post-kitting": "site",
    "stock:post-count": "site",
}


def selected(body: str, name: str) -> list[str]:
    """The values of the options drawn selected in the form's select `name`."""
    found = re.search(rf'<select name="{name}".*?</select>', body, re.S)
    assert found, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', found.group(0))


@pytest.mark.parametrize("url", list(POSTED_AT))
def test_a_form_chooses_the_site_of_a_user_who_may_post_at_that_one_only(stocked, url):
    # given a hub manager of the Balakot hub alone, and one of the hub and its point
    one_site, two_sites = Client(), Client()
    one_site.force_login(make_user(Role.HUB_MANAGER, hubs=[stocked.hub]))
    two_sites.force_login(
        make_user(Role.HUB_MANAGER, hubs=[stocked.hub], distribution_points=[stocked.point])
    )
    # when each opens the form
    field = POSTED_AT[url]
    mine = text(one_site.get(reverse(url)))
    # then the first finds their hub chosen, and the second chooses between the two
    assert selected(mine, field) == [str(stocked.hub.pk)]
    assert selected(text(two_sites.get(reverse(url))), field) in ([], [""])
    if url == "stock:waybill-dispatch":
        # and a waybill's destination is never chosen for them
        assert selected(mine, "to_site") in ([], [""])


def test_receipt_form_posts_and_redirects_to_the_movement(op, web_as):
    client = web_as(Role.HUB_MANAGER)
    op.blanket.pack_sizes.create(name="bale", quantity=10)
    key = hidden_key(client.get(reverse("stock:post-receipt")))
    # when the form is posted with one line in packs and one in units
    response = client.post(
        reverse("stock:post-receipt"),
        form_data(
            {
                "idempotency_key": key,
                "site": op.hub.pk,
                "grant": op.dfid.pk,
                "grn_number": "GRN-WEB-1",
                "received_on": "2005-10-21",
                "pledge": "",
                "note": "",
            },
            [
                {"item": op.blanket.pk, "quantity": "", "packs": 5, "pack": "bale"},
                {"item": op.bucket.pk, "quantity": 20, "packs": "", "pack": ""},
                {"item": "", "quantity": "", "packs": "", "pack": ""},
            ],
        ),
    )
    # then the receipt is posted and the page of the movement says so
    movement = Movement.objects.get(reference="GRN-WEB-1")
    assert response.status_code == 302
    assert response.url == reverse("stock:movement-detail", args=[movement.pk])
    assert messages_of(response) == [
        f"Posted receipt #{movement.pk} (GRN-WEB-1) at Balakot hub: 2 items: 50 BLANKET, 20 BUCKET."
    ]
    assert on_hand(op.hub, op.blanket) == 50
    assert_ledger_sound()


def test_a_receipt_quantity_beyond_what_a_line_moves_is_refused_by_the_form(op, web_as):
    client = web_as(Role.HUB_MANAGER)
    key = hidden_key(client.get(reverse("stock:post-receipt")))
    before = snapshot()
    response = client.post(
        reverse("stock:post-receipt"),
        form_data(
            {
                "idempotency_key": key,
                "site": op.hub.pk,
                "grant": op.dfid.pk,
                "grn_number": "GRN-WEB-BIG",
                "received_on": "2005-10-21",
                "pledge": "",
                "note": "",
            },
            [{"item": op.blanket.pk, "quantity": "99999999999999999999", "packs": "", "pack": ""}],
        ),
    )
    assert response.status_code == 422
    assert "Line 1, quantity: must be at most 1,000,000,000,000, not 99,999,999,999,999,999,999" in text(
        response
    )
    assert snapshot() == before


def test_a_double_click_posts_once(stocked, web_as):
    # given a distribution form rendered once (one hidden key)
    client = web_as(Role.DISTRIBUTOR)
    key = hidden_key(client.get(reverse("stock:post-distribution")))
    data = form_data(
        {
            "idempotency_key": key,
            "site": stocked.point.pk,
            "distributed_on": "2005-10-22",
            "reference": "D-7",
        },
        [{"item": stocked.blanket.pk, "quantity": 25, "grant": ""}],
    )
    # when it is submitted twice
    first = client.post(reverse("stock:post-distribution"), data)
    second = client.post(reverse("stock:post-distribution"), data)
    # then one distribution is posted, and the second answer says nothing changed (both on the
    # posting menu: a distributor may not see the movement's page)
    movement = Movement.objects.get(kind=MovementKind.DISTRIBUTION)
    assert first.url == second.url == reverse("stock:post-menu")
    assert messages_of(second)[-1] == f"Already posted as distribution #{movement.pk} (D-7): nothing changed."
    assert on_hand(stocked.point, stocked.blanket) == 75


def test_refusals_are_shown_beside_the_line_and_field_and_the_data_stays(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    # when a loss is posted whose second line has no quantity worth posting
    response = client.post(
        reverse("stock:post-loss"),
        form_data(
            {
                "idempotency_key": "a" * 32,
                "site": stocked.hub.pk,
                "reason": "weather",
                "occurred_on": "2005-11-02",
                "note": "roof of the rub hall torn off",
            },
            [
                {"item": stocked.blanket.pk, "quantity": 12, "grant": ""},
                {"item": stocked.bucket.pk, "quantity": 0, "grant": ""},
            ],
        ),
    )
    # then the page says nothing was posted, names line 2's quantity, and keeps what was typed
    assert response.status_code == 422
    body = text(response)
    assert "Nothing was posted." in body
    assert "Line 2, quantity: must be more than zero, not 0" in body
    assert re.search(r'name="lines-1-quantity" value="0"[^>]*>\s*<ul class="errorlist"[^>]*>', body)
    assert 'name="lines-0-quantity" value="12"' in body
    assert "roof of the rub hall torn off" in body
    assert 'value="' + "a" * 32 + '"' in body
    assert snapshot() == before


def test_an_overdraw_shows_the_ledgers_message(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    response = client.post(
        reverse("stock:waybill-dispatch"),
        form_data(
            {
                "idempotency_key": "b" * 32,
                "from_site": stocked.hub.pk,
                "to_site": stocked.warehouse.pk,
                "dispatched_on": "2005-10-22",
                "expected_on": "",
                "transport": "truck",
            },
            [{"item": stocked.bucket.pk, "quantity": 80, "grant": stocked.echo.pk}],
        ),
    )
    assert response.status_code == 400
    refusal = "Balakot hub has 50 steel buckets (grant ECHO-2005-01); this dispatch asks for 80"
    assert refusal in text(response)
    assert snapshot() == before


def test_a_hub_manager_cannot_post_at_another_hub(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    # when a hand-made form names the warehouse, which the form never offered
    response = client.post(
        reverse("stock:post-distribution"),
        form_data(
            {"idempotency_key": "c" * 32, "site": stocked.warehouse.pk, "distributed_on": "2005-10-22"},
            [{"item": stocked.blanket.pk, "quantity": 5, "grant": ""}],
        ),
    )
    # then it is refused and nothing is posted
    assert response.status_code == 422
    assert f"Distribution point: '{stocked.warehouse.pk}' is not one of the sites offered" in unescape(
        text(response)
    )
    assert snapshot() == before


def test_more_lines_adds_empty_lines_and_keeps_the_data_without_posting(stocked, web_as):
    data = form_data(
        {"idempotency_key": "d" * 32, "site": stocked.hub.pk, "reason": "theft", "occurred_on": "2005-10-22"},
        [{"item": stocked.blanket.pk, "quantity": 3, "grant": ""}],
    )
    response = web_as(Role.HUB_MANAGER).post(reverse("stock:post-loss"), {**data, "more_lines": "1"})
    assert response.status_code == 200
    body = text(response)
    assert 'name="lines-5-quantity"' in body
    assert 'name="lines-0-quantity" value="3"' in body
    assert "Nothing was posted." not in body
    assert not Movement.objects.filter(kind=MovementKind.LOSS).exists()


def test_delivery_form_is_prefilled_with_the_sent_quantities(waybill, web_as):
    client = web_as(Role.HUB_MANAGER)
    url = reverse("stock:waybill-confirm", args=[waybill.pk])
    page = client.get(url)
    body = text(page)
    assert "BLANKET · Blanket" in body
    assert re.search(r'<td class="num">120</td>', body)
    assert 'name="lines-0-received" value="120"' in body
    # when it is confirmed with 5 damaged and 3 missing
    response = client.post(
        url,
        form_data(
            {"idempotency_key": hidden_key(page), "delivered_on": "2005-10-22", "excess_reason": ""},
            [
                {
                    "item": waybill_item(waybill),
                    "received": 112,
                    "damaged": 5,
                    "damage_reason": "torn bales",
                    "short_reason": "counted short at unloading",
                }
            ],
            initial=1,
        ),
    )
    # then the delivery is posted and the waybill is delivered
    assert response.status_code == 302
    waybill.refresh_from_db()
    assert waybill.status == WaybillStatus.DELIVERED
    assert on_hand(waybill.to_site, waybill_item_obj(waybill)) == 200 + 112
    assert_ledger_sound()


def waybill_item(waybill) -> int:
    return waybill.movements.get(kind=MovementKind.DISPATCH).lines.get().item_id


def waybill_item_obj(waybill):
    return waybill.movements.get(kind=MovementKind.DISPATCH).lines.get().item


def test_a_missing_reason_is_shown_on_the_delivery_line(waybill, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    response = client.post(
        reverse("stock:waybill-confirm", args=[waybill.pk]),
        form_data(
            {"idempotency_key": "e" * 32, "delivered_on": "2005-10-22"},
            [
                {
                    "item": waybill_item(waybill),
                    "received": 117,
                    "damaged": 0,
                    "damage_reason": "",
                    "short_reason": "",
                }
            ],
            initial=1,
        ),
    )
    assert response.status_code == 422
    assert "Line 1 (BLANKET · Blanket), why short: say why 3 blankets are missing" in text(response)
    assert snapshot() == before


def test_a_delivery_line_naming_an_impossible_item_id_is_refused_by_the_form(waybill, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    response = client.post(
        reverse("stock:waybill-confirm", args=[waybill.pk]),
        form_data(
            {"idempotency_key": "e" * 32, "delivered_on": "2005-10-22"},
            [{"item": "99999999999999999999", "received": 120, "damaged": 0}],
            initial=1,
        ),
    )
    assert response.status_code == 422
    assert "must be 9223372036854775807 or less, not 99999999999999999999" in text(response)
    assert snapshot() == before


def test_confirming_twice_shows_the_conflict(waybill, web_as):
    client = web_as(Role.ADMIN)
    url = reverse("stock:waybill-confirm", args=[waybill.pk])
    line = [{"item": waybill_item(waybill), "received": 120, "damaged": 0}]
    assert (
        client.post(
            url, form_data({"idempotency_key": "f" * 32, "delivered_on": "2005-10-22"}, line, initial=1)
        ).status_code
        == 302
    )
    before = snapshot()
    again = client.post(
        url, form_data({"idempotency_key": "9" * 32, "delivered_on": "2005-10-22"}, line, initial=1)
    )
    assert again.status_code == 409
    assert f"waybill {waybill.number} was already confirmed on 22 Oct 2005" in text(again)
    assert snapshot() == before


def test_a_hub_manager_cannot_confirm_a_waybill_to_another_site(stocked, web_as):
    outgoing = waybill_dispatch(
        actor=None,
        from_site_id=stocked.hub.pk,
        to_site_id=stocked.warehouse.pk,
        lines=[StockLine(item_id=stocked.blanket.pk, quantity=5)],
        dispatched_on=DAY,
    ).waybill
    assert (
        web_as(Role.HUB_MANAGER).get(reverse("stock:waybill-confirm", args=[outgoing.pk])).status_code == 403
    )


def test_count_sheet_lists_the_sites_items_and_posts_the_differences(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    url = reverse("stock:post-count")
    # given the count sheet of the hub
    page = client.get(url, {"site": stocked.hub.pk})
    body = text(page)
    assert "Count stock at Balakot hub" in body
    assert "BLANKET · Blanket" in body
    assert "BUCKET · Steel bucket" in body
    # when 195 blankets are counted and the buckets are not counted
    response = client.post(
        url,
        form_data(
            {
                "idempotency_key": hidden_key(page),
                "site": stocked.hub.pk,
                "counted_on": "2005-11-30",
                "note": "",
            },
            [
                {"item": stocked.blanket.pk, "counted": 195, "surplus_grant": ""},
                {"item": stocked.bucket.pk, "counted": "", "surplus_grant": ""},
                {"item": "", "counted": "", "surplus_grant": ""},
            ],
            initial=2,
        ),
    )
    # then the shortage of 5 is adjusted and the buckets are left alone
    assert response.status_code == 302
    assert on_hand(stocked.hub, stocked.blanket) == 195
    assert on_hand(stocked.hub, stocked.bucket) == 50
    assert Movement.objects.get(kind=MovementKind.COUNT).lines.count() == 1


def test_count_sheet_listing_an_item_twice_is_refused_beside_the_line(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    url = reverse("stock:post-count")
    page = client.get(url, {"site": stocked.hub.pk})
    # when blankets are counted on their line and again on an added line
    response = client.post(
        url,
        form_data(
            {
                "idempotency_key": hidden_key(page),
                "site": stocked.hub.pk,
                "counted_on": "2005-11-30",
                "note": "",
            },
            [
                {"item": stocked.blanket.pk, "counted": 195, "surplus_grant": ""},
                {"item": stocked.bucket.pk, "counted": "", "surplus_grant": ""},
                {"item": stocked.blanket.pk, "counted": 500, "surplus_grant": ""},
            ],
            initial=2,
        ),
    )
    # then nothing is posted and the added line says why
    assert response.status_code == 422
    assert "Blanket is listed twice" in text(response)
    assert not Movement.objects.filter(kind=MovementKind.COUNT).exists()
    assert on_hand(stocked.hub, stocked.blanket) == 200


def test_count_sheet_of_another_hub_is_refused(stocked, web_as):
    assert (
        web_as(Role.HUB_MANAGER).get(reverse("stock:post-count"), {"site": stocked.warehouse.pk}).status_code
        == 403
    )


def test_kitting_form_assembles_kits_of_the_grant_s_own_components(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)

    def assemble(key: str):
        fields = {"site": stocked.hub.pk, "action": "assemble", "kit": stocked.kit_item.pk, "quantity": 5}
        data = {**fields, "idempotency_key": key, "grant": stocked.dfid.pk, "on": "2005-10-23"}
        return client.post(reverse("stock:post-kitting"), form_data(data))

    # given the hub's blankets of DFID and its buckets of ECHO only
    before = snapshot()
    # when kits charged to DFID are assembled, then they are refused, naming what DFID lacks, as
    # ECHO's buckets would make kits for DFID (and ECHO's report would lose them)
    refused = assemble("1" * 32)
    assert refused.status_code == 400
    assert (
        "Balakot hub has too few components of grant DFID-2005-07 for assembling 5 winterization kits "
        "charged to it: steel buckets: 0 of 5" in refused.content.decode()
    )
    assert snapshot() == before
    # when DFID's own buckets arrive, then its kits are made of them, and ECHO's stay
    receive(stocked, stocked.hub, stocked.bucket, 5, stocked.dfid, "GRN-H3")
    response = assemble("2" * 32)
    assert response.status_code == 302
    assert on_hand(stocked.hub, stocked.kit_item, stocked.dfid) == 5
    assert on_hand(stocked.hub, stocked.blanket) == 185
    assert on_hand(stocked.hub, stocked.bucket, stocked.dfid) == 0
    assert on_hand(stocked.hub, stocked.bucket, stocked.echo) == 50


def test_handover_form_hands_stock_to_a_partner(stocked, web_as):
    response = web_as(Role.HUB_MANAGER).post(
        reverse("stock:post-handover"),
        form_data(
            {
                "idempotency_key": "2" * 32,
                "site": stocked.hub.pk,
                "organisation": stocked.partner.pk,
                "handed_on": "2005-10-23",
                "reference": "HO-1",
            },
            [{"item": stocked.blanket.pk, "quantity": 60, "grant": ""}],
        ),
    )
    assert response.status_code == 302
    assert "Posted hand-over to partner" in messages_of(response)[0]
    assert on_hand(stocked.hub, stocked.blanket) == 140


def test_reversal_from_the_movement_page_and_a_second_one_is_refused(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    movement = Movement.objects.get(reference="GRN-H2")
    page = client.get(reverse("stock:movement-detail", args=[movement.pk]))
    assert "Reverse this movement" in text(page)
    url = reverse("stock:movement-reverse", args=[movement.pk])
    # when it is reversed
    first = client.post(
        url, {"idempotency_key": hidden_key(page), "reason": "wrong grant", "reversed_on": "2005-10-21"}
    )
    # then the buckets are gone and the page of the reversal says so
    reversal = Movement.objects.get(kind=MovementKind.REVERSAL)
    assert first.url == reverse("stock:movement-detail", args=[reversal.pk])
    assert on_hand(stocked.hub, stocked.bucket) == 0
    assert "Reversed by" in text(client.get(reverse("stock:movement-detail", args=[movement.pk])))
    # when someone reverses it again from a page opened earlier
    before = snapshot()
    again = client.post(url, {"idempotency_key": "3" * 32, "reason": "again", "reversed_on": "2005-10-21"})
    assert again.status_code == 409
    assert f"movement #{movement.pk} was already reversed by reversal #{reversal.pk} (21 Oct 2005)" in text(
        again
    )
    assert snapshot() == before


# --- printables ----------------------------------------------------------------------------------------


def test_printable_waybill_lists_its_lines_and_signature_boxes(waybill, web_as):
    waybill_item_obj(waybill).pack_sizes.create(name="bale", quantity=10)
    response = web_as(Role.VIEWER).get(reverse("stock:waybill-print", args=[waybill.pk]))
    assert response.status_code == 200
    body = text(response)
    assert 'href="/static/stock/print.css"' in body
    assert "@page { size: A4" in Path(str(finders.find("stock/print.css"))).read_text(encoding="utf-8")
    assert f"<strong>{waybill.number}</strong>" in body
    assert re.search(
        r"BLANKET</span> Blanket</td>\s*<td class=\"code\">DFID-2005-07</td>\s*<td class=\"num\">120</td>",
        body,
    )
    assert "12 bales" in body
    for box in ("Dispatched by", "Driver / pilot", "Received by"):
        assert f"<h3>{box}</h3>" in body
    assert "Gul Khan" in body
    assert 'class="site-header"' not in body  # a document, not a page of the site


def test_goods_received_note_of_a_delivery(waybill, web_as):
    client = web_as(Role.ADMIN)
    client.post(
        reverse("stock:waybill-confirm", args=[waybill.pk]),
        form_data(
            {"idempotency_key": "4" * 32, "delivered_on": "2005-10-22"},
            [
                {
                    "item": waybill_item(waybill),
                    "received": 118,
                    "damaged": 2,
                    "damage_reason": "wet",
                    "short_reason": "",
                }
            ],
            initial=1,
        ),
    )
    delivery = Movement.objects.get(kind=MovementKind.DELIVERY)
    body = text(client.get(reverse("stock:movement-grn", args=[delivery.pk])))
    assert "Goods received note" in body
    assert re.search(r"DFID-2005-07</td>\s*<td class=\"num\">118</td>", body)
    assert re.search(r"<td class=\"num\">2</td><td>wet</td>", body)
    assert "Received by (storekeeper)" in body


def test_goods_received_note_of_a_receipt_and_none_for_a_distribution(stocked, web_as):
    client = web_as(Role.VIEWER)
    receipt = Movement.objects.get(reference="GRN-W1")
    body = text(client.get(reverse("stock:movement-grn", args=[receipt.pk])))
    assert "GRN-W1" in body
    assert "Donor pipeline DFID-2005-07" in body
    assert re.search(r"<td class=\"num\">500</td>", body)
    dispatch = waybill_dispatch(
        actor=None,
        from_site_id=stocked.hub.pk,
        to_site_id=stocked.point.pk,
        lines=[StockLine(item_id=stocked.blanket.pk, quantity=5)],
        dispatched_on=DAY,
    ).movement
    assert client.get(reverse("stock:movement-grn", args=[dispatch.pk])).status_code == 404


# --- no N+1 ------------------------------------------------------------------------------------------------


def _more(op, n):
    for i in range(n):
        receive(op, op.hub, op.cgi, 5 + i, op.echo, f"GRN-N-{n}-{i}")
        waybill_dispatch(
            actor=None,
            from_site_id=op.hub.pk,
            to_site_id=op.point.pk,
            lines=[StockLine(item_id=op.cgi.pk, quantity=1), StockLine(item_id=op.bucket.pk, quantity=1)],
            dispatched_on=DAY,
        )


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(reverse_lazy_name, id=reverse_lazy_name)
        for reverse_lazy_name in (
            "stock:onhand-list",
            "stock:waybill-list",
            "stock:movement-list",
            "stock:pipeline",
        )
    ],
)
def test_list_pages_read_in_as_many_queries_whatever_their_length(stocked, web_as, url):
    client = web_as(Role.HUB_MANAGER)
    _more(stocked, 1)
    client.get(reverse(url))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(url)).status_code == 200
    _more(stocked, 6)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse(url)).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert Waybill.objects.count() == 7


# --- admin ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model", ["stocklocation", "movement", "movementline", "balance", "waybill", "pledge"]
)
def test_admin_shows_stock_records_read_only(waybill, web_as, model):
    client = web_as(Role.ADMIN)
    changelist = client.get(reverse(f"admin:stock_{model}_changelist"))
    assert changelist.status_code == 200
    assert client.get(reverse(f"admin:stock_{model}_add")).status_code == 403
    assert f'href="{reverse(f"admin:stock_{model}_add")}"' not in text(changelist)


def test_an_overdraw_is_shown_on_the_quantity_of_its_line(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    # when a waybill asks the hub for far more blankets than it holds, beside a line it can send
    response = client.post(
        reverse("stock:waybill-dispatch"),
        form_data(
            {
                "idempotency_key": "e" * 32,
                "from_site": stocked.hub.pk,
                "to_site": stocked.warehouse.pk,
                "dispatched_on": "2005-10-22",
                "expected_on": "",
                "transport": "truck",
            },
            [
                {"item": stocked.bucket.pk, "quantity": 5, "grant": ""},
                {"item": stocked.blanket.pk, "quantity": 999999999, "grant": ""},
            ],
        ),
    )
    # then the refusal stands under line 2's quantity, which keeps what was typed, and not as the
    # form's own error; the summary at the top names the line
    assert response.status_code == 400
    form = response.context["form"]
    assert form.non_field_errors() == []
    assert form.lines.forms[0].errors == {}
    [refusal] = form.lines.forms[1].errors["quantity"]
    assert refusal.startswith("Balakot hub has ")
    assert refusal.endswith("; this dispatch asks for 999,999,999")
    body = text(response)
    assert re.search(r'name="lines-1-quantity" value="999999999"[^>]*>\s*<ul class="errorlist"', body)
    assert f"Line 2, quantity: {refusal}" in body
    assert snapshot() == before


def test_an_overdraw_with_a_grant_is_shown_on_its_line_and_other_refusals_at_the_top(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    fields = {
        "idempotency_key": "f" * 32,
        "from_site": stocked.hub.pk,
        "to_site": stocked.warehouse.pk,
        "dispatched_on": "2005-10-22",
        "expected_on": "",
        "transport": "truck",
    }
    lines = [{"item": stocked.bucket.pk, "quantity": 80, "grant": stocked.echo.pk}]
    form = client.post(reverse("stock:waybill-dispatch"), form_data(fields, lines)).context["form"]
    assert form.lines.forms[0].errors["quantity"] == [
        "Balakot hub has 50 steel buckets (grant ECHO-2005-01); this dispatch asks for 80"
    ]
    # a refusal that names no line's item stays at the top of the form
    from reliefops.stock import views
    from reliefops.stock.services.ledger import BalanceRefused

    unmatched = "Balakot hub has 50 tarpaulins; this dispatch asks for 80"
    views._show_refusal(form, BalanceRefused(unmatched, item_id=stocked.blanket.pk + 1000, asked=80))
    assert form.non_field_errors() == [unmatched]


def test_an_overdraw_of_an_item_whose_name_reads_like_a_refusal_is_shown_on_its_line(stocked, web_as):
    # given an item named with a semicolon and brackets, as catalogues write them
    sheeting = ItemFactory(code="SHEETING", name="Sheeting; plastic (grant-funded, 4 x 5 m)")
    receive(stocked, stocked.hub, sheeting, 50, stocked.echo, "GRN-H9")
    fields = {
        "idempotency_key": "e" * 32,
        "from_site": stocked.hub.pk,
        "to_site": stocked.warehouse.pk,
        "dispatched_on": "2005-10-22",
        "expected_on": "",
        "transport": "truck",
    }
    lines = [
        {"item": stocked.blanket.pk, "quantity": 10, "grant": ""},
        {"item": sheeting.pk, "quantity": 80, "grant": stocked.echo.pk},
    ]
    form = (
        web_as(Role.HUB_MANAGER)
        .post(reverse("stock:waybill-dispatch"), form_data(fields, lines))
        .context["form"]
    )
    # then the refusal stands beside the sheeting's line, found by the item itself, not by its name
    assert form.lines.forms[1].errors["quantity"][0].endswith("; this dispatch asks for 80")
    assert not form.lines.forms[0].errors
    assert form.non_field_errors() == []


def test_the_confirm_page_writes_dates_as_the_other_pages_do(waybill, web_as):
    # the conflict of a second confirmation and the page's introduction say "22 Oct 2005"
    client = web_as(Role.ADMIN)
    url = reverse("stock:waybill-confirm", args=[waybill.pk])
    intro = text(client.get(url))
    day = waybill.dispatched_on
    assert f"dispatched on {day.day} {day:%b %Y}." in intro
    line = [{"item": waybill_item(waybill), "received": 120, "damaged": 0}]
    data = {"delivered_on": "2005-10-22"}
    client.post(url, form_data({"idempotency_key": "7" * 32, **data}, line, initial=1))
    again = text(client.post(url, form_data({"idempotency_key": "8" * 32, **data}, line, initial=1)))
    assert "was already confirmed on 22 Oct 2005" in again
    assert "2005-10-22" not in again.split('name="delivered_on"')[0]


def test_the_printable_documents_name_the_sites_icon(waybill, web_as):
    # a page without its icon makes the browser ask for /favicon.ico, which answers 404
    client = web_as(Role.ADMIN)
    icon = '<link rel="icon" href="/static/web/favicon.svg" type="image/svg+xml">'
    assert icon in text(client.get(reverse("stock:waybill-print", args=[waybill.pk])))
    receipt = Movement.objects.filter(kind=MovementKind.RECEIPT).first()
    assert icon in text(client.get(reverse("stock:movement-grn", args=[receipt.pk])))
    assert icon in text(client.get(reverse("web:home")))


def test_the_confirm_page_of_a_delivered_waybill_says_so_and_offers_no_form(waybill, web_as):
    # given a waybill whose delivery a hub manager confirmed on 22 Oct 2005
    client = web_as(Role.ADMIN)
    url = reverse("stock:waybill-confirm", args=[waybill.pk])
    line = [{"item": waybill_item(waybill), "received": 120, "damaged": 0}]
    assert 'class="post-form"' in text(client.get(url))
    client.post(url, form_data({"idempotency_key": "6" * 32, "delivered_on": "2005-10-22"}, line, initial=1))
    delivery = Movement.objects.get(kind=MovementKind.DELIVERY)
    # when its confirm page is opened again (an old link, a second tab)
    page = text(client.get(url))
    # then it says when and by whom it was delivered, links the delivery, and has no form to send
    who = delivery.posted_by.username
    assert f"This waybill was delivered: its delivery was confirmed on 22 Oct 2005 by {who}." in page
    assert reverse("stock:movement-detail", args=[delivery.pk]) in page
    assert 'class="post-form"' not in page
    assert "Confirm the delivery</button>" not in page
    assert "say how many arrived" not in page


def test_a_count_form_that_finds_the_stock_held_posts_nothing_and_says_so(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    url = reverse("stock:post-count")
    page = client.get(url, {"site": stocked.hub.pk})
    before = snapshot()
    # when the count finds what the hub holds
    response = client.post(
        url,
        form_data(
            {
                "idempotency_key": hidden_key(page),
                "site": stocked.hub.pk,
                "counted_on": "2005-11-30",
                "note": "",
            },
            [
                {"item": stocked.blanket.pk, "counted": 200, "surplus_grant": ""},
                {"item": stocked.bucket.pk, "counted": 50, "surplus_grant": ""},
            ],
            initial=2,
        ),
    )
    # then nothing is posted, and the page says so (not a server error)
    assert response.status_code == 302
    assert messages_of(response) == ["The count matches the stock held: nothing to post."]
    assert not Movement.objects.filter(kind=MovementKind.COUNT).exists()
    assert snapshot() == before
