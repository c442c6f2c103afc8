"""Every problem of a refused posting is listed together, whichever entry point sends it.

The forms list what the API lists for the same request; a delivery's missing reasons come with its
other problems; the command line numbers a confirmation's problems by the delivery's lines; a name
the entry point could not find hides none of the ledger's other problems. A conflict with the
ledger's state (a waybill already confirmed, a GRN taken) is answered first (409), and a repeated
idempotency key replays the first posting whatever the request says.
"""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from reliefops.core.roles import Role
from reliefops.core.text import day_text
from reliefops.stock.models import Movement, Pledge, Waybill
from reliefops.stock.services import StockLine, pledge_create, waybill_dispatch
from tests.stock.conftest import DAY, snapshot
from tests.stock.entrypoints.test_cli import refused
from tests.stock.entrypoints.test_every_problem import problem
from tests.stock.entrypoints.test_views import form_data, text


@pytest.fixture
def mixed_waybill(stocked):
    """10 blankets and 5 buckets from the hub to the warehouse, in transit since DAY."""
    op = stocked
    return waybill_dispatch(
        actor=op.actor,
        from_site_id=op.hub.pk,
        to_site_id=op.warehouse.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=10), StockLine(item_id=op.bucket.pk, quantity=5)],
        dispatched_on=DAY,
    ).waybill


# --- web forms: the same problems as the API -----------------------------------------------------


