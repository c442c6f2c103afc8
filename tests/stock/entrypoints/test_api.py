"""The stock API: every posting and report, its refusals (which change nothing), idempotency, queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reliefops.core.roles import Role
from reliefops.core.text import day_text
from reliefops.stock.models import Movement, MovementKind, Pledge, Waybill, WaybillStatus
from reliefops.stock.services import StockLine, pledge_create, stock_distribute, waybill_dispatch
from tests.stock.conftest import DAY, assert_ledger_sound, on_hand, receive, snapshot

LATER = "2005-10-25"


def lines(*pairs):
    return [{"item": item, "quantity": quantity} for item, quantity in pairs]


# --- postings ----------------------------------------------------------------------------------------


def test_codes_are_read_in_any_case_as_the_web_pages_read_them(op, manager_api):
    # when a hub manager names the site and the items in small letters, as typed on a phone
    response = manager_api.post(
        "/receipts",
        {
            "site": "blk-hub",
            "grant": "DFID-2005-07",
            "grn_number": "GRN-BLK-0002",
            "received_on": LATER,
            "lines": [{"item": "blanket", "quantity": 10}, {"item": " Bucket ", "quantity": 5}],
        },
    )
    # then they are the hub and the items of those codes
    assert response.status_code == 201, response.content
    assert response.json()["message"].endswith("at Balakot hub: 2 items: 10 BLANKET, 5 BUCKET.")
    # while a grant's reference is read as it is written (references keep their own case)
    refused = manager_api.post(
        "/receipts",
        {
            "site": "BLK-HUB",
            "grant": "dfid-2005-07",
            "grn_number": "GRN-BLK-0003",
            "received_on": LATER,
            "lines": [{"item": "BLANKET", "quantity": 1}],
        },
    )
    assert refused.status_code == 422
    assert "unknown grant 'dfid-2005-07'" in refused.content.decode()


def test_a_loss_without_its_note_is_refused_as_its_published_schema_says(op, manager_api):
    # the schema the API publishes names the note required, and the reasons a loss may have
    schemas = Client().get("/api/openapi.json").json()["components"]["schemas"]
    schema = schemas["LossIn"]
    assert "note" in schema["required"]
    # with the largest quantity a line may carry, which the server refuses beyond
    assert schemas["StockLineIn"]["properties"]["quantity"]["maximum"] == 10**12
    assert schema["properties"]["reason"]["enum"] == ["theft", "weather", "spoilage", "damage", "other"]
    # and a loss sent without a note is refused naming it, with nothing written off
    response = manager_api.post(
        "/losses", {"site": "BLK-HUB", "reason": "theft", "lines": lines(("BUCKET", 1))}
    )
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["problems"]] == ["note"]


def test_receipt_by_codes_answers_201_with_the_movement(op, manager_api):
    # given a bale of 10 blankets
    op.blanket.pack_sizes.create(name="bale", quantity=10)
    # when a hub manager receives 12 bales and 30 buckets at the hub, naming all by code
    response = manager_api.post(
        "/receipts",
        {
            "site": "BLK-HUB",
            "grant": "DFID-2005-07",
            "grn_number": "GRN-BLK-0001",
            "received_on": LATER,
            "lines": [{"item": "BLANKET", "packs": 12, "pack": "bale"}, {"item": "BUCKET", "quantity": 30}],
        },
    )
    # then it is posted: 201, the movement with its lines in base units, and the stock is there
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["replayed"] is False
    assert (
        body["message"] == f"Posted receipt #{body['movement']['id']} (GRN-BLK-0001) at Balakot hub: "
        "2 items: 120 BLANKET, 30 BUCKET."
    )
    movement = body["movement"]
    assert movement["kind"] == "receipt"
    assert movement["reference"] == "GRN-BLK-0001"
    assert movement["occurred_on"] == LATER
    assert movement["site"]["code"] == "BLK-HUB"
    assert movement["posted_by"] == manager_api.user.username
    assert [
        (line["item_code"], line["quantity"], line["packs"], line["grant"]) for line in movement["lines"]
    ] == [
        ("BLANKET", 120, "12 bales", "DFID-2005-07"),
        ("BUCKET", 30, "", "DFID-2005-07"),
    ]
    assert on_hand(op.hub, op.blanket) == 120
    assert_ledger_sound()


def test_sites_and_items_may_be_named_by_id(op, manager_api):
    response = manager_api.post(
        "/receipts",
        {"site": op.hub.pk, "grant": op.dfid.pk, "grn_number": "GRN-ID", "lines": lines((op.blanket.pk, 7))},
    )
    assert response.status_code == 201, response.content
    assert on_hand(op.hub, op.blanket) == 7


def test_pledge_is_pipeline_not_stock(op, manager_api):
    response = manager_api.post(
        "/pledges",
        {
            "grant": "ECHO-2005-01",
            "item": "BLANKET",
            "quantity": 5000,
            "destination": "BLK-HUB",
            "expected_on": LATER,
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["grant"] == "ECHO-2005-01"
    assert response.json()["status"] == "open"
    assert Pledge.objects.get().quantity == 5000
    assert on_hand(op.hub, op.blanket) == 0
    assert manager_api.get("/pipeline").json()["pledges"][0]["quantity"] == 5000


def test_a_hub_manager_cannot_receive_the_pledge_of_another_site(op, manager_api):
    # given a pledge bound for the warehouse, outside the Balakot hub manager's sites
    pledge = pledge_create(
        actor=None,
        grant_id=op.dfid.pk,
        item_id=op.blanket.pk,
        quantity=100,
        destination_site_id=op.warehouse.pk,
        expected_on=DAY,
    )
    before = snapshot()
    # when the hub manager receives blankets at the hub against it
    response = manager_api.post(
        "/receipts",
        {
            "site": "BLK-HUB",
            "grant": "DFID-2005-07",
            "grn_number": "GRN-BLK-P",
            "pledge": pledge.pk,
            "lines": lines(("BLANKET", 100)),
        },
    )
    # then it is refused as a pledge that does not exist (the hub manager may not see the warehouse's
    # pledges), and the pledge is still open
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        {"row": None, "field": "pledge", "reason": f"no pledge {pledge.pk}"}
    ]
    assert snapshot() == before
    pledge.refresh_from_db()
    assert (pledge.status, pledge.received_quantity) == ("open", 0)


def test_an_unknown_pledge_is_a_problem_of_the_field_pledge(stocked, manager_api):
    before = snapshot()
    response = manager_api.post(
        "/receipts",
        {
            "site": "BLK-HUB",
            "grant": "DFID-2005-07",
            "grn_number": "GRN-NP",
            "pledge": 999999,
            "lines": lines(("BLANKET", 5)),
        },
    )
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [{"row": None, "field": "pledge", "reason": "no pledge 999999"}]
    assert snapshot() == before


def test_dispatch_creates_a_waybill_in_transit(stocked, manager_api):
    # when the hub sends 50 blankets and 10 buckets to the warehouse (outside the manager's scope)
    response = manager_api.post(
        "/waybills",
        {
            "from_site": "BLK-HUB",
            "to_site": "ISB-WH",
            "lines": lines(("BLANKET", 50), ("BUCKET", 10)),
            "dispatched_on": LATER,
            "transport": "helicopter",
            "vehicle": "MI-17 sortie 12",
            "driver": "Maj. Aslam",
        },
    )
    # then the waybill is in transit with both lines, and the stock has left the hub
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["waybill"]["status"] == "in_transit"
    assert body["waybill"]["transport"] == "helicopter"
    assert body["waybill"]["expected_on"] == LATER
    assert body["message"].startswith(f"Waybill {body['waybill']['number']} dispatched from Balakot hub")
    assert {(line["item_code"], line["quantity"]) for line in body["waybill"]["lines"]} == {
        ("BLANKET", 50),
        ("BUCKET", 10),
    }
    assert body["movement"]["kind"] == "dispatch"
    assert on_hand(stocked.hub, stocked.blanket) == 150
    assert_ledger_sound()


def test_delivery_with_shortage_and_damage(waybill, op, admin_api):
    # when the hub confirms 110 good and 4 damaged of the 120 blankets sent
    response = admin_api.post(
        f"/waybills/{waybill.pk}/delivery",
        {
            "delivered_on": LATER,
            "lines": [
                {
                    "item": "BLANKET",
                    "received": 110,
                    "damaged": 4,
                    "damage_reason": "wet",
                    "short_reason": "6 stolen on the road",
                }
            ],
        },
    )
    # then 110 enter the hub and 10 go to loss/damage with their reasons; the waybill is delivered
    assert response.status_code == 201, response.content
    posted = response.json()["movement"]["lines"]
    assert sorted((line["to_location"], line["quantity"], line["reason"]) for line in posted) == [
        ("Balakot hub", 110, ""),
        ("Loss / damage", 4, "wet"),
        ("Loss / damage", 6, "6 stolen on the road"),
    ]
    assert on_hand(op.hub, op.blanket) == 200 + 110
    waybill.refresh_from_db()
    assert waybill.status == WaybillStatus.DELIVERED
    assert_ledger_sound()


def test_distribution_handover_loss_count_and_kitting(stocked, manager_api):
    op = stocked
    # given buckets of DFID at the hub too, beside ECHO's, so that DFID's kits are of its own components
    receive(op, op.hub, op.bucket, 12, op.dfid, "GRN-H3")
    # when the point distributes, the hub hands over, loses, counts and assembles kits
    posted = [
        manager_api.post(
            "/distributions", {"site": "DP-1", "lines": lines(("BLANKET", 30)), "reference": "D-1"}
        ),
        manager_api.post(
            "/handovers", {"site": "BLK-HUB", "organisation": "ARMY", "lines": lines(("BLANKET", 20))}
        ),
        manager_api.post(
            "/losses",
            {"site": "BLK-HUB", "note": "found torn", "reason": "weather", "lines": lines(("BUCKET", 2))},
        ),
        manager_api.post(
            "/counts",
            {
                "site": "BLK-HUB",
                "lines": [{"item": "BUCKET", "counted": 62, "surplus_grant": "ECHO-2005-01"}],
            },
        ),
        manager_api.post(
            "/kits/assemble",
            {"site": "BLK-HUB", "kit": "WINTER-KIT", "quantity": 10, "grant": "DFID-2005-07"},
        ),
        manager_api.post("/kits/break", {"site": "BLK-HUB", "kit": "WINTER-KIT", "quantity": 4}),
    ]
    # then each is posted as its kind of movement
    assert [r.status_code for r in posted] == [201] * 6, [r.content for r in posted]
    assert [r.json()["movement"]["kind"] for r in posted] == [
        "distribution",
        "handover",
        "loss",
        "count",
        "kitting",
        "kitting",
    ]
    assert on_hand(op.point, op.blanket) == 70
    # 200 - 20 handed over - 30 into 10 kits + 12 back from 4 kits
    assert on_hand(op.hub, op.blanket) == 162
    # 62 - 2 lost (DFID's, the oldest) + 2 found in the count - 10 (DFID's) into kits + 4 back
    assert on_hand(op.hub, op.bucket) == 56
    assert on_hand(op.hub, op.bucket, op.echo) == 52
    assert on_hand(op.hub, op.kit_item) == 6
    assert_ledger_sound()


def test_reversal_posts_the_opposite_and_a_second_is_409(stocked, manager_api):
    movement = Movement.objects.get(reference="GRN-H1")
    # when the receipt is reversed
    first = manager_api.post(f"/movements/{movement.pk}/reversal", {"reason": "entered at the wrong hub"})
    # then the hub no longer holds it, and the reversal names the original
    assert first.status_code == 201, first.content
    assert first.json()["movement"]["reverses"] == movement.pk
    assert on_hand(stocked.hub, stocked.blanket) == 0
    # when it is reversed again
    before = snapshot()
    second = manager_api.post(f"/movements/{movement.pk}/reversal", {"reason": "again"})
    # then it is refused and nothing changes
    assert second.status_code == 409
    reversal = first.json()["movement"]
    assert second.json()["detail"] == (
        f"movement #{movement.pk} was already reversed by reversal #{reversal['id']} "
        f"({day_text(dt.date.fromisoformat(reversal['occurred_on']))})"
    )
    assert snapshot() == before


# --- idempotency -------------------------------------------------------------------------------------


def _receipt(op, waybill):
    return "/receipts", {
        "site": "BLK-HUB",
        "grant": "DFID-2005-07",
        "grn_number": "GRN-K",
        "lines": lines(("BLANKET", 5)),
    }


def _dispatch(op, waybill):
    return "/waybills", {"from_site": "BLK-HUB", "to_site": "DP-1", "lines": lines(("BLANKET", 5))}


def _delivery(op, waybill):
    return f"/waybills/{waybill.pk}/delivery", {"lines": [{"item": "BLANKET", "received": 120}]}


def _distribution(op, waybill):
    return "/distributions", {"site": "DP-1", "lines": lines(("BLANKET", 5))}


def _count(op, waybill):
    return "/counts", {"site": "BLK-HUB", "lines": [{"item": "BLANKET", "counted": 150}]}


def _assemble(op, waybill):
    receive(op, op.hub, op.bucket, 2, op.dfid, "GRN-H3")  # DFID's own buckets, for its kits
    return "/kits/assemble", {"site": "BLK-HUB", "kit": "WINTER-KIT", "quantity": 2, "grant": "DFID-2005-07"}


def _reversal(op, waybill):
    return f"/movements/{Movement.objects.get(reference='GRN-H1').pk}/reversal", {"reason": "wrong grant"}


@pytest.mark.parametrize(
    "request_of",
    [
        pytest.param(_receipt, id="receipt"),
        pytest.param(_dispatch, id="dispatch"),
        pytest.param(_delivery, id="delivery"),
        pytest.param(_distribution, id="distribution"),
        pytest.param(_count, id="count"),
        pytest.param(_assemble, id="kit-assembly"),
        pytest.param(_reversal, id="reversal"),
    ],
)
def test_a_repeated_idempotency_key_posts_once_and_says_replayed(waybill, stocked, admin_api, request_of):
    path, body = request_of(stocked, waybill)
    # given a posting made with a key
    first = admin_api.post(path, body, key="0b6f0c4e-retry")
    assert first.status_code == 201, first.content
    after_first = snapshot()
    # when the client sends it again with the same key (a retry after a lost answer)
    again = admin_api.post(path, body, key="0b6f0c4e-retry")
    # then nothing is posted again and the answer is the first movement, marked as replayed
    assert again.status_code == 200, again.content
    assert again.json()["replayed"] is True
    assert again.json()["movement"]["id"] == first.json()["movement"]["id"]
    assert "nothing changed" in again.json()["message"]
    assert snapshot() == after_first


def test_the_same_key_from_another_user_is_a_new_posting(stocked, api_as):
    # given two hub managers who happen to send the same key
    body = {"site": "BLK-HUB", "grant": "DFID-2005-07", "lines": lines(("BLANKET", 5))}
    first = api_as(Role.HUB_MANAGER).post("/receipts", {**body, "grn_number": "G-A"}, key="same")
    second = api_as(Role.HUB_MANAGER).post("/receipts", {**body, "grn_number": "G-B"}, key="same")
    # then both are posted
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["movement"]["id"] != second.json()["movement"]["id"]


def test_an_overlong_key_is_refused(op, manager_api):
    response = manager_api.post("/counts", {"site": "BLK-HUB", "lines": []}, key="k" * 81)
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"row": None, "field": "Idempotency-Key", "reason": "at most 80 characters"}
    ]


# --- refusals change nothing and say why ---------------------------------------------------------------


def test_unknown_names_are_422_with_every_problem(stocked, manager_api):
    before = snapshot()
    # when a receipt names an unknown site, grant and item (on its second line)
    response = manager_api.post(
        "/receipts",
        {
            "site": "BLK-HUBB",
            "grant": "DFID-2099",
            "grn_number": "GRN-X",
            "lines": lines(("BLANKET", 5), ("BLANKETS", 5)),
        },
    )
    # then every unknown name is a problem named by its place in the body, and nothing was written
    assert response.status_code == 422
    assert response.json() == {
        "detail": "3 problems; nothing was written",
        "problems": [
            {"row": None, "field": "site", "reason": "unknown site 'BLK-HUBB'"},
            {"row": None, "field": "grant", "reason": "unknown grant 'DFID-2099'"},
            {"row": None, "field": "lines.1.item", "reason": "unknown item 'BLANKETS'"},
        ],
    }
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        pytest.param(
            "/distributions",
            {"site": "DP-1", "lines": lines(("BLANKET", 5), ("BUCKET", 0))},
            {"row": None, "field": "lines.1.quantity", "reason": "must be more than zero, not 0"},
            id="zero-quantity",
        ),
        pytest.param(
            "/losses",
            {"site": "BLK-HUB", "note": "found torn", "reason": "weather", "lines": lines(("BLANKET", -3))},
            {"row": None, "field": "lines.0.quantity", "reason": "must be more than zero, not -3"},
            id="negative-quantity",
        ),
        pytest.param(
            "/losses",
            {"site": "BLK-HUB", "note": "found torn", "reason": "rats", "lines": lines(("BLANKET", 3))},
            {
                "row": None,
                "field": "reason",
                "reason": "must be one of theft, weather, spoilage, damage, other",
            },
            id="unknown-loss-reason",
        ),
        pytest.param(
            "/receipts",
            {"site": "BLK-HUB", "grant": "DFID-2005-07", "grn_number": " ", "lines": lines(("BLANKET", 3))},
            {"row": None, "field": "grn_number", "reason": "a goods received note number is required"},
            id="no-grn-number",
        ),
        pytest.param(
            "/receipts",
            {
                "site": "BLK-HUB",
                "grant": "DFID-2005-07",
                "grn_number": "G-P",
                "lines": [{"item": "BLANKET", "packs": 2, "pack": "crate"}],
            },
            {
                "row": None,
                "field": "lines.0.pack",
                "reason": "unknown pack 'crate' for this item (known: none)",
            },
            id="unknown-pack",
        ),
        pytest.param(
            "/waybills",
            {"from_site": "BLK-HUB", "to_site": "BLK-HUB", "lines": lines(("BLANKET", 3))},
            {"row": None, "field": "to_site", "reason": "a waybill goes to another site"},
            id="waybill-to-itself",
        ),
        pytest.param(
            "/counts",
            {
                "site": "BLK-HUB",
                "lines": [{"item": "BLANKET", "counted": 1000}, {"item": "BLANKET", "counted": 500}],
            },
            {"row": None, "field": "lines.1.item", "reason": "Blanket is listed twice"},
            id="count-listing-an-item-twice",
        ),
    ],
)
def test_refused_postings_are_422_with_line_field_and_reason(stocked, manager_api, path, body, problem):
    before = snapshot()
    response = manager_api.post(path, body)
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [problem]
    assert snapshot() == before


def test_overdraw_is_400_with_the_ledgers_message(stocked, manager_api):
    before = snapshot()
    # when the hub dispatches more DFID blankets than it holds
    response = manager_api.post(
        "/waybills",
        {
            "from_site": "BLK-HUB",
            "to_site": "DP-1",
            "lines": [{"item": "BLANKET", "quantity": 250, "grant": "DFID-2005-07"}],
        },
    )
    # then the ledger's message names the place, item, grant and both quantities, and is the problem
    # of the line's quantity; nothing changed
    refusal = "Balakot hub has 200 blankets (grant DFID-2005-07); this dispatch asks for 250"
    assert response.status_code == 400
    assert response.json() == {
        "detail": refusal,
        "problems": [{"row": None, "field": "lines.0.quantity", "reason": refusal}],
    }
    assert snapshot() == before


def test_confirming_a_waybill_twice_is_409(waybill, admin_api):
    body = {"lines": [{"item": "BLANKET", "received": 120}]}
    assert admin_api.post(f"/waybills/{waybill.pk}/delivery", body).status_code == 201
    before = snapshot()
    # when it is confirmed again (another click, another key)
    again = admin_api.post(f"/waybills/{waybill.pk}/delivery", body, key="another")
    # then it is refused
    assert again.status_code == 409
    assert again.json()["detail"].startswith(f"waybill {waybill.number} was already confirmed on ")
    assert snapshot() == before


def test_a_hub_manager_cannot_post_at_another_hub(stocked, manager_api):
    before = snapshot()
    response = manager_api.post("/distributions", {"site": "ISB-WH", "lines": lines(("BLANKET", 5))})
    assert response.status_code == 403
    assert response.json()["detail"] == "you may not distribute at Islamabad warehouse"
    assert snapshot() == before


def test_a_hub_manager_cannot_confirm_a_waybill_to_another_site(stocked, manager_api):
    outgoing = waybill_dispatch(
        actor=None,
        from_site_id=stocked.hub.pk,
        to_site_id=stocked.warehouse.pk,
        lines=[StockLine(item_id=stocked.blanket.pk, quantity=5)],
        dispatched_on=DAY,
    ).waybill
    response = manager_api.post(
        f"/waybills/{outgoing.pk}/delivery", {"lines": [{"item": "BLANKET", "received": 5}]}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "you may not post stock at Islamabad warehouse"


def test_a_malformed_quantity_is_422_naming_the_field(stocked, manager_api):
    response = manager_api.post(
        "/distributions", {"site": "DP-1", "lines": [{"item": "BLANKET", "quantity": "five"}]}
    )
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["problems"]] == ["lines.0.quantity"]


# --- reports -------------------------------------------------------------------------------------------


def test_on_hand_by_site_item_and_grant(stocked, admin_api):
    # when
    by_item = admin_api.get("/on-hand", {"site": "BLK-HUB"}).json()
    by_grant = admin_api.get("/on-hand", {"item": "BLANKET", "by_grant": "true"}).json()
    # then
    assert [(r["item_code"], r["quantity"], r["grant"]) for r in by_item["items"]] == [
        ("BLANKET", 200, None),
        ("BUCKET", 50, None),
    ]
    assert [(r["site_name"], r["grant"], r["quantity"]) for r in by_grant["items"]] == [
        ("Balakot hub", "DFID-2005-07", 200),
        ("Garhi Habibullah point", "ECHO-2005-01", 100),
        ("Islamabad warehouse", "DFID-2005-07", 500),
    ]


def test_a_hub_manager_sees_only_the_stock_of_their_sites(stocked, manager_api):
    body = manager_api.get("/on-hand").json()
    assert {row["site_name"] for row in body["items"]} == {"Balakot hub", "Garhi Habibullah point"}
    assert manager_api.get("/on-hand", {"site": "ISB-WH"}).status_code == 403


def test_on_hand_with_an_unknown_site_is_422(stocked, admin_api):
    response = admin_api.get("/on-hand", {"site": "NOWHERE"})
    assert response.status_code == 422
    assert response.json()["problems"] == [{"row": None, "field": "site", "reason": "unknown site 'NOWHERE'"}]


def test_stock_card_opening_movements_and_closing(stocked, admin_api):
    op = stocked
    stock_distribute(
        actor=None,
        site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=40)],
        distributed_on=dt.date(2005, 11, 2),
    )
    # when the card of November is asked for
    body = admin_api.get(
        "/sites/BLK-HUB/items/BLANKET/card", {"start": "2005-11-01", "end": "2005-11-30"}
    ).json()
    # then the October receipt is the opening balance and the distribution the one line
    assert (body["opening"], body["total_in"], body["total_out"], body["closing"]) == (200, 0, 40, 160)
    assert [(line["kind"], line["quantity_out"], line["balance"]) for line in body["lines"]] == [
        ("distribution", 40, 160)
    ]
    assert body["site"]["code"] == "BLK-HUB"


def test_pipeline_lists_overdue_waybills_with_days_overdue(waybill, manager_api):
    body = manager_api.get("/pipeline").json()
    expected_days = (timezone.localdate() - waybill.expected_on).days
    assert [w["number"] for w in body["in_transit"]] == [waybill.number]
    assert body["overdue"] == [
        {"waybill": body["in_transit"][0], "days_overdue": expected_days},
    ]
    assert body["in_transit"][0]["days_overdue"] == expected_days


def test_donor_report_adds_up_the_grant(waybill, admin_api):
    body = admin_api.get("/grants/DFID-2005-07/report").json()
    assert body["grant"]["reference"] == "DFID-2005-07"
    assert body["rows"] == [
        {
            "item_code": "BLANKET",
            "item_name": "Blanket",
            "received": 700,
            "distributed": 0,
            "handed_to_partners": 0,
            "lost": 0,
            "in_transit": 120,
            "on_hand": 580,
            "other": 0,
        }
    ]


def test_distributed_totals_use_the_published_keys(op, admin_api):
    assert admin_api.get("/distributed").json() == {
        "iom_distributed": {
            "tents": 0,
            "shelter_kits": 0,
            "winterization_kits": 0,
            "blankets": 0,
            "quilts": 0,
            "cgi_sheets": 0,
            "tarpaulins": 0,
        }
    }


def test_distributed_totals_of_a_hub_manager_count_only_their_sites(stocked, manager_api, admin_api):
    # given the hub handed over 40 blankets to households and the warehouse, not one of the hub
    # manager's sites, 300
    op = stocked
    for site, quantity in ((op.hub, 40), (op.warehouse, 300)):
        stock_distribute(
            actor=None,
            site_id=site.pk,
            lines=[StockLine(item_id=op.blanket.pk, quantity=quantity)],
            distributed_on=DAY,
        )
    # then the hub manager is told of the hub's 40 and the whole operation of all 340
    assert manager_api.get("/distributed").json()["iom_distributed"]["blankets"] == 40
    assert admin_api.get("/distributed").json()["iom_distributed"]["blankets"] == 340


def test_waybill_list_filters_and_detail_lines(waybill, admin_api):
    assert admin_api.get("/waybills", {"status": "in_transit"}).json()["count"] == 1
    assert admin_api.get("/waybills", {"status": "delivered"}).json()["count"] == 0
    listed = admin_api.get("/waybills", {"overdue": "true", "site": "BLK-HUB"}).json()["items"]
    assert [(w["number"], w["n_items"], w["total_quantity"]) for w in listed] == [(waybill.number, 1, None)]
    assert [(i["item_code"], i["quantity"]) for i in listed[0]["items"]] == [("BLANKET", 120)]
    of_blankets = admin_api.get("/waybills", {"item": "BLANKET"}).json()["items"]
    assert [(w["item_quantity"], w["total_quantity"]) for w in of_blankets] == [(120, 120)]
    detail = admin_api.get(f"/waybills/{waybill.pk}").json()
    assert [(line["item_code"], line["grant"], line["quantity"]) for line in detail["lines"]] == [
        ("BLANKET", "DFID-2005-07", 120)
    ]
    assert [m["kind"] for m in detail["movements"]] == ["dispatch"]


def test_movement_list_filters_and_detail(stocked, admin_api):
    receipts = admin_api.get("/movements", {"kind": "receipt", "site": "BLK-HUB"}).json()
    assert [m["reference"] for m in receipts["items"]] == ["GRN-H2", "GRN-H1"]
    detail = admin_api.get(f"/movements/{receipts['items'][1]['id']}").json()
    assert [(line["from_location"], line["to_location"], line["quantity"]) for line in detail["lines"]] == [
        ("Donor pipeline DFID-2005-07", "Balakot hub", 200)
    ]


def test_a_posting_of_two_items_never_adds_them_into_one_figure_and_the_list_gives_one_items_quantity(
    op, manager_api, admin_api
):
    # given a receipt of 500 blankets and 200 buckets
    posted = manager_api.post(
        "/receipts",
        {
            "site": "BLK-HUB",
            "grant": "DFID-2005-07",
            "grn_number": "GRN-MIX",
            "lines": [{"item": "BLANKET", "quantity": 500}, {"item": "BUCKET", "quantity": 200}],
        },
    )
    # then its message gives each item's quantity, not "700 units"
    assert posted.status_code == 201, posted.content
    assert posted.json()["message"].endswith(": 2 items: 500 BLANKET, 200 BUCKET.")
    assert "700" not in posted.json()["message"]
    # and the list adds nothing across items: no figure without an item, that item's with one
    (listed,) = admin_api.get("/movements", {"site": "BLK-HUB"}).json()["items"]
    assert (listed["n_lines"], listed["item_quantity"], listed["total_quantity"]) == (2, None, None)
    (listed,) = admin_api.get("/movements", {"site": "BLK-HUB", "item": "BUCKET"}).json()["items"]
    assert (listed["item_quantity"], listed["total_quantity"]) == (200, 200)
    assert admin_api.get("/movements", {"item": "CGI-SHEET"}).json()["count"] == 0
    unknown = admin_api.get("/movements", {"item": "NOPE"})
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0]["field"] == "item"


def test_a_movement_list_whose_period_starts_after_it_ends_is_refused_as_the_stock_card_is(
    stocked, admin_api
):
    period = {"start": "2005-12-01", "end": "2005-11-01"}
    listed = admin_api.get("/movements", period)
    card = admin_api.get("/sites/BLK-HUB/items/BLANKET/card", period)
    assert (listed.status_code, card.status_code) == (422, 422), listed.content
    assert listed.json()["problems"] == card.json()["problems"]


def test_a_key_reused_for_another_posting_is_refused_without_its_stored_scope(stocked, manager_api):
    posted = manager_api.post(
        "/receipts",
        {"site": "BLK-HUB", "grant": "DFID-2005-07", "grn_number": "GRN-K", "lines": lines(("BLANKET", 5))},
        key="conc-1",
    )
    assert posted.status_code == 201, posted.content
    reused = manager_api.post(
        "/distributions", {"site": "BLK-HUB", "lines": lines(("BLANKET", 1))}, key="conc-1"
    )
    assert reused.status_code == 409, reused.content
    assert reused.json()["detail"] == (
        "this idempotency key was used for a receipt; send a new key for each posting"
    )


# --- no N+1 -------------------------------------------------------------------------------------------


def _more_stock(op, n):
    for i in range(n):
        receive(op, op.hub, op.cgi, 10 + i, op.echo, f"GRN-MORE-{n}-{i}")
        waybill_dispatch(
            actor=None,
            from_site_id=op.hub.pk,
            to_site_id=op.point.pk,
            lines=[StockLine(item_id=op.cgi.pk, quantity=1), StockLine(item_id=op.blanket.pk, quantity=1)],
            dispatched_on=DAY,
        )


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/on-hand?by_grant=true", id="on-hand"),
        pytest.param("/waybills", id="waybills"),
        pytest.param("/movements", id="movements"),
        pytest.param("/pipeline", id="pipeline"),
    ],
)
def test_lists_read_in_as_many_queries_whatever_their_length(stocked, manager_api, path):
    # given a first page read with few rows
    _more_stock(stocked, 1)
    manager_api.get(path)
    with CaptureQueriesContext(connection) as few:
        assert manager_api.get(path).status_code == 200
    # when there are many more rows
    _more_stock(stocked, 6)
    with CaptureQueriesContext(connection) as many:
        response = manager_api.get(path)
    # then the page takes the same number of queries
    assert response.status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert Waybill.objects.count() == 7
    assert Movement.objects.filter(kind=MovementKind.DISPATCH).count() == 7
