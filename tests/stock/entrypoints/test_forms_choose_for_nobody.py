"""Posting forms choose nothing for the user that would change what a posting means: a receipt's
grant and a loss's reason are chosen by the user, else refused beside the field."""

from __future__ import annotations

import re

from django.urls import reverse

from reliefops.core.roles import Role
from tests.stock.conftest import snapshot
from tests.stock.entrypoints.test_views import form_data, hidden_key, text


def _select(body: str, name: str) -> str:
    found = re.search(rf'<select name="{name}".*?</select>', body, re.S)
    assert found, f"no select {name}"
    return found.group(0)


def test_the_receipt_form_offers_no_grant_until_one_is_chosen(op, web_as):
    client = web_as(Role.HUB_MANAGER)
    # when the receipt form is drawn
    select = _select(text(client.get(reverse("stock:post-receipt"))), "grant")
    # then its first choice is empty and asks for a grant, and that one is selected
    first = re.search(r"<option[^>]*>[^<]*</option>", select)
    assert first is not None
    assert 'value=""' in first.group(0)
    assert "Choose the grant" in first.group(0)
    assert "selected" in first.group(0)


def test_a_receipt_without_a_grant_is_refused_beside_the_grant(op, web_as):
    client = web_as(Role.HUB_MANAGER)
    key = hidden_key(client.get(reverse("stock:post-receipt")))
    before = snapshot()
    response = client.post(
        reverse("stock:post-receipt"),
        form_data(
            {
                "idempotency_key": key,
                "site": op.hub.pk,
                "grant": "",
                "grn_number": "GRN-NO-GRANT",
                "received_on": "2005-10-21",
                "pledge": "",
                "note": "",
            },
            [{"item": op.blanket.pk, "quantity": 10, "packs": "", "pack": ""}],
        ),
    )
    assert response.status_code == 422
    assert "Grant: choose a grant" in text(response)
    assert snapshot() == before


def test_the_loss_form_offers_no_reason_until_one_is_chosen_and_refuses_none(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    body = text(client.get(reverse("stock:post-loss")))
    first = re.search(r"<option[^>]*>[^<]*</option>", _select(body, "reason"))
    assert first is not None
    assert 'value=""' in first.group(0)
    assert "Choose the reason" in first.group(0)
    before = snapshot()
    # when a loss is posted with no reason chosen
    response = client.post(
        reverse("stock:post-loss"),
        form_data(
            {
                "idempotency_key": hidden_key(client.get(reverse("stock:post-loss"))),
                "site": stocked.hub.pk,
                "reason": "",
                "occurred_on": "2005-11-02",
                "note": "gone",
            },
            [{"item": stocked.blanket.pk, "quantity": 5, "grant": ""}],
        ),
    )
    # then it is refused beside the reason, and nothing is written
    assert response.status_code == 422
    assert "Reason: must be one of theft, weather, spoilage, damage, other" in text(response)
    assert snapshot() == before


def test_a_loss_without_reason_note_or_line_lists_the_three_problems_as_the_api_does(stocked, web_as, api_as):
    client = web_as(Role.HUB_MANAGER)
    manager_api = api_as(Role.HUB_MANAGER)
    key = hidden_key(client.get(reverse("stock:post-loss")))
    before = snapshot()
    # when a loss is sent with its site and day only, from the form and through the API
    response = client.post(
        reverse("stock:post-loss"),
        form_data(
            {
                "idempotency_key": key,
                "site": stocked.hub.pk,
                "reason": "",
                "occurred_on": "2005-11-02",
                "note": "",
            },
            [],
        ),
    )
    api = manager_api.post("/losses", {"site": "BLK-HUB", "reason": "", "note": "", "lines": []})
    # then the form lists every problem the API lists, in its words, and nothing is written
    assert response.status_code == 422
    body = text(response)
    for problem in api.json()["problems"]:
        assert problem["reason"] in body, problem
    assert [p["field"] for p in api.json()["problems"]] == ["reason", "note", "lines"]
    assert snapshot() == before


def test_a_loss_without_a_note_is_refused_beside_the_note(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    response = client.post(
        reverse("stock:post-loss"),
        form_data(
            {
                "idempotency_key": hidden_key(client.get(reverse("stock:post-loss"))),
                "site": stocked.hub.pk,
                "reason": "theft",
                "occurred_on": "2005-11-02",
                "note": "  ",
            },
            [{"item": stocked.blanket.pk, "quantity": 5, "grant": ""}],
        ),
    )
    assert response.status_code == 422
    assert "What happened: say what happened" in text(response)
    assert snapshot() == before


# --- what the entry points answer -------------------------------------------------------------------


def test_the_distribution_form_tells_a_distributor_no_stock_level(stocked, web_as):
    client = web_as(Role.DISTRIBUTOR)
    response = client.post(
        reverse("stock:post-distribution"),
        form_data(
            {
                "idempotency_key": hidden_key(client.get(reverse("stock:post-distribution"))),
                "site": stocked.point.pk,
                "distributed_on": "2005-10-22",
                "reference": "",
                "note": "",
            },
            [{"item": stocked.blanket.pk, "quantity": 1000, "grant": ""}],
        ),
    )
    assert response.status_code == 400
    body = text(response)
    assert "Line 1, quantity: not enough blankets at Garhi Habibullah point for this distribution" in body
    assert "has 100" not in body


def test_a_posting_of_one_unit_says_one_line_and_its_item(op, web_as):
    client = web_as(Role.HUB_MANAGER)
    response = client.post(
        reverse("stock:post-receipt"),
        form_data(
            {
                "idempotency_key": hidden_key(client.get(reverse("stock:post-receipt"))),
                "site": op.hub.pk,
                "grant": op.dfid.pk,
                "grn_number": "GRN-ONE",
                "received_on": "2005-10-21",
                "pledge": "",
                "note": "",
            },
            [{"item": op.blanket.pk, "quantity": 1, "packs": "", "pack": ""}],
        ),
        follow=True,
    )
    assert "GRN-ONE) at Balakot hub: 1 item: 1 BLANKET." in text(response)


def test_packs_without_a_pack_chosen_are_refused_asking_for_the_pack(op, web_as):
    op.blanket.pack_sizes.create(name="bale", quantity=10)
    client = web_as(Role.HUB_MANAGER)
    response = client.post(
        reverse("stock:post-receipt"),
        form_data(
            {
                "idempotency_key": hidden_key(client.get(reverse("stock:post-receipt"))),
                "site": op.hub.pk,
                "grant": op.dfid.pk,
                "grn_number": "GRN-PACK",
                "received_on": "2005-10-21",
                "pledge": "",
                "note": "",
            },
            [{"item": op.blanket.pk, "quantity": "", "packs": 5, "pack": ""}],
        ),
    )
    assert response.status_code == 422
    assert "Line 1, pack: choose the pack of the 5 packs (known: bale)" in text(response)


def test_a_repeated_pledge_key_answers_replayed(op, manager_api):
    body = {
        "grant": "ECHO-2005-01",
        "item": "BLANKET",
        "quantity": 5000,
        "destination": "BLK-HUB",
        "expected_on": "2005-11-01",
    }
    first = manager_api.post("/pledges", body, key="pledge-1")
    again = manager_api.post("/pledges", body, key="pledge-1")
    assert (first.status_code, first.json()["replayed"]) == (201, False)
    assert (again.status_code, again.json()["replayed"]) == (200, True)
    assert again.json()["id"] == first.json()["id"]