def test_the_dispatch_form_shows_the_ledgers_problems_beside_a_quantity_out_of_range(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    # when line 1's quantity is zero, the expected day is before the dispatch and the number typed
    # is of the form reliefops gives waybills itself
    response = client.post(
        reverse("stock:waybill-dispatch"),
        form_data(
            {
                "idempotency_key": "d" * 32,
                "from_site": stocked.hub.pk,
                "to_site": stocked.warehouse.pk,
                "dispatched_on": "2005-10-25",
                "expected_on": "2005-10-24",
                "transport": "truck",
                "number": "WB-0000042",
            },
            [{"item": stocked.blanket.pk, "quantity": 0, "grant": ""}],
        ),
    )
    # then all three are shown, as the API lists them, and nothing was written
    assert response.status_code == 422
    body = text(response)
    assert "Line 1, quantity: must be more than zero, not 0" in body
    assert "Expected on: 24 Oct 2005 is before the day of dispatch (25 Oct 2005)" in body
    assert "Waybill number: WB-0000042 is of the form reliefops gives waybills itself" in body
    assert snapshot() == before


def test_the_delivery_form_shows_a_negative_damaged_count_beside_an_early_arrival(waybill, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    response = client.post(
        reverse("stock:waybill-confirm", args=[waybill.pk]),
        form_data(
            {"idempotency_key": "e" * 32, "delivered_on": "2005-10-01", "excess_reason": ""},
            [
                {
                    "item": waybill.movements.get().lines.get().item_id,
                    "received": 120,
                    "damaged": -2,
                    "damage_reason": "",
                    "short_reason": "",
                }
            ],
            initial=1,
        ),
    )
    assert response.status_code == 422
    body = text(response)
    assert f"Arrived on: 1 Oct 2005 is before waybill {waybill.number} was dispatched (20 Oct 2005)" in body
    assert "Line 1 (BLANKET · Blanket), damaged: must be a whole number of zero or more, not -2" in body
    assert snapshot() == before


def test_a_form_line_naming_an_item_no_longer_offered_hides_no_other_problem(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    response = client.post(
        reverse("stock:waybill-dispatch"),
        form_data(
            {
                "idempotency_key": "a" * 32,
                "from_site": stocked.hub.pk,
                "to_site": stocked.warehouse.pk,
                "dispatched_on": "2005-10-25",
                "expected_on": "2005-10-24",
                "transport": "truck",
                "number": "",
            },
            [
                {"item": stocked.blanket.pk, "quantity": 0, "grant": ""},
                {"item": 999_999, "quantity": 5, "grant": ""},
            ],
        ),
    )
    assert response.status_code == 422
    body = text(response)
    assert "Line 1, quantity: must be more than zero, not 0" in body
    assert "Line 2, item: '999999' is not one of the items offered; pick one from the list" in unescape(body)
    assert "Expected on: 24 Oct 2005 is before the day of dispatch (25 Oct 2005)" in body
    assert snapshot() == before


# --- a delivery's missing reasons come with its other problems --------------------------------------


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        pytest.param(
            {
                "delivered_on": "2005-10-22",
                "lines": [{"item": "BLANKET", "received": 5}, {"item": "BUCKET", "received": -1}],
            },
            [
                problem(None, "lines.0.short_reason", "say why 5 blankets are missing"),
                problem(None, "lines.1.received", "must be a whole number of zero or more, not -1"),
            ],
            id="short-and-negative",
        ),
        pytest.param(
            {
                "delivered_on": "2005-10-01",
                "lines": [{"item": "BLANKET", "received": 5}, {"item": "BUCKET", "received": 5}],
            },
            [
                problem(
                    None,
                    "delivered_on",
                    "1 Oct 2005 is before waybill WB-0000001 was dispatched (20 Oct 2005)",
                ),
                problem(None, "lines.0.short_reason", "say why 5 blankets are missing"),
            ],
            id="early-and-short",
        ),
        pytest.param(
            {
                "delivered_on": "2005-10-22",
                "lines": [
                    {"item": "BLANKET", "received": 12},
                    {"item": "BUCKET", "received": 5},
                    {"item": "NOPE", "received": 1},
                ],
            },
            [
                problem(
                    None,
                    "lines.0.received",
                    "12 blankets confirmed but 10 were sent; give a reason to accept the excess",
                ),
                problem(None, "lines.2.item", "unknown item 'NOPE'"),
            ],
            id="excess-and-unknown",
        ),
        pytest.param(
            {"delivered_on": "2005-10-22", "lines": [{"item": "NOPE", "received": 1}]},
            [
                problem(None, "lines", "Blanket of waybill WB-0000001 is not confirmed"),
                problem(None, "lines", "Steel bucket of waybill WB-0000001 is not confirmed"),
                problem(None, "lines.0.item", "unknown item 'NOPE'"),
            ],
            id="one-unknown-line-for-two-missing-items",
        ),
    ],
)
def test_a_refused_delivery_lists_its_missing_reasons_with_its_other_problems(
    mixed_waybill, admin_api, body, problems
):
    before = snapshot()
    response = admin_api.post(f"/waybills/{mixed_waybill.pk}/delivery", body)
    assert response.status_code == 422, response.content
    expected = [{**p, "reason": p["reason"].replace("WB-0000001", mixed_waybill.number)} for p in problems]
    assert response.json()["problems"] == expected
    assert snapshot() == before


# --- the command line numbers a confirmation's problems by the delivery's lines --------------------


@pytest.mark.parametrize(
    ("options", "problems"),
    [
        pytest.param(
            ["--received", "CGI-SHEET=3", "--received", "NOPE=1", "--received", "NOPE2=1"],
            [
                "line 3, item: CGI sheet is not on waybill {number}",
                "line 4, item: unknown item 'NOPE'",
                "line 5, item: unknown item 'NOPE2'",
            ],
            id="unknown-items-and-an-item-not-sent",
        ),
        pytest.param(
            ["--received", "BUCKET=-1", "--received", "BLANKET=abc"],
            [
                "line 1, received: not a whole number: 'abc'",
                "line 2, received: must be a whole number of zero or more, not -1",
            ],
            id="two-bad-counts",
        ),
    ],
)
def test_a_refused_confirmation_prints_each_problem_on_its_delivery_line(
    mixed_waybill, admin, options, problems
):
    before = snapshot()
    message, err = refused("confirm", mixed_waybill.number, "--as", admin, *options)
    assert message == f"{len(problems)} problems; nothing was written"
    assert err.splitlines() == [p.format(number=mixed_waybill.number) for p in problems]
    assert snapshot() == before


# --- an unknown name hides none of the ledger's other problems -------------------------------------


def test_an_inactive_item_counted_twice_is_unknown_not_listed_twice(stocked, manager_api):
    stocked.cgi.is_active = False
    stocked.cgi.save()
    response = manager_api.post(
        "/counts",
        {
            "site": "BLK-HUB",
            "lines": [{"item": stocked.cgi.pk, "counted": 1}, {"item": stocked.cgi.pk, "counted": 2}],
        },
    )
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        problem(None, "lines.0.item", f"unknown item {stocked.cgi.pk}"),
        problem(None, "lines.1.item", f"unknown item {stocked.cgi.pk}"),
    ]


