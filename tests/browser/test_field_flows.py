"""The field's daily work in a real browser, as a tablet or a phone shows it: sign in, dispatch a
waybill and confirm it arrived short, hand a household its package by card token, upload a 4W file
with a bad row and read what is wrong with it, download a list; the pages fit a tablet and a phone
and can be worked from the keyboard alone. Screenshots of these pages are taken by
docs/screenshots/take.py, not here."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from playwright.sync_api import expect

from reliefops.core.roles import Role
from reliefops.households.cards import printed
from reliefops.households.models import Handover, HouseholdCard
from reliefops.households.services import cards_issue
from reliefops.stock.models import Balance, LocationKind, Movement, MovementKind, Waybill, WaybillStatus
from reliefops.stock.services import ReceiptLine, stock_receive
from tests.browser.fixtures import PASSWORD
from tests.cluster.conftest import cluster, four_w_csv, row  # noqa: F401 - the cluster fixture is used
from tests.factories import make_user
from tests.households import conftest as households_conftest
from tests.jobs_worker import worker_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


def sign_in(page, user) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".site-header")).to_contain_text(user.username)


def sideways_overflow(page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_a_hub_manager_dispatches_a_waybill_and_confirms_it_arrived_short(kashmir, page):
    # given 200 blankets at Mansehra hub, and a manager of Mansehra and Balakot on a tablet
    stock_receive(
        actor=None,
        site_id=kashmir.mansehra_hub.pk,
        grant_id=kashmir.grant_shelter.pk,
        grn_number="GRN-MAN-1",
        received_on=dt.date(2005, 10, 18),
        lines=[ReceiptLine(item_id=kashmir.blanket.pk, quantity=200)],
    )
    manager = make_user(Role.HUB_MANAGER, hubs=[kashmir.mansehra_hub, kashmir.balakot_hub])
    page.set_viewport_size(TABLET)
    sign_in(page, manager)

    # when they dispatch 120 blankets to Balakot
    page.goto("/stock/waybills/new/")
    page.get_by_label("From", exact=True).select_option(str(kashmir.mansehra_hub.pk))
    page.get_by_label("To", exact=True).select_option(str(kashmir.balakot_hub.pk))
    page.get_by_label("Dispatched on").fill("2005-10-20")
    page.get_by_label("Item of line 1").select_option(str(kashmir.blanket.pk))
    page.get_by_label("Quantity, line 1").fill("120")
    page.get_by_role("button", name="Dispatch").click()
    # then the waybill is in transit
    expect(page.locator(".messages")).to_contain_text("dispatched from Mansehra hub to Balakot forward hub")
    waybill = Waybill.objects.get()
    expect(page.get_by_role("heading", level=1)).to_contain_text(waybill.number)

    # when Balakot confirms that 114 arrived and 6 did not
    page.get_by_role("link", name="Confirm delivery").click()
    page.get_by_label("Arrived on").fill("2005-10-22")
    page.get_by_label("Received in good condition, line 1").fill("114")
    why_short = page.get_by_label("Why short, line 1")
    why_short.scroll_into_view_if_needed()
    # (the lines scroll sideways on a tablet: the item they are about stays in sight)
    item = page.locator("table.lines td.line-item").first.bounding_box()
    assert item is not None
    assert 0 <= item["x"] < TABLET["width"]
    why_short.fill("six missing at the Garhi Habibullah checkpoint")
    page.get_by_role("button", name="Confirm the delivery").click()

    # then the waybill is delivered and the six blankets are recorded as lost
    expect(page.locator(".messages")).to_contain_text("delivery")
    waybill.refresh_from_db()
    assert waybill.status == WaybillStatus.DELIVERED
    loss = Balance.objects.get(location__kind=LocationKind.LOSS, item=kashmir.blanket)
    assert loss.quantity == 6
    # and the confirmation (the page it lands on) lists the loss with its reason
    delivery = Movement.objects.get(kind=MovementKind.DELIVERY, waybill=waybill)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"#{delivery.pk}")
    expect(page.locator("main")).to_contain_text("six missing at the Garhi Habibullah checkpoint")
    assert sideways_overflow(page) <= 0


def test_a_distributor_hands_over_a_package_by_card_token(db, signed_in_page):
    # given a household listed in an open round at Bana, its card issued, and stock at the point
    op = households_conftest.build_operation()
    household = households_conftest.register(op)
    households_conftest.receive(op, op.bana, op.cgi, 100, "GRN-1")
    households_conftest.receive(op, op.bana, op.blanket, 100, "GRN-2")
    round_obj = households_conftest.winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    token = printed(HouseholdCard.objects.get(household=household).token)
    # and a distributor of Bana on a phone
    page = signed_in_page(Role.DISTRIBUTOR, distribution_points=[op.bana])
    page.set_viewport_size(PHONE)

    # when they type the card's token and record the handover
    page.goto(f"/households/rounds/{round_obj.pk}/handover/?point={op.bana.code}")
    page.get_by_label("Card token").fill(token)
    page.get_by_label("Collected by").fill("Ali, his son")
    page.get_by_label("On", exact=True).fill("2005-12-01")
    page.get_by_role("button", name="Record the handover").click()

    # then the household got its package, once
    expect(page.locator(".messages")).to_contain_text(f"to household {household.pk}")
    expect(page.locator(".messages")).to_contain_text("10 CGI-SHEET")
    handover = Handover.objects.get(household=household, round=round_obj)
    assert [d.collected_by for d in handover.deliveries.all()] == ["Ali, his son"]
    assert sideways_overflow(page) <= 0
    # and the same card a second time is refused with the reason beside the field
    page.get_by_label("Card token").fill(token)
    page.get_by_label("On", exact=True).fill("2005-12-02")
    page.get_by_role("button", name="Record the handover").click()
    expect(page.get_by_role("alert")).to_contain_text("already")
    assert Handover.objects.filter(household=household, round=round_obj).count() == 1


def test_a_4w_file_with_a_bad_row_is_refused_with_its_row_column_and_reason(
    cluster,  # noqa: F811
    signed_in_page,
    tmp_path,
):
    # given NRC's file: one good row and, on line 4, a district P-code that does not exist
    report = tmp_path / "nrc-4w.csv"
    report.write_bytes(four_w_csv([row(id="NRC-1"), row(id="NRC-2", adm2="PK999")]))
    page = signed_in_page(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    page.set_viewport_size(TABLET)
    # when they upload it
    with worker_thread():
        page.goto("/cluster/upload/")
        page.get_by_label("4W file").set_input_files(str(report))
        page.get_by_role("button", name="Preview the upload").click()
        problems = page.locator("table.problem-table")
        expect(problems).to_be_visible()
    # then the problem names the row, the column and the reason, and nothing is written
    bad = problems.locator("tbody tr").filter(has_text="PK999")
    expect(bad).to_have_count(1)
    expect(bad.locator("td").nth(0)).to_have_text("4")
    expect(bad.locator("td").nth(1)).to_contain_text("adm2")
    from reliefops.cluster.models import ActivityRow

    assert not ActivityRow.objects.exists()


def test_a_filtered_list_downloads_as_csv_with_its_hxl_row(kashmir, signed_in_page, tmp_path):
    # given a coordinator looking at the hubs
    page = signed_in_page(Role.COORDINATOR)
    page.goto("/places/sites/?kind=hub")
    # when they download the list
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "sites.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"), newline="")))
    # then it holds the header, the HXL row and every hub, and nothing else
    assert rows[0][:3] == ["Code", "Name", "Kind"]
    assert rows[1][:3] == ["#loc+code", "#loc+name", "#loc+type"]
    assert sorted(r[0] for r in rows[2:]) == ["HUB-BKT", "HUB-MAN", "HUB-MZD"]


MAIN_PAGES = [
    "/",
    "/places/sites/",
    "/catalog/items/",
    "/stock/",
    "/stock/waybills/",
    "/stock/pipeline/",
    "/households/",
    "/households/registry/",
    "/households/rounds/",
    "/cluster/",
    "/stock/waybills/new/",
    "/households/register/",
    "/cluster/upload/",
]
UNLABELLED = """() => Array.from(document.querySelectorAll(
    'main input:not([type=hidden]), main select, main textarea, main button, header button'))
  .filter(el => el.tagName === 'BUTTON'
    ? !el.textContent.trim() && !el.getAttribute('aria-label')
    : !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
      && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize("screen", [TABLET, PHONE], ids=["tablet", "phone"])
def test_the_main_pages_fit_a_tablet_and_a_phone_without_sideways_scrolling(kashmir, signed_in_page, screen):
    page = signed_in_page(Role.ADMIN)
    page.set_viewport_size(screen)
    for url in MAIN_PAGES:
        response = page.goto(url)
        assert response is not None
        assert response.status < 500, f"{url} answered {response.status}"
        assert sideways_overflow(page) <= 0, f"{url} scrolls sideways on a {screen['width']}px screen"
        assert page.evaluate(UNLABELLED) == [], f"{url} has controls without a label"
    # and the navigation folds behind a Menu button that opens it
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(menu).to_be_visible()
    expect(nav.get_by_role("link", name="Sites")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name="Sites").click()
    expect(page.get_by_role("heading", name="Sites", level=1)).to_be_visible()


def test_the_keyboard_alone_reaches_the_menu_and_a_form(kashmir, signed_in_page):
    page = signed_in_page(Role.VIEWER)
    page.goto("/places/areas/")
    # the first Tab reaches the skip link, shown when focused
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    # Tab on through the header reaches the main menu, with a visible focus ring
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('nav.main-nav') !== null"):
            break
    else:
        pytest.fail("the main menu is not reachable with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    # from the menu, the sites page and its search form, all by keyboard
    for _ in range(6):
        if page.evaluate("document.activeElement.textContent.trim()") == "Sites":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sites", level=1)).to_be_visible()
    search = page.get_by_label("Search")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_q":
            break
    expect(search).to_be_focused()
    page.keyboard.type("Balakot")
    page.keyboard.press("Enter")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("HUB-BKT")


def test_keyboard_focus_on_a_field_or_a_list_shows_the_orange_outline(kashmir, signed_in_page):
    page = signed_in_page(Role.VIEWER)
    page.goto("/places/sites/")
    focus_ring = """() => { const s = getComputedStyle(document.activeElement);
      return [document.activeElement.id, s.outlineStyle, s.outlineWidth, s.outlineColor]; }"""
    # the search field and the area list, each reached with Tab, carry the 3px orange outline (the
    # darker orange of light backgrounds, 3:1 against white)
    for field_id in ("id_q", "id_area"):
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == field_id:
                break
        else:
            pytest.fail(f"{field_id} is not reachable with Tab")
        assert page.evaluate(focus_ring) == [field_id, "solid", "3px", "rgb(194, 98, 10)"]
