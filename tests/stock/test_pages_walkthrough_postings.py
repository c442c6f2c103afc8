"""After a posting on the web, every role that may post it lands on a page it may open, with the
message naming what was posted. A distributor may post stock but not see it: a 403 after a
posting that succeeded would read as a failure, and a second posting (a new form, a new key)
would take the stock out twice."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from reliefops.core.roles import Role
from reliefops.stock.models import Movement, MovementKind, Waybill
from tests.stock.conftest import on_hand, receive
from tests.stock.entrypoints.conftest import stocked, waybill, web_as  # noqa: F401
from tests.stock.entrypoints.test_views import form_data, hidden_key, text


@dataclass(frozen=True)
class Posting:
    """One posting form: its address (from the fixtures), and its data given the form's key."""

    url: Callable[[Any], str]
    data: Callable[[Any, str], dict[str, str]]
    shows: str  # the start of the message that names what was posted
    given: Callable[[Any], Any] = lambda w: None  # what the posting needs beyond the fixtures


POSTINGS: dict[str, Posting] = {
    "receipt": Posting(
        lambda w: reverse("stock:post-receipt"),
        lambda w, key: form_data(
            {
                "idempotency_key": key,
                "site": w.hub.pk,
                "grant": w.dfid.pk,
                "grn_number": "GRN-WALK-1",
                "received_on": "2005-10-21",
                "pledge": "",
                "note": "",
            },
            [{"item": w.blanket.pk, "quantity": 30, "packs": "", "pack": ""}],
        ),
        "Posted receipt #",
    ),
    "dispatch": Posting(
        lambda w: reverse("stock:waybill-dispatch"),
        lambda w, key: form_data(
            {
                "idempotency_key": key,
                "from_site": w.hub.pk,
                "to_site": w.point.pk,
                "dispatched_on": "2005-10-21",
                "expected_on": "",
                "transport": "truck",
                "vehicle": "",
                "driver": "",
                "number": "",
            },
            [{"item": w.blanket.pk, "quantity": 20, "grant": ""}],
        ),
        "Waybill WB-",
    ),
    "delivery confirmation": Posting(
        lambda w: reverse("stock:waybill-confirm", args=[w.waybill.pk]),
        lambda w, key: form_data(
            {"idempotency_key": key, "delivered_on": "2005-10-22", "excess_reason": ""},
            [
                {
                    "item": w.blanket.pk,
                    "received": 120,
                    "damaged": 0,
                    "damage_reason": "",
                    "short_reason": "",
                }
            ],
            initial=1,
        ),
        "Posted delivery confirmation #",
    ),
    "distribution": Posting(
        lambda w: reverse("stock:post-distribution"),
        lambda w, key: form_data(
            {
                "idempotency_key": key,
                "site": w.point.pk,
                "distributed_on": "2005-10-22",
                "reference": "DIST-WALK",
                "note": "",
            },
            [{"item": w.blanket.pk, "quantity": 25, "grant": ""}],
        ),
        "Posted distribution #",
    ),
    "hand-over": Posting(
        lambda w: reverse("stock:post-handover"),
        lambda w, key: form_data(
            {
                "idempotency_key": key,
                "site": w.point.pk,
                "organisation": w.partner.pk,
                "handed_on": "2005-10-22",
                "reference": "HO-WALK",
                "note": "",
            },
            [{"item": w.blanket.pk, "quantity": 15, "grant": ""}],
        ),
        "Posted hand-over to partner #",
    ),
    "loss": Posting(
        lambda w: reverse("stock:post-loss"),
        lambda w, key: form_data(
            {
                "idempotency_key": key,
                "site": w.hub.pk,
                "reason": "weather",
                "occurred_on": "2005-10-22",
                "note": "soaked in the rain",
            },
            [{"item": w.blanket.pk, "quantity": 5, "grant": ""}],
        ),
        "Posted loss / damage #",
    ),
    "count": Posting(
        lambda w: reverse("stock:post-count") + f"?site={w.hub.pk}",
        lambda w, key: form_data(
            {"idempotency_key": key, "site": w.hub.pk, "counted_on": "2005-10-30", "note": ""},
            [
                {"item": w.blanket.pk, "counted": 190, "surplus_grant": ""},
                {"item": w.bucket.pk, "counted": "", "surplus_grant": ""},
            ],
            initial=2,
        ),
        "Posted physical count #",
    ),
    "kits": Posting(
        lambda w: reverse("stock:post-kitting"),
        lambda w, key: form_data(
            {
                "idempotency_key": key,
                "site": w.hub.pk,
                "action": "assemble",
                "kit": w.kit_item.pk,
                "quantity": 5,
                "grant": w.dfid.pk,
                "on": "2005-10-23",
            }
        ),
        "Posted kitting #",
        # kits of a grant are made of its own components: buckets of DFID's, as its blankets
        lambda w: receive(w, w.hub, w.bucket, 10, w.dfid, "GRN-KIT-BUCKETS"),
    ),
    "reversal": Posting(
        lambda w: reverse("stock:movement-reverse", args=[Movement.objects.get(reference="GRN-H2").pk]),
        lambda w, key: {"idempotency_key": key, "reason": "wrong grant", "reversed_on": "2005-10-21"},
        "Posted reversal #",
    ),
}

