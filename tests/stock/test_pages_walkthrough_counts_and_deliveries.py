"""The count sheet offers one choice for a surplus of no known donor, and a delivery's excess says
why it enters from "Count adjustment"."""

from __future__ import annotations

import re

from django.urls import reverse

from reliefops.core.roles import Role
from reliefops.stock.models import LocationKind, MovementKind
from reliefops.stock.services import unattributed_grant
from tests.stock.conftest import on_hand
from tests.stock.entrypoints.conftest import stocked, waybill, web_as  # noqa: F401
from tests.stock.entrypoints.test_views import form_data, hidden_key, text


def surplus_choices(body: str, line: int = 0) -> list[tuple[str, str]]:
    """(value, label) of each choice of a count line's surplus grant."""
    select = re.search(rf'<select name="lines-{line}-surplus_grant"[^>]*>(.*?)</select>', body, re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select[1])


def test_the_count_sheet_offers_one_unattributed_choice_clearly_labelled(stocked, web_as):  # noqa: F811
    # given the UNATTRIBUTED grant, made by an earlier count's surplus of no named grant
    unattributed_grant()
    client = web_as(Role.HUB_MANAGER)
    # when the hub's count sheet is drawn
    body = text(client.get(reverse("stock:post-count"), {"site": stocked.hub.pk}))
    choices = surplus_choices(body)
    # then the surplus grant offers "unattributed" once, as its empty choice, and the donors' grants
    unattributed = [(value, label) for value, label in choices if "unattributed" in label.lower()]
    assert unattributed == [("", "UNATTRIBUTED (donor unknown)")]
    assert [label for _, label in choices[1:]] == ["DFID-2005-07", "ECHO-2005-01"]


def test_a_surplus_left_unattributed_goes_to_the_unattributed_grant(stocked, web_as):  # noqa: F811
    client = web_as(Role.HUB_MANAGER)
    page = client.get(reverse("stock:post-count"), {"site": stocked.hub.pk})
    # when 210 blankets are counted where 200 are on record, the surplus grant left as offered
    response = client.post(
        reverse("stock:post-count") + f"?site={stocked.hub.pk}",
        form_data(
            {"idempotency_key": hidden_key(page), "site": stocked.hub.pk, "counted_on": "2005-10-30"},
            [
                {"item": stocked.blanket.pk, "counted": 210, "surplus_grant": ""},
                {"item": stocked.bucket.pk, "counted": "", "surplus_grant": ""},
            ],
            initial=2,
        ),
    )
    # then the 10 found go to UNATTRIBUTED
    assert response.status_code == 302
    assert on_hand(stocked.hub, stocked.blanket, unattributed_grant()) == 10


def test_a_delivery_with_an_excess_says_why_it_comes_from_count_adjustment(waybill, web_as):  # noqa: F811
    client = web_as(Role.HUB_MANAGER)
    url = reverse("stock:waybill-confirm", args=[waybill.pk])
    page = client.get(url)
    # given the confirmation form, which says where an excess goes before it is posted
    assert "the excess enters the site as UNATTRIBUTED stock (donor unknown), from Count adjustment" in text(
        page
    )
    item = waybill.movements.get(kind=MovementKind.DISPATCH).lines.get().item_id
    # when 125 of the 120 blankets sent arrive, and the excess is explained
    answer = client.post(
        url,
        form_data(
            {"idempotency_key": hidden_key(page), "delivered_on": "2005-10-22", "excess_reason": "5 extra"},
            [{"item": item, "received": 125, "damaged": 0, "damage_reason": "", "short_reason": ""}],
            initial=1,
        ),
        follow=True,
    )
    # then the 5 extra enter from the count adjustment location, and the delivery's page says why
    delivery = waybill.movements.get(kind=MovementKind.DELIVERY)
    assert delivery.lines.filter(from_location__kind=LocationKind.COUNT_ADJUSTMENT).get().quantity == 5
    body = text(answer)
    assert "More arrived than the waybill lists: the excess entered the site as" in body
    assert "whether a count found it or it came on a delivery" in body