def test_a_receipt_lists_a_pledge_bound_elsewhere_with_a_zero_quantity(stocked, admin_api):
    pledge = pledge_create(
        actor=stocked.actor,
        grant_id=stocked.dfid.pk,
        item_id=stocked.blanket.pk,
        quantity=100,
        destination_site_id=stocked.warehouse.pk,
        expected_on=DAY,
    )
    before = snapshot()
    response = admin_api.post(
        "/receipts",
        {
            "site": "BLK-HUB",
            "grant": "DFID-2005-07",
            "grn_number": "GRN-HUB-9",
            "pledge": pledge.pk,
            "lines": [{"item": "BLANKET", "quantity": 0}],
        },
    )
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        problem(None, "pledge", f"pledge {pledge.pk} is not bound for Balakot hub"),
        problem(None, "lines.0.quantity", "must be more than zero, not 0"),
    ]
    assert snapshot() == before


@pytest.mark.parametrize("path", ["/kits/assemble", "/kits/break"])
def test_too_many_kits_are_listed_with_an_unknown_grant(stocked, manager_api, path):
    response = manager_api.post(
        path, {"site": "BLK-HUB", "kit": "WINTER-KIT", "quantity": 400_000_000_000, "grant": "NOPE-2005"}
    )
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        problem(None, "grant", "unknown grant 'NOPE-2005'"),
        problem(
            None,
            "quantity",
            "400,000,000,000 kits hold 1,200,000,000,000 blankets; a line moves at most 1,000,000,000,000",
        ),
    ]


def test_an_unknown_partner_is_the_hand_over_services_own_problem_too(stocked):
    from reliefops.core.errors import InvalidInput
    from reliefops.stock.services import stock_handover_to_partner

    with pytest.raises(InvalidInput) as caught:
        stock_handover_to_partner(
            actor=stocked.actor,
            site_id=stocked.hub.pk,
            organisation_id=999_999,
            lines=[StockLine(item_id=stocked.blanket.pk, quantity=0)],
            handed_on=DAY,
        )
    assert [str(p) for p in caught.value.problems] == [
        "organisation: no organisation 999999",
        "line 1, quantity: must be more than zero, not 0",
    ]


# --- a conflict is answered first; a repeated key replays ------------------------------------------


def test_reconfirming_a_delivered_waybill_is_a_conflict_whatever_else_is_wrong(waybill, admin_api):
    confirmed = admin_api.post(
        f"/waybills/{waybill.pk}/delivery",
        {"delivered_on": "2005-10-22", "lines": [{"item": "BLANKET", "received": 120}]},
    )
    assert confirmed.status_code == 201, confirmed.content
    response = admin_api.post(
        f"/waybills/{waybill.pk}/delivery",
        {
            "delivered_on": "2005-10-22",
            "lines": [{"item": "BLANKET", "received": 120}, {"item": "NOPE", "received": 1}],
        },
    )
    assert response.status_code == 409, response.content
    assert response.json()["detail"] == f"waybill {waybill.number} was already confirmed on 22 Oct 2005"


def test_a_taken_grn_is_a_conflict_whatever_else_is_wrong(stocked, manager_api):
    before = snapshot()
    response = manager_api.post(
        "/receipts",
        {
            "site": "BLK-HUB",
            "grant": "DFID-2005-07",
            "grn_number": "GRN-H1",
            "lines": [{"item": "BLANKET", "quantity": 0}],
        },
    )
    assert response.status_code == 409, response.content
    receipt = Movement.objects.get(reference="GRN-H1")
    posted_on = day_text(timezone.localdate(receipt.posted_at))
    assert response.json()["detail"] == f"GRN GRN-H1 was posted as receipt #{receipt.pk} on {posted_on}"
    assert snapshot() == before