# Who may post what (docs/roles.md): a hub manager and an admin everything, a distributor the
# distributions and hand-overs at their distribution point.
MAY_POST = [
    pytest.param(role, name, id=f"{role.value}-{name.replace(' ', '-')}")
    for name in POSTINGS
    for role in (Role.ADMIN, Role.HUB_MANAGER, Role.DISTRIBUTOR)
    if role != Role.DISTRIBUTOR or name in {"distribution", "hand-over"}
]


def _form_page(posting: Posting, w: Any) -> str:
    """The address that draws the form (a reversal's form is on the movement's page)."""
    return posting.url(w).removesuffix("reverse/")


@pytest.mark.parametrize(("role", "name"), MAY_POST)
def test_after_a_posting_each_role_lands_on_a_page_it_may_open_with_what_was_posted(
    stocked,  # noqa: F811
    waybill,  # noqa: F811
    web_as,  # noqa: F811
    role,
    name,
):
    # given a hub and its distribution point with stock, a waybill on its way to the hub, and a user
    # of the role at them (docs/roles.md)
    w = SimpleNamespace(**vars(stocked), waybill=waybill)
    posting = POSTINGS[name]
    posting.given(w)
    client = web_as(role)
    form = client.get(_form_page(posting, w))
    assert form.status_code == 200
    before = Movement.objects.count()
    # when the user posts the form
    answer = client.post(posting.url(w), posting.data(w, hidden_key(form)), follow=True)
    # then it is posted once, and the page the user lands on opens (no 403), topped by the message
    # naming what was posted
    assert Movement.objects.count() == before + 1
    assert answer.status_code == 200, (answer.redirect_chain, text(answer)[:300])
    movement = Movement.objects.latest("pk")
    message = re.search(r'<p class="message message-success">([^<]*)</p>', text(answer))
    assert message is not None
    assert message[1].startswith(posting.shows)
    landed = answer.redirect_chain[-1][0]
    if role == Role.DISTRIBUTOR:
        # a distributor may not see stock: back to the posting menu
        assert landed == reverse("stock:post-menu")
        assert "does not see the stock pages" in text(answer)
    elif movement.kind == MovementKind.DISPATCH:
        assert landed == reverse("stock:waybill-detail", args=[Waybill.objects.latest("pk").pk])
    else:
        assert landed == reverse("stock:movement-detail", args=[movement.pk])


def test_a_distributors_message_names_the_movement_and_its_quantities(stocked, web_as):  # noqa: F811
    client = web_as(Role.DISTRIBUTOR)
    key = hidden_key(client.get(reverse("stock:post-distribution")))
    w = SimpleNamespace(**vars(stocked))
    # when a distributor posts a distribution of 25 blankets at their point
    answer = client.post(
        reverse("stock:post-distribution"), POSTINGS["distribution"].data(w, key), follow=True
    )
    # then the posting menu says which movement it is and what went out
    movement = Movement.objects.get(kind=MovementKind.DISTRIBUTION)
    assert answer.redirect_chain == [(reverse("stock:post-menu"), 302)]
    assert (
        f"Posted distribution #{movement.pk} (DIST-WALK) at Garhi Habibullah point: 1 item: 25 BLANKET."
        in text(answer)
    )
    assert on_hand(stocked.point, stocked.blanket) == 75
    # and the same form sent again (a double click) posts nothing more, and says so on the menu
    again = client.post(
        reverse("stock:post-distribution"), POSTINGS["distribution"].data(w, key), follow=True
    )
    assert again.redirect_chain == [(reverse("stock:post-menu"), 302)]
    assert f"Already posted as distribution #{movement.pk} (DIST-WALK): nothing changed." in text(again)
    assert on_hand(stocked.point, stocked.blanket) == 75
