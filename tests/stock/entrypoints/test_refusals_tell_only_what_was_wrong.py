"""A refused posting lists what was wrong with the request, and nothing else.

What an entry point could not read (a text too long, a choice not offered, a number it could not
parse, a site it could not find) is listed as the user wrote it; the stand-in the ledger is given in
its place never crashes the ledger, is never shown in a message, and raises no problem the user did
not cause. A pledge bound for another site tells nothing of itself but that.
"""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from reliefops.catalog.models import PackSize
from reliefops.core.roles import Role
from reliefops.stock.models import Pledge, PledgeStatus
from reliefops.stock.services import pledge_create
from tests.stock.conftest import DAY, snapshot
from tests.stock.entrypoints.test_cli import refused
from tests.stock.entrypoints.test_every_problem import problem
from tests.stock.entrypoints.test_views import form_data, text


def confirm(client, waybill, line: dict):
    """POST the delivery form of the waybill (120 blankets) with one line."""
    return client.post(
        reverse("stock:waybill-confirm", args=[waybill.pk]),
        form_data(
            {"idempotency_key": "f" * 32, "delivered_on": "2005-10-22", "excess_reason": ""},
            [
                {"item": waybill.movements.get().lines.get().item_id, "damage_reason": "", "short_reason": ""}
                | line
            ],
            initial=1,
        ),
    )


# --- a text too long ---------------------------------------------------------------------------------


def test_a_damage_reason_too_long_is_told_beside_the_field(waybill, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    # when 10 of 120 blankets arrived damaged, with a reason longer than a reason holds
    response = confirm(client, waybill, {"received": 110, "damaged": 10, "damage_reason": "x" * 201})
    # then the form says so (and asks for no reason it was given), and nothing was written
    assert response.status_code == 422
    body = text(response)
    assert "Line 1 (BLANKET · Blanket), why damaged: longer than 200 characters; shorten it" in body
    assert "say why" not in body
    assert snapshot() == before


# --- a choice not offered ----------------------------------------------------------------------------


def test_a_pack_not_offered_is_told_once_and_never_as_its_stand_in(stocked, web_as):
    PackSize.objects.create(item=stocked.blanket, name="bale", quantity=10)
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    response = client.post(
        reverse("stock:post-receipt"),
        form_data(
            {
                "idempotency_key": "c" * 32,
                "site": stocked.hub.pk,
                "grant": stocked.dfid.pk,
                "grn_number": "GRN-78",
                "received_on": "2005-11-02",
            },
            [{"item": stocked.blanket.pk, "quantity": "", "packs": 3, "pack": "crate"}],
        ),
    )
    assert response.status_code == 422
    body = text(response)
    assert "Line 1, pack: 'crate' is not one of the packs offered; pick one from the list" in unescape(body)
    assert "unknown pack" not in body
    assert snapshot() == before


# --- a number not read asks for no reason --------------------------------------------------------------


def test_a_damaged_count_the_form_could_not_read_asks_for_no_reason(waybill, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    response = confirm(client, waybill, {"received": 110, "damaged": "ten", "damage_reason": "wet"})
    assert response.status_code == 422
    body = text(response)
    assert "Line 1 (BLANKET · Blanket), damaged: not a whole number: 'ten'" in unescape(body)
    assert "say why" not in body
    assert snapshot() == before


def test_a_damaged_count_the_command_could_not_read_asks_for_no_reason(waybill, admin):
    before = snapshot()
    message, err = refused(
        "confirm",
        waybill.number,
        "--as",
        admin,
        "--received",
        "BLANKET=110",
        "--damaged",
        "BLANKET=ten",
        "--damage-reason",
        "BLANKET=wet",
    )
    assert message == "1 problem; nothing was written"
    assert err.splitlines() == ["line 1, damaged: not a whole number: 'ten'"]
    assert snapshot() == before


# --- two sites not found are not one site --------------------------------------------------------------


def test_a_dispatch_between_two_unknown_sites_lists_only_them(stocked, manager_api):
    before = snapshot()
    response = manager_api.post(
        "/waybills",
        {"from_site": "NOPE", "to_site": "NADA", "lines": [{"item": "BLANKET", "quantity": 1}]},
    )
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        problem(None, "from_site", "unknown site 'NOPE'"),
        problem(None, "to_site", "unknown site 'NADA'"),
    ]
    assert snapshot() == before


def test_a_dispatch_command_between_two_unknown_sites_lists_only_them(stocked, manager):
    before = snapshot()
    message, err = refused(
        "dispatch", "--as", manager, "--from", "NOPE", "--to", "NADA", "--line", "BLANKET=1"
    )
    assert message == "2 problems; nothing was written"
    assert err.splitlines() == [
        "from_site: unknown site 'NOPE'",
        "to_site: unknown site 'NADA'",
    ]
    assert snapshot() == before


# --- a pledge of another site --------------------------------------------------------------------------


def _pledge(op, site, status=PledgeStatus.OPEN) -> Pledge:
    pledge = pledge_create(
        actor=op.actor,
        grant_id=op.dfid.pk,
        item_id=op.blanket.pk,
        quantity=100,
        destination_site_id=site.pk,
        expected_on=DAY,
    )
    cancelled = timezone.now() if status == PledgeStatus.CANCELLED else None
    Pledge.objects.filter(pk=pledge.pk).update(status=status, cancelled_at=cancelled)
    return pledge


def _receive_against(api, pledge, grant="DFID-2005-07", quantity=10):
    return api.post(
        "/receipts",
        {
            "site": "BLK-HUB",
            "grant": grant,
            "grn_number": "GRN-HUB-10",
            "pledge": pledge.pk,
            "lines": [{"item": "BLANKET", "quantity": quantity}],
        },
    )


def test_a_cancelled_pledge_of_another_site_is_told_as_no_pledge_at_all(stocked, manager_api):
    # given a cancelled pledge bound for the warehouse, which the hub manager may not see
    pledge = _pledge(stocked, stocked.warehouse, PledgeStatus.CANCELLED)
    before = snapshot()
    # when the hub manager receives against it at the hub
    response = _receive_against(manager_api, pledge)
    # then the receipt is refused as for a pledge that does not exist: neither its site nor its status
    # is told
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        {"row": None, "field": "pledge", "reason": f"no pledge {pledge.pk}"}
    ]
    assert "cancelled" not in response.content.decode()
    assert snapshot() == before


