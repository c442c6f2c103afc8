"""`reliefops stock`: postings acting as a user, reports, and `verify` exiting 1 on any fault."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from reliefops.core.roles import Right, Role, refusal
from reliefops.stock.models import Balance, Movement, MovementKind, MovementLine, WaybillStatus
from reliefops.stock.services import StockLine, stock_distribute, stock_handover_to_partner
from tests.factories import ItemFactory, make_user
from tests.stock.conftest import DAY, assert_ledger_sound, on_hand, receive, snapshot


def stock(*args: str) -> tuple[str, str]:
    """Run `reliefops stock ARGS`; its standard output and error."""
    out, err = StringIO(), StringIO()
    call_command("stock", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> tuple[str, str]:
    """Run a command that must fail; its error message and standard error."""
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("stock", *args, stdout=StringIO(), stderr=err)
    return str(caught.value), err.getvalue()


# --- postings ---------------------------------------------------------------------------------------


def test_receive_in_units_and_packs_and_a_repeated_key_posts_once(op, manager):
    op.blanket.pack_sizes.create(name="bale", quantity=10)
    args = ["receive", "--as", manager, "--site", "BLK-HUB", "--grant", "DFID-2005-07", "--grn", "GRN-C1"]
    args += ["--line", "BLANKET=12:bale", "--line", "BUCKET=40", "--on", "2005-10-21", "--key", "grn-c1"]
    # when the receipt is posted, then posted again with the same key
    out, _ = stock(*args)
    again, _ = stock(*args)
    # then it is posted once
    movement = Movement.objects.get(reference="GRN-C1")
    assert out == f"Posted receipt #{movement.pk} (GRN-C1) at Balakot hub: 2 items: 120 BLANKET, 40 BUCKET.\n"
    assert again == f"Already posted as receipt #{movement.pk} (GRN-C1): nothing changed.\n"
    assert on_hand(op.hub, op.blanket) == 120
    assert str(movement.occurred_on) == "2005-10-21"
    assert movement.posted_by.username == manager


def test_dispatch_and_confirm_with_damage_and_shortage(stocked, manager, admin):
    # when the warehouse dispatches 100 blankets to the hub, and the hub confirms 90 good, 4 damaged
    out, _ = stock(
        "dispatch", "--as", admin, "--from", "ISB-WH", "--to", "BLK-HUB", "--line", "BLANKET=100",
        "--transport", "helicopter", "--vehicle", "MI-17 sortie 3", "--number", "WB-CLI-1",
        "--on", "2005-10-22",
    )  # fmt: skip
    assert out.startswith(
        "Waybill WB-CLI-1 dispatched from Islamabad warehouse to Balakot hub: 1 item: 100 BLANKET"
    )
    out, _ = stock(
        "confirm", "WB-CLI-1", "--as", manager, "--received", "BLANKET=90", "--damaged", "BLANKET=4",
        "--damage-reason", "BLANKET=torn", "--short-reason", "BLANKET=fell off at Garhi Habibullah",
        "--on", "2005-10-23",
    )  # fmt: skip
    # then the good ones are at the hub and the rest in loss/damage with their reasons
    delivery = Movement.objects.get(kind=MovementKind.DELIVERY)
    # and the message says what arrived and what did not, not only what was sent
    assert out == (
        f"Posted delivery confirmation #{delivery.pk} (WB-CLI-1) at Balakot hub: "
        "90 BLANKET received, 4 damaged (lost), 6 short (lost).\n"
    )
    assert on_hand(stocked.hub, stocked.blanket) == 290
    assert sorted(delivery.lines.values_list("quantity", "reason")) == [
        (4, "torn"),
        (6, "fell off at Garhi Habibullah"),
        (90, ""),
    ]
    assert delivery.waybill.status == WaybillStatus.DELIVERED
    assert_ledger_sound()


def test_confirm_without_quantities_takes_what_was_sent(waybill, manager):
    stock("confirm", str(waybill.pk), "--as", manager)
    waybill.refresh_from_db()
    assert waybill.status == WaybillStatus.DELIVERED
    assert on_hand(waybill.to_site, Movement.objects.get(kind="delivery").lines.get().item) == 320


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        pytest.param(
            ["distribute", "--site", "DP-1", "--line", "BLANKET=30", "--reference", "D-9"],
            "distribution",
            id="distribute",
        ),
        pytest.param(
            ["handover", "--site", "BLK-HUB", "--partner", "ARMY", "--line", "BLANKET=50"],
            "handover",
            id="handover",
        ),
        pytest.param(
            [
                "loss",
                "--site",
                "BLK-HUB",
                "--reason",
                "theft",
                "--line",
                "BUCKET=3",
                "--note",
                "stolen at night",
            ],
            "loss",
            id="loss",
        ),
        pytest.param(["count", "--site", "BLK-HUB", "--line", "BUCKET=52@ECHO-2005-01"], "count", id="count"),
        pytest.param(
            [
                "assemble",
                "--site",
                "BLK-HUB",
                "--kit",
                "WINTER-KIT",
                "--quantity",
                "5",
                "--grant",
                "DFID-2005-07",
            ],
            "kitting",
            id="assemble",
        ),
    ],
)
def test_each_operation_posts_its_movement(stocked, manager, args, kind):
    receive(
        stocked, stocked.hub, stocked.bucket, 5, stocked.dfid, "GRN-H3"
    )  # DFID's own buckets, for its kits
    out, _ = stock(args[0], "--as", manager, *args[1:])
    movement = Movement.objects.get(kind=kind)
    assert out.startswith(f"Posted {movement.get_kind_display().lower()} #{movement.pk}")
    assert_ledger_sound()


def test_break_and_reverse(stocked, manager):
    receive(
        stocked, stocked.hub, stocked.bucket, 5, stocked.dfid, "GRN-H3"
    )  # DFID's own buckets, for its kits
    stock(
        "assemble",
        "--as",
        manager,
        "--site",
        "BLK-HUB",
        "--kit",
        "WINTER-KIT",
        "--quantity",
        "5",
        "--grant",
        "DFID-2005-07",
    )
    stock("break", "--as", manager, "--site", "BLK-HUB", "--kit", "WINTER-KIT", "--quantity", "2")
    assert on_hand(stocked.hub, stocked.kit_item) == 3
    receipt = Movement.objects.get(reference="GRN-P1")
    out, _ = stock("reverse", str(receipt.pk), "--as", manager, "--reason", "received at the wrong point")
    assert out.startswith("Posted reversal #")
    assert on_hand(stocked.point, stocked.blanket) == 0
    assert_ledger_sound()


# --- refusals ---------------------------------------------------------------------------------------


def test_unknown_names_and_bad_numbers_are_listed_and_nothing_is_written(stocked, manager):
    before = snapshot()
    message, err = refused(
        "distribute", "--as", manager, "--site", "DP-1", "--line", "BLANKETS=5", "--line", "BLANKET=five",
        "--line", "BLANKET=5@DFID-2099",
    )  # fmt: skip
    assert message == "3 problems; nothing was written"
    assert err.splitlines() == [
        "line 1, item: unknown item 'BLANKETS'",
        "line 2, quantity: not a whole number: 'five'",
        "line 3, grant: unknown grant 'DFID-2099'",
    ]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        pytest.param(
            "BLANKET=1,5",
            "not a whole number: '1,5'; a comma may only separate thousands, as in 1,500",
            id="comma-not-between-thousands",
        ),
        pytest.param(
            "BLANKET=15,00",
            "not a whole number: '15,00'; a comma may only separate thousands, as in 1,500",
            id="comma-before-two-digits",
        ),
        pytest.param(
            "BLANKET=99999999999999999999",
            "must be at most 1,000,000,000,000, not 99999999999999999999",
            id="beyond-a-line",
        ),
    ],
)
def test_a_count_that_is_not_a_whole_number_or_too_large_is_refused(stocked, manager, line, problem):
    before = snapshot()
    message, err = refused("count", "--as", manager, "--site", "BLK-HUB", "--line", line)
    assert message == "1 problem; nothing was written"
    assert err.splitlines() == [f"line 1, counted: {problem}"]
    assert snapshot() == before


def test_a_count_may_separate_thousands_with_commas(stocked, manager):
    stock("count", "--as", manager, "--site", "BLK-HUB", "--line", "BLANKET=1,500")
    assert on_hand(stocked.hub, stocked.blanket) == 1500


def test_an_impossible_pledge_id_is_refused_by_the_command(stocked, manager):
    before = snapshot()
    message, _ = refused(
        "receive", "--as", manager, "--site", "BLK-HUB", "--grant", "DFID-2005-07", "--grn", "GRN-X",
        "--pledge", "99999999999999999999", "--line", "BLANKET=1",
    )  # fmt: skip
    assert "not an id: '99999999999999999999'" in message
    assert snapshot() == before


DISPATCH = ["dispatch", "--from", "BLK-HUB", "--to", "DP-1", "--line", "BLANKET=5"]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        pytest.param([*DISPATCH, "--vehicle", "V" * 65], "vehicle: longer than 64 characters", id="vehicle"),
        pytest.param([*DISPATCH, "--driver", "D" * 121], "driver: longer than 120 characters", id="driver"),
        pytest.param(
            [*DISPATCH, "--number", "N" * 33], "number: longer than 32 characters", id="waybill-number"
        ),
        pytest.param(
            [
                "receive",
                "--site",
                "BLK-HUB",
                "--grant",
                "DFID-2005-07",
                "--grn",
                "G" * 65,
                "--line",
                "BLANKET=5",
            ],
            "grn_number: longer than 64 characters",
            id="grn",
        ),
        pytest.param(
            ["distribute", "--site", "DP-1", "--line", "BLANKET=5", "--reference", "R" * 65],
            "reference: longer than 64 characters",
            id="distribution-reference",
        ),
        pytest.param(
            [
                "handover",
                "--site",
                "BLK-HUB",
                "--partner",
                "ARMY",
                "--line",
                "BLANKET=5",
                "--reference",
                "R" * 65,
            ],
            "reference: longer than 64 characters",
            id="handover-reference",
        ),
    ],
)
def test_a_text_longer_than_its_column_is_refused_naming_the_option_and_limit(
    stocked, manager, args, problem
):
    before = snapshot()
    message, err = refused(*args, "--as", manager)
    assert message == "1 problem; nothing was written"
    assert err.splitlines() == [f"{problem}; shorten it"]
    assert snapshot() == before


def test_posting_outside_the_users_scope_is_refused(stocked, manager):
    before = snapshot()
    message, _ = refused(
        "loss",
        "--as",
        manager,
        "--site",
        "ISB-WH",
        "--reason",
        "theft",
        "--note",
        "gone",
        "--line",
        "BLANKET=1",
    )
    assert message == "you may not post stock at Islamabad warehouse"
    assert snapshot() == before


def test_a_role_without_the_right_is_refused(stocked):
    viewer = make_user(Role.VIEWER).username
    message, _ = refused("count", "--as", viewer, "--site", "BLK-HUB", "--line", "BLANKET=1")
    assert message == refusal(Role.VIEWER, Right.POST_STOCK)


def test_an_unknown_user_is_refused(stocked):
    message, _ = refused("count", "--as", "nobody", "--site", "BLK-HUB", "--line", "BLANKET=1")
    assert message == "no user 'nobody'"


def test_overdraw_gives_the_ledgers_message(stocked, manager):
    before = snapshot()
    message, err = refused(
        "dispatch", "--as", manager, "--from", "BLK-HUB", "--to", "DP-1", "--line", "BUCKET=60@ECHO-2005-01"
    )
    assert message == "Balakot hub has 50 steel buckets (grant ECHO-2005-01); this dispatch asks for 60"
    # and the problem is told on its line
    assert err.splitlines() == [f"line 1, quantity: {message}"]
    assert snapshot() == before


def test_confirming_twice_is_refused(waybill, manager):
    stock("confirm", waybill.number, "--as", manager)
    message, _ = refused("confirm", waybill.number, "--as", manager, "--key", "later")
    assert message.startswith(f"waybill {waybill.number} was already confirmed on ")


# --- reports ----------------------------------------------------------------------------------------


def _distributed_as_published(op):
    tent = ItemFactory(code="TENT", name="Tent")
    quilt = ItemFactory(code="QUILT", name="Quilt")
    for item, quantity in ((tent, 40), (quilt, 25)):
        receive(op, op.point, item, quantity, op.dfid, f"GRN-{item.code}")
    stock_distribute(
        actor=None,
        site_id=op.point.pk,
        lines=[StockLine(item_id=tent.pk, quantity=30), StockLine(item_id=op.blanket.pk, quantity=60)],
        distributed_on=DAY,
    )
    stock_handover_to_partner(
        actor=None,
        site_id=op.point.pk,
        organisation_id=op.partner.pk,
        lines=[StockLine(item_id=quilt.pk, quantity=25), StockLine(item_id=tent.pk, quantity=5)],
        handed_on=DAY,
    )


def test_report_distributed_prints_the_published_keys_exactly(stocked):
    _distributed_as_published(stocked)
    out, _ = stock("report", "--distributed", "--format", "json")
    assert out == (
        '{"iom_distributed": {"tents": 35, "shelter_kits": 0, "winterization_kits": 0, '
        '"blankets": 60, "quilts": 25, "cgi_sheets": 0, "tarpaulins": 0}}\n'
    )


def test_report_distributed_as_a_table(stocked):
    _distributed_as_published(stocked)
    out, _ = stock("report", "--distributed")
    assert ["tents", "35"] in [line.split() for line in out.splitlines()]
    assert out.splitlines()[0].split() == ["item", "distributed"]


def test_report_distributed_as_a_hub_manager_counts_only_their_sites(stocked, manager):
    # given the distribution point handed over 35 tents, 60 blankets and 25 quilts, and the
    # warehouse, not one of the hub manager's sites, 300 blankets
    _distributed_as_published(stocked)
    stock_distribute(
        actor=None,
        site_id=stocked.warehouse.pk,
        lines=[StockLine(item_id=stocked.blanket.pk, quantity=300)],
        distributed_on=DAY,
    )
    # when the hub manager asks for what was distributed
    out, _ = stock("report", "--distributed", "--as", manager, "--format", "json")
    # then only their sites count, while the whole operation counts all 360 blankets
    assert json.loads(out)["iom_distributed"] == {
        "tents": 35,
        "shelter_kits": 0,
        "winterization_kits": 0,
        "blankets": 60,
        "quilts": 25,
        "cgi_sheets": 0,
        "tarpaulins": 0,
    }
    everything, _ = stock("report", "--distributed", "--format", "json")
    assert json.loads(everything)["iom_distributed"]["blankets"] == 360


def test_report_on_hand_by_grant(stocked):
    out, _ = stock("report", "--on-hand", "--by-grant", "--item", "BLANKET")
    rows = [line.split() for line in out.splitlines()[2:]]
    assert rows == [
        ["Balakot", "hub", "BLANKET", "DFID-2005-07", "200"],
        ["Garhi", "Habibullah", "point", "BLANKET", "ECHO-2005-01", "100"],
        ["Islamabad", "warehouse", "BLANKET", "DFID-2005-07", "500"],
    ]


def test_report_on_hand_as_a_user_shows_only_their_sites(stocked, manager):
    out, _ = stock("report", "--on-hand", "--as", manager, "--format", "json")
    assert {row["site_name"] for row in json.loads(out)} == {"Balakot hub", "Garhi Habibullah point"}


def test_report_donor_pipeline_and_card(waybill):
    donor, _ = stock("report", "--donor", "DFID-2005-07")
    assert donor.splitlines()[0].startswith("Donor report of grant DFID-2005-07")
    # it says when its figures apply
    assert donor.splitlines()[1].startswith(
        "Received, distributed, handed to partners, lost and other count every posting up to today ("
    )
    assert donor.splitlines()[4].split() == ["BLANKET", "700", "0", "0", "0", "120", "580", "0"]
    shown = json.loads(stock("report", "--donor", "DFID-2005-07", "--format", "json")[0])
    assert shown["when"] == donor.splitlines()[1]
    assert shown["as_of"].endswith("+05:00")
    pipeline, _ = stock("report", "--pipeline", "--format", "json")
    assert [w["waybill"] for w in json.loads(pipeline)["in_transit"]] == [waybill.number]
    card, _ = stock("report", "--card", "BLK-HUB", "BLANKET", "--from", "2005-10-01", "--to", "2005-10-31")
    assert "Opening balance: 0" in card
    assert "In 200, out 0, closing balance 200" in card


# --- verify -----------------------------------------------------------------------------------------


def test_verify_passes_on_a_sound_ledger(waybill):
    out, _ = stock("verify")
    assert out.splitlines()[0] == (
        f"checked {MovementLine.objects.count()} ledger lines and {Balance.objects.count()} balances"
    )
    assert out.splitlines()[-1] == "the ledger is sound: every balance matches the ledger"


def test_verify_exits_1_and_names_every_fault_when_a_balance_drifts(stocked):
    # given a balance row changed behind the ledger's back
    balance = Balance.objects.get(location__site=stocked.hub, item=stocked.bucket)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE stock_balance SET quantity = quantity + 7 WHERE id = %s", [balance.pk])
    # when the ledger is verified
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("stock", "verify", stdout=out, stderr=StringIO())
    # then the command fails with exit status 1 and names the drift and the unbalanced (item, grant)
    assert caught.value.returncode == 1
    assert str(caught.value) == (
        "the ledger is not sound: 1 drift, 1 unbalanced (item, grant), 0 negative physical balances"
    )
    report = out.getvalue()
    assert (
        "DRIFT      Balakot hub, BUCKET, grant ECHO-2005-01: the balance table holds 57, the ledger gives 50"
        in report
    )
    assert "UNBALANCED BUCKET, grant ECHO-2005-01: all locations add up to 7, not 0" in report
