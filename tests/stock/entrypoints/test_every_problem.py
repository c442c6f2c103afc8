"""A refused posting lists every problem of its request at once, by line and field; nothing is written.

Names the entry point cannot find (an unknown item, grant, site, partner or kit) are refused together
with what the ledger finds wrong (a zero quantity, a blank GRN, a loss reason it does not know), in
the API, on the command line and in the forms alike.
"""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from reliefops.core.roles import Role
from tests.stock.conftest import snapshot
from tests.stock.entrypoints.test_cli import refused
from tests.stock.entrypoints.test_views import form_data, text


def problem(row, field, reason):
    return {"row": row, "field": field, "reason": reason}


UNKNOWN_ITEM = problem(None, "lines.1.item", "unknown item 'NOPE'")
ZERO = problem(None, "lines.0.quantity", "must be more than zero, not 0")
TWO_BAD_LINES = [{"item": "BLANKET", "quantity": 0}, {"item": "NOPE", "quantity": 5}]


# --- API ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "problems"),
    [
        pytest.param(
            "/losses",
            {"site": "BLK-HUB", "note": "found torn", "reason": "rats", "lines": TWO_BAD_LINES},
            [
                problem(None, "reason", "must be one of theft, weather, spoilage, damage, other"),
                ZERO,
                UNKNOWN_ITEM,
            ],
            id="loss",
        ),
        pytest.param(
            "/distributions",
            {"site": "DP-1", "lines": TWO_BAD_LINES},
            [ZERO, UNKNOWN_ITEM],
            id="distribution",
        ),
        pytest.param(
            "/handovers",
            {
                "site": "BLK-HUB",
                "organisation": "NOBODY",
                "lines": [
                    {"item": "BLANKET", "quantity": 0},
                    {"item": "BLANKET", "quantity": 5, "grant": "NOPE-2005"},
                ],
            },
            [
                problem(None, "organisation", "unknown organisation 'NOBODY'"),
                ZERO,
                problem(None, "lines.1.grant", "unknown grant 'NOPE-2005'"),
            ],
            id="handover",
        ),
        pytest.param(
            "/waybills",
            {
                "from_site": "BLK-HUB",
                "to_site": "DP-1",
                "dispatched_on": "2005-10-25",
                "expected_on": "2005-10-24",
                "lines": TWO_BAD_LINES,
            },
            [
                problem(None, "expected_on", "24 Oct 2005 is before the day of dispatch (25 Oct 2005)"),
                ZERO,
                UNKNOWN_ITEM,
            ],
            id="dispatch",
        ),
        pytest.param(
            "/receipts",
            {
                "site": "BLK-HUB",
                "grant": "DFID-2005-07",
                "grn_number": " ",
                "lines": [
                    {"item": "BLANKET", "quantity": 0},
                    {"item": "NOPE", "quantity": 5},
                    {"item": "BLANKET", "packs": 2, "pack": "crate"},
                ],
            },
            [
                problem(None, "grn_number", "a goods received note number is required"),
                ZERO,
                UNKNOWN_ITEM,
                problem(None, "lines.2.pack", "unknown pack 'crate' for this item (known: none)"),
            ],
            id="receipt",
        ),
        pytest.param(
            "/pledges",
            {
                "grant": "NOPE-2005",
                "item": "BLANKET",
                "quantity": 0,
                "destination": "BLK-HUB",
                "expected_on": "2005-11-01",
            },
            [
                problem(None, "grant", "unknown grant 'NOPE-2005'"),
                problem(None, "quantity", "must be more than zero, not 0"),
            ],
            id="pledge",
        ),
        pytest.param(
            "/counts",
            {
                "site": "BLK-HUB",
                "lines": [
                    {"item": "BLANKET", "counted": -1},
                    {"item": "NOPE", "counted": 5},
                    {"item": "BUCKET", "counted": 3},
                    {"item": "BUCKET", "counted": 4},
                ],
            },
            [
                problem(None, "lines.0.counted", "must be a whole number of zero or more, not -1"),
                UNKNOWN_ITEM,
                problem(None, "lines.3.item", "Steel bucket is listed twice"),
            ],
            id="count",
        ),
        pytest.param(
            "/kits/assemble",
            {"site": "BLK-HUB", "kit": "BLANKET", "quantity": 0},
            [
                problem(None, "kit", "'BLANKET' is not a kit"),
                problem(None, "quantity", "must be more than zero, not 0"),
            ],
            id="kit-assembly",
        ),
        pytest.param(
            "/kits/break",
            {"site": "BLK-HUB", "kit": "NOPE", "quantity": -2},
            [
                problem(None, "kit", "'NOPE' is not a kit"),
                problem(None, "quantity", "must be more than zero, not -2"),
            ],
            id="kit-breaking",
        ),
    ],
)
def test_a_refused_posting_lists_every_problem_of_its_request(stocked, manager_api, path, body, problems):
    before = snapshot()
    # when a posting names something unknown and also breaks a rule elsewhere in the request
    response = manager_api.post(path, body)
    # then both kinds of problem are listed at once, each by its place in the body
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == problems
    assert response.json()["detail"] == f"{len(problems)} problems; nothing was written"
    # and nothing was written
    assert snapshot() == before


