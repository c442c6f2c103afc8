"""What a walk-through of the stock ledger found wrong, checked where a user meets it: the web form,
`reliefops stock …` and the API each once (the services' own tests cover every case)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.core.text import day_text
from reliefops.stock.models import Movement, MovementKind, Pledge, PledgeStatus
from reliefops.stock.services import StockLine, pledge_create, stock_distribute
from tests.stock.conftest import DAY, assert_ledger_sound, on_hand, receive, snapshot
from tests.stock.entrypoints.test_cli import refused, stock
from tests.stock.entrypoints.test_views import form_data, hidden_key, text

NEXT_DAY = DAY + dt.timedelta(days=1)


def _posted_on(movement: Movement) -> str:
    return day_text(timezone.localdate(movement.posted_at))


# --- 1. one GRN, however it is written --------------------------------------------------------------


def test_a_grn_written_another_way_is_refused_by_the_web_the_api_and_the_cli(
    op, web_as, manager_api, manager
):
    first = receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-ISB-9010").movement
    said = f"GRN GRN-ISB-9010 was posted as receipt #{first.pk} on {_posted_on(first)}"
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    # the web form, in lower case with spaces for dashes
    fields = {"site": op.hub.pk, "grant": op.dfid.pk, "received_on": "2005-10-21", "pledge": "", "note": ""}
    line = [{"item": op.blanket.pk, "quantity": 5, "packs": "", "pack": ""}]
    key = hidden_key(client.get(reverse("stock:post-receipt")))
    page = client.post(
        reverse("stock:post-receipt"),
        form_data({**fields, "idempotency_key": key, "grn_number": "grn isb 9010"}, line),
    )
    assert page.status_code == 409
    assert f"{said} (grn isb 9010 is its number written another way)" in text(page)
    # the API, in mixed case with slashes
    body = {"site": "BLK-HUB", "grant": "DFID-2005-07", "lines": [{"item": "BLANKET", "quantity": 5}]}
    response = manager_api.post("/receipts", {**body, "grn_number": "Grn/Isb/9010"})
    assert response.status_code == 409
    assert response.json()["detail"] == f"{said} (Grn/Isb/9010 is its number written another way)"
    # the command line, with spaces around it
    message, _ = refused(
        "receive", "--as", manager, "--site", "BLK-HUB", "--grant", "DFID-2005-07",
        "--grn", " GRN-ISB-9010 ", "--line", "BLANKET=5",
    )  # fmt: skip
    assert message == said
    assert snapshot() == before


# --- 2, 8, 7. a count compared with the day it was made, and its message -------------------------------


@pytest.fixture
def counted_hub(op):
    """The hub held 691 blankets at the end of DAY, and 781 the next day, after a receipt of 90."""
    receive(op, op.hub, op.blanket, 691, op.dfid, "GRN-1")
    receive(op, op.hub, op.blanket, 90, op.dfid, "GRN-2", on=NEXT_DAY)
    return op


def test_a_count_dated_the_day_before_is_compared_with_what_was_held_that_day(counted_hub, manager):
    op = counted_hub
    count = ["count", "--as", manager, "--site", "BLK-HUB", "--on", DAY.isoformat()]
    # when the day's true count (691) is posted, then it matches: nothing is posted
    out, _ = stock(*count, "--line", "BLANKET=691")
    assert out == "The count matches the stock held: nothing to post.\n"
    assert not Movement.objects.filter(kind=MovementKind.COUNT).exists()
    # when 781 are counted that day, then 90 are over, and the hub holds 871 now
    out, _ = stock(*count, "--line", "BLANKET=781")
    movement = Movement.objects.get(kind=MovementKind.COUNT)
    assert out == f"Posted physical count #{movement.pk} at Balakot hub: BLANKET 90 over.\n"
    assert on_hand(op.hub, op.blanket) == 871
    assert_ledger_sound()


def test_a_count_whose_shortage_would_leave_a_later_day_below_zero_is_refused_naming_that_day(op, manager):
    # given 100 blankets on DAY, 80 of them handed out the next day
    receive(op, op.point, op.blanket, 100, op.dfid, "GRN-1")
    stock_distribute(
        actor=op.actor,
        site_id=op.point.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=80)],
        distributed_on=NEXT_DAY,
    )
    before = snapshot()
    # when a count of DAY finds 50: the 50 short would leave -30 after the next day's distribution
    message, err = refused(
        "count", "--as", manager, "--site", "DP-1", "--on", DAY.isoformat(), "--line", "BLANKET=50"
    )
    # then it is refused, naming the day and what the point held then
    assert "Garhi Habibullah point held 20 blankets on 21 Oct 2005; this count, dated 20 Oct 2005, " in err
    assert "takes 50 of the shortage it found (50 counted of 100 held that day)" in err
    assert message.startswith("Garhi Habibullah point held 20 blankets on 21 Oct 2005")
    assert snapshot() == before


def test_a_count_says_what_is_short_and_what_over_and_one_that_matches_posts_nothing(stocked, manager_api):
    # given the hub's 200 blankets (DFID) and 50 buckets (ECHO)
    body = {"site": "BLK-HUB", "counted_on": DAY.isoformat()}
    # when the API posts a count finding 189 blankets and 92 buckets
    response = manager_api.post(
        "/counts", {**body, "lines": [{"item": "BLANKET", "counted": 189}, {"item": "BUCKET", "counted": 92}]}
    )
    # then it says which is short and which over
    assert response.status_code == 201, response.content
    movement = response.json()["movement"]
    assert response.json()["message"] == (
        f"Posted physical count #{movement['id']} at Balakot hub: BLANKET 11 short, BUCKET 42 over."
    )
    # when the same stock is counted again, then nothing is posted, and the answer says so
    before = snapshot()
    again = manager_api.post(
        "/counts", {**body, "lines": [{"item": "BLANKET", "counted": 189}, {"item": "BUCKET", "counted": 92}]}
    )
    assert again.status_code == 200, again.content
    assert again.json() == {
        "replayed": False,
        "message": "The count matches the stock held: nothing to post.",
        "movement": None,
    }
    assert snapshot() == before


# --- 3. a reversal dated before what it reverses -------------------------------------------------------


def test_a_reversal_dated_before_the_movement_it_reverses_is_refused_by_the_cli(stocked, manager):
    handed = stock_distribute(
        actor=stocked.actor,
        site_id=stocked.hub.pk,
        lines=[StockLine(item_id=stocked.blanket.pk, quantity=5)],
        distributed_on=NEXT_DAY,
    ).movement
    before = snapshot()
    _, err = refused(
        "reverse", str(handed.pk), "--as", manager, "--reason", "posted twice", "--on", DAY.isoformat()
    )
    assert "reversed_on: a reversal cannot be dated before the movement it reverses (21 Oct 2005)" in err
    assert snapshot() == before


# --- 4. a receipt or pledge before its grant began -----------------------------------------------------


def test_a_receipt_or_a_pledge_before_its_grant_began_is_refused_by_the_api(op, manager_api):
    op.dfid.start = dt.date(2005, 10, 12)
    op.dfid.save()
    before = snapshot()
    receipt = manager_api.post(
        "/receipts",
        {
            "site": "BLK-HUB",
            "grant": "DFID-2005-07",
            "grn_number": "GRN-1999",
            "received_on": "1999-01-01",
            "lines": [{"item": "BLANKET", "quantity": 5}],
        },
    )
    assert receipt.status_code == 422, receipt.content
    assert receipt.json()["problems"] == [
        {
            "row": None,
            "field": "received_on",
            "reason": "1 Jan 1999 is before grant DFID-2005-07 began (12 Oct 2005): check the day, or the "
            "grant the goods belong to",
        }
    ]
    pledge = {"grant": "DFID-2005-07", "item": "BLANKET", "quantity": 1000, "destination": "BLK-HUB"}
    for day, reason in (
        ("1990-01-01", "1 Jan 1990 is before grant DFID-2005-07 began (12 Oct 2005)"),
        ("1989-12-31", "31 Dec 1989 is before 1 Jan 1990; check the year"),
    ):
        response = manager_api.post("/pledges", {**pledge, "expected_on": day})
        assert response.status_code == 422, response.content
        assert response.json()["problems"] == [{"row": None, "field": "expected_on", "reason": reason}]
    assert snapshot() == before


# --- 5. kits of a grant, of its own components ---------------------------------------------------------


def test_kits_charged_to_a_grant_without_its_own_components_are_refused_by_the_api(stocked, manager_api):
    before = snapshot()
    response = manager_api.post(
        "/kits/assemble", {"site": "BLK-HUB", "kit": "WINTER-KIT", "quantity": 2, "grant": "DFID-2005-07"}
    )
    assert response.status_code == 400, response.content
    assert response.json()["problems"] == [
        {
            "row": None,
            "field": "quantity",
            "reason": "Balakot hub has too few components of grant DFID-2005-07 for assembling 2 "
            "winterization kits charged to it: steel buckets: 0 of 2 (kits of a grant are made of its own "
            "components)",
        }
    ]
    assert snapshot() == before


# --- 6. pledges: more than pledged, cancelled, one reference of a grant --------------------------------


def _pledge(op, quantity=1000, reference="DFID-PL-77", site=None):
    return pledge_create(
        actor=op.actor,
        grant_id=op.dfid.pk,
        item_id=op.blanket.pk,
        quantity=quantity,
        destination_site_id=(site or op.hub).pk,
        expected_on=DAY,
        reference=reference,
    )


def test_a_receipt_beyond_its_pledge_says_how_many_more_than_pledged(op, manager_api):
    pledge = _pledge(op)
    body = {"site": "BLK-HUB", "grant": "DFID-2005-07", "pledge": pledge.pk}
    first = manager_api.post(
        "/receipts", {**body, "grn_number": "G-1", "lines": [{"item": "BLANKET", "quantity": 600}]}
    )
    assert first.json()["message"].endswith(f"Pledge {pledge.pk}: 600 of 1,000 received; 400 still to come.")
    second = manager_api.post(
        "/receipts", {**body, "grn_number": "G-2", "lines": [{"item": "BLANKET", "quantity": 500}]}
    )
    assert second.status_code == 201, second.content
    assert second.json()["message"].endswith(
        f"Pledge {pledge.pk} is received: 1,100 of 1,000 received, 100 more than pledged."
    )
    pledge.refresh_from_db()
    assert (pledge.status, pledge.received_quantity, pledge.more_than_pledged) == (
        PledgeStatus.RECEIVED,
        1100,
        100,
    )


def test_the_same_donor_reference_of_a_grant_twice_is_refused_without_a_key(op, manager_api):
    first = _pledge(op)
    before = snapshot()
    body = {"grant": "DFID-2005-07", "item": "BLANKET", "quantity": 1000, "destination": "BLK-HUB"}
    response = manager_api.post("/pledges", {**body, "expected_on": "2005-10-25", "reference": "dfid-pl-77"})
    assert response.status_code == 409, response.content
    assert response.json()["detail"] == f"pledge {first.pk} already has the reference DFID-PL-77"
    assert snapshot() == before


def test_an_open_pledge_is_cancelled_by_the_api_and_the_cli_with_its_reason(op, manager_api, manager):
    # given a pledge partly received, and another not at all
    partly = _pledge(op)
    receive_against = {"site": "BLK-HUB", "grant": "DFID-2005-07", "pledge": partly.pk, "grn_number": "G-1"}
    manager_api.post("/receipts", {**receive_against, "lines": [{"item": "BLANKET", "quantity": 600}]})
    untouched = _pledge(op, quantity=50, reference="DFID-PL-78")
    # when the API cancels the first: the rest will not come
    response = manager_api.post(
        f"/pledges/{partly.pk}/cancellation", {"reason": "the donor's ship was diverted"}
    )
    # then it is cancelled, with what was received kept, and it leaves the pipeline
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "the donor's ship was diverted"
    assert response.json()["message"] == (
        f"Pledge {partly.pk} (DFID-PL-77) cancelled: 600 of 1,000 blankets received; "
        "the other 400 will not come."
    )
    assert [p["id"] for p in manager_api.get("/pipeline").json()["pledges"]] == [untouched.pk]
    event = AuditEvent.objects.get(action="stock.pledge_cancel", object_id=str(partly.pk))
    assert event.after["reason"] == "the donor's ship was diverted"
    # when sent again, then nothing changes
    again = manager_api.post(
        f"/pledges/{partly.pk}/cancellation", {"reason": "the donor's ship was diverted"}
    )
    assert (again.status_code, again.json()["replayed"]) == (200, True)
    # and a receipt against it is refused
    late = manager_api.post(
        "/receipts", {**receive_against, "grn_number": "G-2", "lines": [{"item": "BLANKET", "quantity": 400}]}
    )
    assert (late.status_code, late.json()["detail"]) == (409, f"pledge {partly.pk} is cancelled")
    # when the command line cancels the other
    out, _ = stock(
        "cancel-pledge", str(untouched.pk), "--as", manager, "--reason", "pledged twice by mistake"
    )
    assert out == f"Pledge {untouched.pk} (DFID-PL-78) cancelled: the 50 blankets will not come.\n"
    assert Pledge.objects.get(pk=untouched.pk).status == PledgeStatus.CANCELLED


def test_a_pledge_received_in_full_or_of_another_site_is_not_cancelled(op, manager_api):
    received = _pledge(op, quantity=10)
    manager_api.post(
        "/receipts",
        {
            "site": "BLK-HUB",
            "grant": "DFID-2005-07",
            "pledge": received.pk,
            "grn_number": "G-1",
            "lines": [{"item": "BLANKET", "quantity": 10}],
        },
    )
    elsewhere = _pledge(op, reference="DFID-PL-79", site=op.warehouse)
    open_one = _pledge(op, reference="DFID-PL-80")
    before = snapshot()
    full = manager_api.post(f"/pledges/{received.pk}/cancellation", {"reason": "not needed"})
    assert full.status_code == 409
    assert full.json()["detail"].startswith(f"pledge {received.pk} was received in full (10 of 10 blankets)")
    hidden = manager_api.post(f"/pledges/{elsewhere.pk}/cancellation", {"reason": "not needed"})
    assert (hidden.status_code, hidden.json()["detail"]) == (404, f"no pledge {elsewhere.pk}")
    blank = manager_api.post(f"/pledges/{open_one.pk}/cancellation", {"reason": "  "})
    assert blank.status_code == 422
    assert blank.json()["problems"] == [
        {"row": None, "field": "reason", "reason": "say why the pledge is cancelled"}
    ]
    assert snapshot() == before


# --- 7, 9. deliveries say what arrived; movements of an item say in or out ----------------------------


def test_a_delivery_says_what_arrived_and_what_was_lost(waybill, manager_api):
    response = manager_api.post(
        f"/waybills/{waybill.pk}/delivery",
        {"lines": [{"item": "BLANKET", "received": 110, "short_reason": "10 fell off the truck"}]},
    )
    assert response.status_code == 201, response.content
    movement = response.json()["movement"]
    assert response.json()["message"] == (
        f"Posted delivery confirmation #{movement['id']} ({waybill.number}) at Balakot hub: "
        "110 BLANKET received, 10 short (lost)."
    )


def test_an_item_listed_twice_on_a_delivery_is_refused_for_that_alone(waybill, manager_api):
    before = snapshot()
    response = manager_api.post(
        f"/waybills/{waybill.pk}/delivery",
        {"lines": [{"item": "BLANKET", "received": 120}, {"item": "BLANKET", "received": 1}]},
    )
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"row": None, "field": "lines.1.item", "reason": "Blanket is listed twice"}
    ]
    assert snapshot() == before


def test_the_movements_of_an_item_say_what_each_took_from_or_gave_to_its_site(stocked, manager_api, web_as):
    op = stocked
    # given a count that found 58 blankets short at the hub, and its reversal
    count = manager_api.post("/counts", {"site": "BLK-HUB", "lines": [{"item": "BLANKET", "counted": 142}]})
    count_id = count.json()["movement"]["id"]
    reversal = manager_api.post(f"/movements/{count_id}/reversal", {"reason": "counted the wrong store"})
    reversal_id = reversal.json()["movement"]["id"]
    receipt = Movement.objects.get(reference="GRN-H1")
    # when the API lists the hub's movements of blankets
    listed = manager_api.get("/movements", {"site": "BLK-HUB", "item": "BLANKET"}).json()["items"]
    # then each says what it did to the hub's blankets: out, in, in
    assert {m["id"]: (m["item_quantity"], m["item_change"]) for m in listed} == {
        reversal_id: (58, 58),
        count_id: (58, -58),
        receipt.pk: (200, 200),
    }
    # and so does the download
    url = reverse("stock:movement-list") + f"?site={op.hub.pk}&item=BLANKET&format=csv"
    response = web_as(Role.COORDINATOR).get(url)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    found = {row[0]: row[rows[0].index("In (+) or out (-) at site")] for row in rows[2:]}
    assert found == {str(reversal_id): "58", str(count_id): "-58", str(receipt.pk): "200"}