def test_a_cancelled_pledge_of_this_site_is_a_conflict(stocked, manager_api):
    pledge = _pledge(stocked, stocked.hub, PledgeStatus.CANCELLED)
    before = snapshot()
    response = _receive_against(manager_api, pledge, quantity=0)
    assert response.status_code == 409, response.content
    assert response.json()["detail"] == f"pledge {pledge.pk} is cancelled"
    assert snapshot() == before


# --- a pledge of another grant -------------------------------------------------------------------------


def test_a_pledge_of_another_grant_is_listed_with_the_receipts_other_problems(stocked, manager_api):
    pledge = _pledge(stocked, stocked.hub)
    before = snapshot()
    # when a receipt against a DFID pledge names the ECHO grant and a zero quantity
    response = _receive_against(manager_api, pledge, grant="ECHO-2005-01", quantity=0)
    # then both are listed together
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        problem(None, "grant", f"pledge {pledge.pk} is of grant DFID-2005-07, not ECHO-2005-01"),
        problem(None, "lines.0.quantity", "must be more than zero, not 0"),
    ]
    assert snapshot() == before


@pytest.mark.parametrize("grant", ["ECHO-2005-01", "NOPE-2005"])
def test_a_pledge_of_another_grant_alone_is_refused_as_a_problem(stocked, manager_api, grant):
    pledge = _pledge(stocked, stocked.hub)
    before = snapshot()
    response = _receive_against(manager_api, pledge, grant=grant)
    assert response.status_code == 422, response.content
    reason = (
        f"pledge {pledge.pk} is of grant DFID-2005-07, not ECHO-2005-01"
        if grant == "ECHO-2005-01"
        else "unknown grant 'NOPE-2005'"
    )
    assert response.json()["problems"] == [problem(None, "grant", reason)]
    assert snapshot() == before