def test_a_refused_delivery_lists_every_problem_of_its_request(waybill, admin_api):
    before = snapshot()
    # when the confirmation is dated before the dispatch, refuses a negative count and names an
    # item that does not exist
    response = admin_api.post(
        f"/waybills/{waybill.pk}/delivery",
        {
            "delivered_on": "2005-10-01",
            "lines": [{"item": "BLANKET", "received": -1}, {"item": "NOPE", "received": 5}],
        },
    )
    # then all three are listed, and nothing was written
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        problem(
            None,
            "delivered_on",
            f"1 Oct 2005 is before waybill {waybill.number} was dispatched (20 Oct 2005)",
        ),
        problem(None, "lines.0.received", "must be a whole number of zero or more, not -1"),
        UNKNOWN_ITEM,
    ]
    assert snapshot() == before


# --- command line ------------------------------------------------------------------------------------


LOSS = [
    "loss",
    "--site",
    "BLK-HUB",
    "--reason",
    "theft",
    "--note",
    "gone",
    "--line",
    "BLANKET=0",
    "--line",
    "NOPE=5",
]
CLI_ZERO = "line 1, quantity: must be more than zero, not 0"
CLI_UNKNOWN = "line 2, item: unknown item 'NOPE'"


@pytest.mark.parametrize(
    ("args", "problems"),
    [
        pytest.param(LOSS, [CLI_ZERO, CLI_UNKNOWN], id="loss"),
        pytest.param(
            ["distribute", "--site", "DP-1", "--line", "BLANKET=0", "--line", "NOPE=5"],
            [CLI_ZERO, CLI_UNKNOWN],
            id="distribution",
        ),
        pytest.param(
            ["handover", "--site", "BLK-HUB", "--partner", "NOBODY", "--line", "BLANKET=0"],
            ["partner: unknown organisation 'NOBODY'", CLI_ZERO],
            id="handover",
        ),
        pytest.param(
            ["dispatch", "--from", "BLK-HUB", "--to", "DP-1", "--line", "BLANKET=0", "--line", "NOPE=5"],
            [CLI_ZERO, CLI_UNKNOWN],
            id="dispatch",
        ),
        pytest.param(
            [
                "receive",
                "--site",
                "BLK-HUB",
                "--grant",
                "NOPE-2005",
                "--grn",
                " ",
                "--line",
                "BLANKET=0",
                "--line",
                "NOPE=5",
            ],
            [
                "grant: unknown grant 'NOPE-2005'",
                "grn_number: a goods received note number is required",
                CLI_ZERO,
                CLI_UNKNOWN,
            ],
            id="receipt",
        ),
        pytest.param(
            ["count", "--site", "BLK-HUB", "--line", "BLANKET=-1", "--line", "NOPE=5"],
            ["line 1, counted: must be a whole number of zero or more, not -1", CLI_UNKNOWN],
            id="count",
        ),
        pytest.param(
            ["assemble", "--site", "BLK-HUB", "--kit", "NOPE", "--quantity", "0"],
            ["kit: 'NOPE' is not a kit", "quantity: must be more than zero, not 0"],
            id="kit-assembly",
        ),
    ],
)
def test_a_refused_command_prints_every_problem(stocked, manager, args, problems):
    before = snapshot()
    message, err = refused(*args, "--as", manager)
    assert message == f"{len(problems)} problems; nothing was written"
    assert err.splitlines() == problems
    assert snapshot() == before


def test_a_refused_confirmation_prints_every_problem(waybill, admin):
    before = snapshot()
    message, err = refused(
        "confirm", waybill.number, "--as", admin, "--received", "BLANKET=-1", "--received", "NOPE=5"
    )
    assert message == "2 problems; nothing was written"
    assert err.splitlines() == [
        "line 1, received: must be a whole number of zero or more, not -1",
        "line 2, item: unknown item 'NOPE'",
    ]
    assert snapshot() == before


# --- web forms ---------------------------------------------------------------------------------------


def test_a_refused_loss_form_shows_every_problem(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    # when line 1's quantity is zero and line 2 names an item the form does not offer
    response = client.post(
        reverse("stock:post-loss"),
        form_data(
            {
                "idempotency_key": "b" * 32,
                "site": stocked.hub.pk,
                "reason": "weather",
                "occurred_on": "2005-11-02",
            },
            [
                {"item": stocked.blanket.pk, "quantity": 0, "grant": ""},
                {"item": 999_999, "quantity": 5, "grant": ""},
            ],
        ),
    )
    # then both lines' problems are shown, and nothing was written
    assert response.status_code == 422
    body = text(response)
    assert "Line 1, quantity: must be more than zero, not 0" in body
    assert "Line 2, item: '999999' is not one of the items offered; pick one from the list" in unescape(body)
    assert snapshot() == before


def test_a_refused_receipt_form_shows_every_problem(stocked, web_as):
    client = web_as(Role.HUB_MANAGER)
    before = snapshot()
    # when line 1 gives neither a quantity nor packs and line 2 names an item the form does not offer
    response = client.post(
        reverse("stock:post-receipt"),
        form_data(
            {
                "idempotency_key": "c" * 32,
                "site": stocked.hub.pk,
                "grant": stocked.dfid.pk,
                "grn_number": "GRN-77",
                "received_on": "2005-11-02",
            },
            [
                {"item": stocked.blanket.pk, "quantity": "", "packs": "", "pack": ""},
                {"item": 999_999, "quantity": 5, "packs": "", "pack": ""},
            ],
        ),
    )
    assert response.status_code == 422
    body = text(response)
    assert "Line 1, quantity: give either a quantity in base units or a number of packs" in body
    assert "Line 2, item: '999999' is not one of the items offered; pick one from the list" in unescape(body)
    assert snapshot() == before
