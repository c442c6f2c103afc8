"""Every posting form refuses what it cannot read in the ledger's plain words, naming the field (and
the line) and the reason, never in Django's own ("Enter a whole number.", "Select a valid choice.
X is not one of the available choices.", "This field is required.", "Ensure this value ...")."""

from __future__ import annotations

import pytest

from reliefops.core.roles import Role
from reliefops.stock import forms
from tests.factories import make_user
from tests.stock.conftest import receive

DJANGO_WORDS = (
    "Enter a",
    "Select a valid choice",
    "available choices",
    "This field is required",
    "Ensure this",
)


@pytest.fixture
def manager(op):
    return make_user(Role.HUB_MANAGER, hubs=[op.hub], distribution_points=[op.point])


def data(fields: dict, lines: list[dict] | None = None, *, initial: int = 0) -> dict:
    posted = {"idempotency_key": "a" * 32, **{key: str(value) for key, value in fields.items()}}
    if lines is not None:
        posted["lines-TOTAL_FORMS"] = str(len(lines))
        posted["lines-INITIAL_FORMS"] = str(initial)
        for index, line in enumerate(lines):
            posted.update({f"lines-{index}-{name}": str(value) for name, value in line.items()})
    return posted


def refusals(form) -> list[str]:
    # when the form reads what was sent
    assert not form.is_valid()
    said = form.error_summary()
    # then none of its refusals is in Django's own words
    assert not [s for s in said if any(words in s for words in DJANGO_WORDS)], said
    return said


# --- each posting form, with a choice it does not offer, a number it cannot read, a day that is none,
# --- and a field left empty ----------------------------------------------------------------------------


def test_receipt_form(op, manager):
    form = forms.ReceiptForm(
        data(
            {
                "site": op.warehouse.pk,
                "grant": "",
                "grn_number": "",
                "received_on": "2005-31-10",
                "pledge": "7",
            },
            [{"item": op.blanket.pk, "quantity": "ten", "packs": "", "pack": "crate"}],
        ),
        user=manager,
    )
    assert refusals(form) == [
        f"Received at: '{op.warehouse.pk}' is not one of the sites offered; pick one from the list",
        "Grant: choose a grant",
        "GRN number: must not be blank",
        "Received on: '2005-31-10' is not a date; write it as YYYY-MM-DD",
        "Fulfils pledge: '7' is not one of the open pledges offered; pick one from the list",
        "Line 1, quantity: not a whole number: 'ten'",
        "Line 1, pack: 'crate' is not one of the packs offered; pick one from the list",
    ]


def test_dispatch_form(op, manager):
    form = forms.DispatchForm(
        data(
            {
                "from_site": op.hub.pk,
                "to_site": "",
                "dispatched_on": "2005-10-40",
                "transport": "donkey",
                "number": "B" * 33,
            },
            [{"item": 999_999, "quantity": "5.5", "grant": "DFID"}],
        ),
        user=manager,
    )
    assert refusals(form) == [
        "To: choose a site",
        "Dispatched on: '2005-10-40' is not a date; write it as YYYY-MM-DD",
        "Transport: 'donkey' is not one of the means of transport offered; pick one from the list",
        "Waybill number: longer than 32 characters; shorten it",
        "Line 1, item: '999999' is not one of the items offered; pick one from the list",
        "Line 1, quantity: not a whole number: '5.5'",
        "Line 1, grant: 'DFID' is not one of the grants offered; pick one from the list",
    ]


def test_delivery_form(op, manager):
    sent = {"item": op.blanket.pk, "label": "BLANKET · Blanket", "sent": 10, "received": 10, "damaged": 0}
    form = forms.DeliveryForm(
        data(
            {"delivered_on": ""},
            [{"item": op.blanket.pk, "received": "ten", "damaged": "", "damage_reason": "x" * 201}],
            initial=1,
        ),
        user=manager,
        initial_lines=[sent],
    )
    assert refusals(form) == [
        "Arrived on: must not be blank",
        "Line 1 (BLANKET · Blanket), received in good condition: not a whole number: 'ten'",
        "Line 1 (BLANKET · Blanket), damaged: must not be blank",
        "Line 1 (BLANKET · Blanket), why damaged: longer than 200 characters; shorten it",
    ]