def test_a_delivery_s_goods_received_note_lists_an_accepted_excess_against_the_waybill(waybill, web_as):  # noqa: F811
    client = web_as(Role.HUB_MANAGER)
    url = reverse("stock:waybill-confirm", args=[waybill.pk])
    page = client.get(url)
    item = waybill.movements.get(kind=MovementKind.DISPATCH).lines.get().item_id
    # given 125 of the 120 blankets sent arrived, the 5 extra accepted
    client.post(
        url,
        form_data(
            {
                "idempotency_key": hidden_key(page),
                "delivered_on": "2005-10-22",
                "excess_reason": "5 extra loaded",
            },
            [{"item": item, "received": 125, "damaged": 0, "damage_reason": "", "short_reason": ""}],
            initial=1,
        ),
    )
    delivery = waybill.movements.get(kind=MovementKind.DELIVERY)
    # when its goods received note is printed
    body = text(client.get(reverse("stock:movement-grn", args=[delivery.pk])))
    received, rest = re.split(r"<h2[^>]*>Received over the waybill \(excess accepted\)</h2>", body)
    # then the waybill's 120 are received in good condition, the 5 alone and unattributed ...
    assert re.search(r'DFID-2005-07</td>\s*<td class="num">120</td>', received)
    assert "UNATTRIBUTED" not in received
    # ... and the 5 are listed apart, as an excess over the 120 dispatched, with the reason given
    excess = re.search(r'<table class="lines excess"[^>]*>.*?</table>', rest, re.S)
    assert excess is not None
    # (its column heads are each a column's, for a screen reader, as the note's other tables')
    heads = re.findall(r"<th\b[^>]*>", excess[0])
    assert len(heads) == 7
    assert all('scope="col"' in head for head in heads)
    assert re.search(
        r'BLANKET</span> Blanket</td><td class="num">120</td><td class="num">5</td><td>piece</td>'
        r'<td class="code">UNATTRIBUTED</td><td>5 extra loaded</td>',
        excess[0],
    )


def test_a_delivery_without_an_excess_has_no_such_note(waybill, web_as):  # noqa: F811
    client = web_as(Role.HUB_MANAGER)
    url = reverse("stock:waybill-confirm", args=[waybill.pk])
    page = client.get(url)
    item = waybill.movements.get(kind=MovementKind.DISPATCH).lines.get().item_id
    answer = client.post(
        url,
        form_data(
            {"idempotency_key": hidden_key(page), "delivered_on": "2005-10-22", "excess_reason": ""},
            [{"item": item, "received": 120, "damaged": 0, "damage_reason": "", "short_reason": ""}],
            initial=1,
        ),
        follow=True,
    )
    assert answer.status_code == 200
    assert "More arrived than the waybill lists" not in text(answer)


def test_a_delivery_reversed_then_confirmed_again_shows_the_one_that_stands(waybill, web_as):  # noqa: F811
    import datetime as dt

    from reliefops.stock.services import DeliveryLine, movement_reverse, waybill_confirm_delivery

    hub = web_as(Role.HUB_MANAGER)
    item = waybill.movements.get(kind=MovementKind.DISPATCH).lines.get().item_id
    actor = waybill.movements.get(kind=MovementKind.DISPATCH).posted_by
    day = dt.date(2005, 10, 22)
    # given a delivery confirmed in full, reversed (a mistake), then confirmed again with 20 short
    first = waybill_confirm_delivery(
        actor=actor, waybill_id=waybill.pk, delivered_on=day, lines=[DeliveryLine(item_id=item, received=120)]
    ).movement
    movement_reverse(
        actor=actor, movement_id=first.pk, reason="confirmed in full by mistake", reversed_on=day
    )
    second = waybill_confirm_delivery(
        actor=actor,
        waybill_id=waybill.pk,
        delivered_on=day,
        lines=[DeliveryLine(item_id=item, received=100, short_reason="stolen on the road")],
    ).movement
    # then the waybill's confirmation page names the delivery that stands, and links to its note
    page = hub.get(reverse("stock:waybill-confirm", args=[waybill.pk])).content.decode()
    links = re.findall(r'href="(/stock/movements/\d+/[a-z/]*)"', page)
    assert reverse("stock:movement-grn", args=[second.pk]) in links
    assert reverse("stock:movement-detail", args=[second.pk]) in links
    assert not {
        reverse("stock:movement-grn", args=[first.pk]),
        reverse("stock:movement-detail", args=[first.pk]),
    } & set(links)
    # and the reversed delivery's note says it is void, and which note stands
    void = hub.get(reverse("stock:movement-grn", args=[first.pk])).content.decode()
    assert "Void: reversed." in void
    assert "confirmed in full by mistake" in void
    assert reverse("stock:movement-grn", args=[second.pk]) in void
    # while the note of the delivery that stands is not marked
    assert "Void" not in hub.get(reverse("stock:movement-grn", args=[second.pk])).content.decode()