def test_a_taken_waybill_number_is_a_conflict_whatever_else_is_wrong(stocked, manager_api):
    body = {
        "from_site": "BLK-HUB",
        "to_site": "ISB-WH",
        "number": "TRK-7",
        "lines": [{"item": "BLANKET", "quantity": 1}],
    }
    assert manager_api.post("/waybills", body).status_code == 201
    response = manager_api.post("/waybills", {**body, "lines": [{"item": "BLANKET", "quantity": 0}]})
    assert response.status_code == 409, response.content
    assert response.json()["detail"] == (
        "waybill TRK-7 exists already (dispatched "
        f"{day_text(Waybill.objects.get().dispatched_on)} from Balakot hub to Islamabad warehouse) "
        "with other items or details; give this consignment a number of its own"
    )


PLEDGE = {
    "grant": "DFID-2005-07",
    "item": "BLANKET",
    "quantity": 40,
    "destination": "BLK-HUB",
    "expected_on": "2005-11-01",
}


@pytest.mark.parametrize(
    ("path", "first", "again"),
    [
        pytest.param("/pledges", PLEDGE, {**PLEDGE, "item": "NOPE", "quantity": 0}, id="pledge"),
        pytest.param(
            "/losses",
            {
                "site": "BLK-HUB",
                "note": "found torn",
                "reason": "theft",
                "lines": [{"item": "BLANKET", "quantity": 1}],
            },
            {
                "site": "BLK-HUB",
                "note": "found torn",
                "reason": "theft",
                "lines": [{"item": "NOPE", "quantity": 0}],
            },
            id="loss",
        ),
        pytest.param(
            "/handovers",
            {"site": "BLK-HUB", "organisation": "ARMY", "lines": [{"item": "BLANKET", "quantity": 1}]},
            {"site": "BLK-HUB", "organisation": "NOBODY", "lines": [{"item": "NOPE", "quantity": 1}]},
            id="handover",
        ),
    ],
)
def test_a_repeated_key_replays_the_first_posting_whatever_the_request_says(
    stocked, manager_api, path, first, again
):
    assert manager_api.post(path, first, key="k-1").status_code == 201
    before = snapshot(), Pledge.objects.count()
    response = manager_api.post(path, again, key="k-1")
    # then it answers with the first posting (a pledge has no `replayed` field: its 200 says so)
    assert response.status_code == 200, response.content
    assert response.json().get("replayed", True) is True
    assert (snapshot(), Pledge.objects.count()) == before


@pytest.mark.parametrize(
    ("path", "first", "again"),
    [
        pytest.param(
            "/receipts",
            {
                "site": "BLK-HUB",
                "grant": "DFID-2005-07",
                "grn_number": "GRN-NIGHT-1",
                "lines": [{"item": "BLANKET", "quantity": 100}],
            },
            {
                "site": "BLK-HUB",
                "grant": "DFID-2005-07",
                "grn_number": "GRN-NIGHT-1",
                "lines": [{"item": "BLANKET", "quantity": 999}],
            },
            id="receipt-another-quantity",
        ),
        pytest.param(
            "/losses",
            {
                "site": "BLK-HUB",
                "note": "torn",
                "reason": "theft",
                "lines": [{"item": "BLANKET", "quantity": 1}],
            },
            {
                "site": "BLK-HUB",
                "note": "torn",
                "reason": "theft",
                "lines": [{"item": "BUCKET", "quantity": 1}],
            },
            id="loss-another-item",
        ),
    ],
)
def test_a_repeated_key_with_other_items_or_quantities_is_refused_not_taken_for_the_first(
    stocked, manager_api, path, first, again
):
    # given a posting made with a key (a nightly script's)
    posted = manager_api.post(path, first, key="night-1")
    assert posted.status_code == 201, posted.content
    before = snapshot()
    # when the same key comes with other quantities or items (a key reused by mistake)
    response = manager_api.post(path, again, key="night-1")
    # then it is refused, naming the first posting, and nothing is posted: the client learns that
    # what it sent now was not written
    assert response.status_code == 409, response.content
    movement = posted.json()["movement"]["id"]
    kind = Movement.objects.get(pk=movement).get_kind_display().lower()
    assert response.json()["detail"] == (
        f"this idempotency key was used for {kind} #{movement}, of another site or other items or "
        "quantities; send a new key for each posting"
    )
    assert snapshot() == before
    # while the same request again is the repeat it was
    assert manager_api.post(path, first, key="night-1").status_code == 200