def test_delivery_form_with_an_impossible_item_id(op, manager):
    form = forms.DeliveryForm(
        data({"delivered_on": "2005-10-22"}, [{"item": "0", "received": 1, "damaged": 0}], initial=1),
        user=manager,
        initial_lines=[{"item": op.blanket.pk, "label": "BLANKET · Blanket", "sent": 1}],
    )
    assert refusals(form) == ["Line 1 (BLANKET · Blanket), item: must be 1 or more, not 0"]


def test_distribution_form(op, manager):
    form = forms.DistributionForm(
        data(
            {"site": "DP-1", "distributed_on": "2005-10-22"},
            [{"item": op.blanket.pk, "quantity": "", "grant": ""}],
        ),
        user=manager,
    )
    assert refusals(form) == [
        "Distribution point: 'DP-1' is not one of the sites offered; pick one from the list",
        "Line 1, quantity: must not be blank",
    ]


def test_handover_form(op, manager):
    form = forms.HandoverForm(
        data(
            {"site": op.point.pk, "organisation": "", "handed_on": "2005-10-22"},
            [{"item": op.blanket.pk, "quantity": "1,5", "grant": ""}],
        ),
        user=manager,
    )
    assert refusals(form) == [
        "Partner organisation: choose a partner organisation",
        "Line 1, quantity: not a whole number: '1,5'",
    ]


def test_loss_form(op, manager):
    form = forms.LossForm(
        data(
            {"site": op.hub.pk, "reason": "rats", "occurred_on": "yesterday"},
            [{"item": "", "quantity": 3, "grant": ""}],
        ),
        user=manager,
    )
    assert refusals(form) == [
        "Reason: 'rats' is not one of the reasons offered; pick one from the list",
        "Happened on: 'yesterday' is not a date; write it as YYYY-MM-DD",
        "Line 1, item: choose an item",
    ]


def test_count_forms(op, manager):
    # the first step, the site counted
    site_form = forms.CountSiteForm({"site": op.warehouse.pk}, user=manager)
    assert not site_form.is_valid()
    assert site_form.errors == {
        "site": [f"'{op.warehouse.pk}' is not one of the sites offered; pick one from the list"]
    }
    # the count sheet
    receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-1")
    form = forms.CountForm(
        data(
            {"site": "hub", "counted_on": "2005-10-22"},
            [{"item": op.blanket.pk, "counted": "about 9", "surplus_grant": op.dfid.pk + 1000}],
        ),
        user=manager,
    )
    assert refusals(form) == [
        "Site: not a whole number: 'hub'",
        "Line 1, counted: not a whole number: 'about 9'",
        f"Line 1, surplus grant: '{op.dfid.pk + 1000}' is not one of the grants offered; "
        "pick one from the list",
    ]


def test_kitting_form(op, manager):
    form = forms.KittingForm(
        data(
            {"site": op.hub.pk, "action": "melt", "kit": op.blanket.pk, "quantity": "two", "on": "2005-10-22"}
        ),
        user=manager,
    )
    assert refusals(form) == [
        "Action: 'melt' is not one of the actions offered; pick one from the list",
        f"Kit: '{op.blanket.pk}' is not one of the kits offered; pick one from the list",
        "Number of kits: not a whole number: 'two'",
    ]


def test_reversal_form(op, manager):
    form = forms.ReversalForm(data({"reason": "", "reversed_on": "22.10.2005"}), user=manager)
    assert refusals(form) == [
        "Why reverse it: must not be blank",
        "Reversed on: '22.10.2005' is not a date; write it as YYYY-MM-DD",
    ]


def test_a_value_with_a_percent_sign_is_quoted_as_typed(op, manager):
    form = forms.DistributionForm(
        data(
            {"site": op.point.pk, "distributed_on": "2005-10-22"},
            [{"item": op.blanket.pk, "quantity": "50%"}],
        ),
        user=manager,
    )
    assert refusals(form) == ["Line 1, quantity: not a whole number: '50%'"]


def test_pledge_cancel_form():
    form = forms.PledgeCancelForm({"reason": "the ship\x00 sank"})
    assert not form.is_valid()
    assert form.error_summary() == [
        "Why is it cancelled: holds a character no text may hold (NUL); type it again"
    ]


def test_a_long_value_is_quoted_cut_short(op, manager):
    form = forms.DistributionForm(
        data(
            {"site": op.point.pk, "distributed_on": "2005-10-22"},
            [{"item": op.blanket.pk, "quantity": "9x" * 50}],
        ),
        user=manager,
    )
    assert refusals(form) == [f"Line 1, quantity: not a whole number: '{'9x' * 19}9…'"]
