"""The pipeline page's pledges: cancelling one the donor will not send, from the page, for a reason;
and the pledges received in full or beyond what was pledged, which a donor-relations officer reads."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.core.text import day_text
from reliefops.stock.models import Pledge, PledgeStatus
from reliefops.stock.services import ReceiptLine, pledge_create, stock_receive
from tests.stock.conftest import DAY, snapshot
from tests.stock.entrypoints.test_views import messages_of, text


def pledge(op, quantity=1000, reference="DFID-PL-77", site=None) -> Pledge:
    return pledge_create(
        actor=op.actor,
        grant_id=op.dfid.pk,
        item_id=op.blanket.pk,
        quantity=quantity,
        destination_site_id=(site or op.hub).pk,
        expected_on=DAY,
        reference=reference,
    )


def receive_against(op, p: Pledge, quantity: int, grn: str) -> None:
    stock_receive(
        actor=op.actor,
        site_id=p.destination_id,
        grant_id=op.dfid.pk,
        grn_number=grn,
        received_on=DAY,
        pledge_id=p.pk,
        lines=[ReceiptLine(item_id=op.blanket.pk, quantity=quantity)],
    )


def cancel_url(p: Pledge) -> str:
    return reverse("stock:pledge-cancel", args=[p.pk])


# --- cancelling a pledge ----------------------------------------------------------------------------


def test_the_pipeline_offers_cancelling_only_the_pledges_the_user_may_cancel(op, web_as):
    # given a pledge to the hub (the hub manager's) and one to the warehouse (not theirs)
    to_hub = pledge(op)
    to_warehouse = pledge(op, reference="DFID-PL-78", site=op.warehouse)
    # then the hub manager may cancel the hub's, a coordinator (who may not post stock) neither,
    # and an administrator both
    manager = text(web_as(Role.HUB_MANAGER).get(reverse("stock:pipeline")))
    assert cancel_url(to_hub) in manager
    assert cancel_url(to_warehouse) not in manager
    coordinator = text(web_as(Role.COORDINATOR).get(reverse("stock:pipeline")))
    assert "DFID-PL-78" in coordinator
    assert "/cancel/" not in coordinator
    admin = text(web_as(Role.ADMIN).get(reverse("stock:pipeline")))
    assert cancel_url(to_hub) in admin
    assert cancel_url(to_warehouse) in admin


def test_the_cancel_page_asks_why_and_posting_it_cancels_the_pledge(op, web_as):
    # given a pledge of 1,000 blankets of which 600 arrived
    p = pledge(op)
    receive_against(op, p, 600, "GRN-1")
    client = web_as(Role.HUB_MANAGER)
    # when the hub manager opens its page
    page = text(client.get(cancel_url(p)))
    # then it shows the pledge, asks why, posts with a CSRF token, and says what will not come
    assert f"Cancel pledge {p.pk}" in page
    assert "DFID-PL-77" in page
    assert 'name="reason"' in page
    assert re.search(r'<form method="post"[^>]*action="' + re.escape(cancel_url(p)) + '"', page)
    assert "csrfmiddlewaretoken" in page
    assert "The other 400 will no longer be expected." in page
    assert "Cancel the pledge</button>" in page
    # when they post it with a reason
    response = client.post(cancel_url(p), {"reason": "  donor sent the rest to Muzaffarabad "})
    # then the pledge is cancelled for that reason, the pipeline no longer lists it, and it says so
    assert response.status_code == 302
    assert response.url == reverse("stock:pipeline")
    assert messages_of(response) == [
        f"Pledge {p.pk} (DFID-PL-77) cancelled: 600 of 1,000 blankets received; the other 400 will not come."
    ]
    p.refresh_from_db()
    assert (p.status, p.cancel_reason) == (PledgeStatus.CANCELLED, "donor sent the rest to Muzaffarabad")
    event = AuditEvent.objects.get(action="stock.pledge_cancel", object_id=str(p.pk))
    assert event.after["not_coming"] == 400
    assert cancel_url(p) not in text(client.get(reverse("stock:pipeline")))


def test_a_double_click_cancels_once_and_the_second_post_says_so(op, web_as):
    p = pledge(op)
    client = web_as(Role.HUB_MANAGER)
    first = client.post(cancel_url(p), {"reason": "not coming"})
    assert messages_of(first) == [f"Pledge {p.pk} (DFID-PL-77) cancelled: the 1,000 blankets will not come."]
    client.get(first.url)  # the pipeline, where the browser goes, shows the message
    p.refresh_from_db()
    before = (snapshot(), p.cancelled_at, AuditEvent.objects.count())
    # when the same form is posted again
    again = client.post(cancel_url(p), {"reason": "not coming"})
    # then nothing changes and the user is told it was already cancelled
    assert again.status_code == 302
    assert messages_of(again) == [f"Pledge {p.pk} (DFID-PL-77) was already cancelled: nothing changed."]
    p.refresh_from_db()
    assert (snapshot(), p.cancelled_at, AuditEvent.objects.count()) == before
    # and posted with another reason (a page opened earlier), it is refused, saying when and why
    other = client.post(cancel_url(p), {"reason": "something else"})
    assert other.status_code == 409
    on = day_text(timezone.localdate(p.cancelled_at))
    assert f"pledge {p.pk} was already cancelled on {on}: not coming" in text(other)
    assert "Nothing was changed." in text(other)
    p.refresh_from_db()
    assert p.cancel_reason == "not coming"
    # and the page of a cancelled pledge offers no form
    page = text(client.get(cancel_url(p)))
    assert "It cannot be cancelled again." in page
    assert "Cancel the pledge</button>" not in page


def test_a_cancellation_without_a_reason_is_refused_beside_the_field(op, web_as):
    p = pledge(op)
    response = web_as(Role.HUB_MANAGER).post(cancel_url(p), {"reason": "   "})
    assert response.status_code == 422
    assert re.search(r'field-reason[^"]* has-error">.*say why the pledge is cancelled', text(response), re.S)
    p.refresh_from_db()
    assert p.status == PledgeStatus.OPEN


def test_a_pledge_received_in_full_is_not_cancelled_from_the_page(op, web_as):
    p = pledge(op, quantity=10)
    receive_against(op, p, 12, "GRN-1")
    client = web_as(Role.HUB_MANAGER)
    assert "nothing is left to cancel" in text(client.get(cancel_url(p)))
    response = client.post(cancel_url(p), {"reason": "not needed"})
    assert response.status_code == 409
    p.refresh_from_db()
    assert p.status == PledgeStatus.RECEIVED


@pytest.mark.parametrize(
    ("role", "site", "status"),
    [
        pytest.param(Role.HUB_MANAGER, "warehouse", 404, id="another-hubs-pledge-is-not-found"),
        pytest.param(Role.COORDINATOR, "hub", 403, id="who-may-not-post-stock-is-refused"),
        pytest.param(Role.VIEWER, "hub", 403, id="a-viewer-is-refused"),
    ],
)
def test_only_who_may_post_stock_at_its_destination_cancels_from_the_page(op, web_as, role, site, status):
    p = pledge(op, site=getattr(op, site))
    client = web_as(role)
    assert client.get(cancel_url(p)).status_code == status
    assert client.post(cancel_url(p), {"reason": "x"}).status_code == status
    p.refresh_from_db()
    assert p.status == PledgeStatus.OPEN


def test_a_cancellation_needs_its_csrf_token(op, web_as):
    from django.test import Client

    from tests.factories import make_user
    from tests.stock.entrypoints.conftest import scope_at

    p = pledge(op)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.HUB_MANAGER, **scope_at(op, Role.HUB_MANAGER)))
    assert client.post(cancel_url(p), {"reason": "not coming"}).status_code == 403
    p.refresh_from_db()
    assert p.status == PledgeStatus.OPEN


# --- pledges received in full or more -----------------------------------------------------------------


def test_the_pipeline_counts_the_pledges_received_and_marks_those_received_beyond_the_pledge(op, web_as):
    # given a pledge received beyond what was pledged, one received in full, one still open, and one
    # received in full at a site the user does not see
    over = pledge(op, quantity=1000, reference="DFID-PL-1")
    receive_against(op, over, 600, "GRN-1")
    receive_against(op, over, 450, "GRN-2")
    exact = pledge(op, quantity=200, reference="DFID-PL-2")
    receive_against(op, exact, 200, "GRN-3")
    still_open = pledge(op, quantity=300, reference="DFID-PL-3")
    elsewhere = pledge(op, quantity=10, reference="DFID-PL-4", site=op.warehouse)
    receive_against(op, elsewhere, 15, "GRN-4")
    client = web_as(Role.HUB_MANAGER)
    # when the hub manager opens the pipeline
    body = text(client.get(reverse("stock:pipeline")))
    # then the open pledge is listed as before, and the received ones are counted, the over-received said
    assert "DFID-PL-3" in body
    assert re.search(r'Pledges received <span class="count">2</span>', body)
    assert "1 pledge received beyond what was pledged." in body
    assert "DFID-PL-1" not in body
    # when they ask for the pledges received
    shown = text(client.get(reverse("stock:pipeline"), {"pledges": "received"}))
    # then each says what arrived against what was pledged, and by how much more
    assert "received: 1,050 of 1,000 pledged, " in shown
    assert '<span class="tag tag-over">50 over</span>' in shown
    rows = re.findall(r"<tr>\s*<td class=\"code\">DFID-2005-07</td>(.*?)</tr>", shown, re.S)
    assert len(rows) == 2
    assert "DFID-PL-2" in shown
    assert "received in full" in shown
    assert "DFID-PL-4" not in shown  # the warehouse's is not theirs to see
    assert still_open.status == PledgeStatus.OPEN


def test_the_download_of_the_pledges_received_says_how_many_more_than_pledged(op, web_as):
    import csv
    import io

    over = pledge(op, quantity=1000)
    receive_against(op, over, 1050, "GRN-1")
    response = web_as(Role.COORDINATOR).get(reverse("stock:pipeline"), {"format": "csv", "part": "received"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    found = [dict(zip(rows[0], row, strict=True)) for row in rows[2:]]
    assert [(r["Reference"], r["Pledged"], r["Received"], r["More than pledged"]) for r in found] == [
        ("DFID-PL-77", "1000", "1050", "50")
    ]


def test_the_receipt_form_names_each_open_pledge_as_the_messages_do(op, web_as):
    # given a pledge of 1,000 blankets to the hub, 600 of them received
    p = pledge(op)
    receive_against(op, p, 600, "GRN-1")
    # when the hub manager opens the receipt form
    body = text(web_as(Role.HUB_MANAGER).get(reverse("stock:post-receipt")))
    # then "Fulfils pledge" offers no pledge first, then the pledge by its number and the donor's
    # reference (as "Pledge 3 (DFID-PL-77) cancelled" names it), with what is still to come
    options = re.findall(
        r"<option value=\"(\d*)\"[^>]*>([^<]*)</option>", body.split('name="pledge"')[1].split("</select>")[0]
    )
    assert options == [
        ("", "No pledge"),
        (str(p.pk), f"Pledge {p.pk} (DFID-PL-77) · DFID-2005-07: 400 BLANKET to Balakot hub"),
    ]
