"""The household pages in a real browser: registration that shows a likely duplicate before saving,
the registry as a registrar and as a distributor, a round planned with its list and printed cards,
and a registration corrected. (The handover by card token is in test_field_flows.py.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from reliefops.core.roles import Role
from reliefops.households.cards import printed
from reliefops.households.models import (
    DistributionRound,
    DuplicatePair,
    Household,
    HouseholdCard,
    HouseholdImport,
    ImportStatus,
)
from reliefops.households.services import cards_issue, handover_record, pair_decide
from tests.households.conftest import (
    DAY,
    build_operation,
    receive,
    register,
    register_three_sons_and_one_other,
    winter_round,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def op(transactional_db):
    """The households tests' operation (Allai and Bala Kot, their points, a camp), committed so
    that the live server sees it."""
    return build_operation()


def test_registration_shows_a_likely_duplicate_before_saving(op, signed_in_page):
    # given a registered household
    existing = register(op)
    page = signed_in_page(Role.REGISTRAR)
    # when the same family is typed in again, spelt otherwise and without its card
    page.goto("/households/register/")
    page.get_by_label("Head's name", exact=True).fill("Mohd Aslam")
    page.get_by_label("Father's or husband's name", exact=True).fill("Ghulam Rasool")
    page.get_by_label("Male", exact=True).check()
    page.get_by_label("Identity document", exact=True).select_option("none")
    page.get_by_label("Phone", exact=True).fill("0300-1234567")
    page.get_by_label("Origin", exact=True).fill("Banna")
    page.get_by_label("Village", exact=True).fill("Batkul")
    page.get_by_label("Women 18-59", exact=True).fill("1")
    page.get_by_label("Men 18-59", exact=True).fill("1")
    page.get_by_label("House", exact=True).select_option("destroyed")
    page.get_by_label("The head agrees").check()
    page.get_by_role("button", name="Check and register").click()
    # then nothing is saved and the registered household is shown, with why it looks the same
    warning = page.locator("#likely-duplicates")
    expect(warning).to_contain_text("Nothing was saved")
    expect(warning.get_by_role("link", name="Muhammad Aslam")).to_have_attribute(
        "href", f"/households/{existing.pk}/"
    )
    expect(warning).to_contain_text("same phone")
    assert Household.objects.count() == 1
    # and when the registrar judges it another household, it is registered, the pair queued
    page.get_by_role("button", name="It is another household: register it").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mohd Aslam")
    expect(page.locator(".messages")).to_contain_text("went to the review queue")
    assert Household.objects.count() == 2


def test_a_search_by_name_never_appears_in_an_address(op, signed_in_page, monkeypatch):
    # given three households of one father's name, two to a page, and one other
    monkeypatch.setattr("reliefops.web.pages.PAGE_SIZE", 2)
    monkeypatch.setattr("reliefops.households.views.registry.PAGE_SIZE", 2)
    register_three_sons_and_one_other(op)
    page = signed_in_page(Role.REGISTRAR)
    # and every address the page is at, asks for, or sends as its Referer, watched
    addresses: list[str] = []
    page.on("framenavigated", lambda frame: addresses.append(frame.url) if frame == page.main_frame else None)
    page.on("request", lambda request: addresses.extend([request.url, request.headers.get("referer", "")]))
    page.goto("/households/registry/")
    expect(page.locator("#results")).to_contain_text("Sher Zaman")
    # when the registrar types a father's name into the search box (searching as they type)
    page.get_by_label("Search").fill("Ghulam Rasool")
    expect(page.locator("#results")).not_to_contain_text("Sher Zaman")
    expect(page.locator("#results .summary")).to_contain_text("3")
    expect(page).to_have_url(re.compile(r"/households/registry/\?s=[\w-]+$"))
    searched = page.url
    # and goes to the next page of what was found, and back, and back again
    page.get_by_role("link", name=re.compile("^Next")).click()
    expect(page).to_have_url(re.compile(r"s=[\w-]+&page=2$"))
    expect(page.locator("#results")).to_contain_text("Son")
    page.go_back()
    expect(page).to_have_url(searched)
    expect(page.get_by_label("Search")).to_have_value("Ghulam Rasool")
    expect(page.locator("#results")).not_to_contain_text("Sher Zaman")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/households/registry/$"))
    expect(page.locator("#results")).to_contain_text("Sher Zaman")
    page.go_forward()
    expect(page).to_have_url(searched)
    # and searches again with the button
    page.get_by_label("Search").fill("Ghulam Rasool")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results")).not_to_contain_text("Sher Zaman")
    # then no address the browser was at, asked for, or sent as its Referer holds the name
    history = page.evaluate("history.length")
    assert history >= 3
    assert addresses
    leaked = [a for a in addresses if re.search(r"ghulam|rasool", a, re.I)]
    assert leaked == []


def test_the_registry_shows_cnic_and_phone_to_a_registrar_and_not_to_a_distributor(op, signed_in_page):
    # given a household listed at Bana with a card, and one listed at Raj Pattian
    at_bana = register(op)
    at_raj = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        document_number="13503-7654321-1",
        phone="0301-7654321",
        origin="PK52201",
    )
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    token = printed(HouseholdCard.objects.get(household=at_bana).token)
    # a registrar sees every household with its CNIC and phone
    registrar = signed_in_page(Role.REGISTRAR)
    registrar.goto("/households/registry/")
    table = registrar.locator("#results table")
    expect(table).to_contain_text("13503-1234567-1")
    expect(table).to_contain_text("+923001234567")
    expect(table).to_contain_text("Sher Zaman")
    # a distributor at Bana sees Bana's household by name and card token only
    distributor = signed_in_page(Role.DISTRIBUTOR, distribution_points=[op.bana])
    distributor.goto("/households/registry/")
    expect(distributor.get_by_role("heading", level=1)).to_have_text("Households at your points")
    rows = distributor.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Muhammad Aslam")
    expect(rows.first).to_contain_text(token)
    text = distributor.locator("main").inner_text()
    assert at_raj.head_name not in text
    for personal in ("13503", "1234567", "+92"):
        assert personal not in text
    # and the search, typed as a distributor types it, narrows the list without a page load
    distributor.get_by_label("Search").fill("nobody of that name")
    expect(distributor.locator("#results tbody tr")).to_have_count(0)


def test_a_round_is_planned_listed_and_its_list_and_cards_opened(op, signed_in_page):
    # given two households above 5,000 ft whose houses were destroyed: one of Allai, one of Bala Kot
    register(op)
    register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        document_number="13503-7654321-1",
        phone="",
        origin="PK52201",
    )
    page = signed_in_page(Role.REGISTRAR)
    # when the registrar plans a round at Bana for blankets, makes its list and issues cards
    page.goto("/households/rounds/new/")
    page.get_by_label("Code", exact=True).fill("WR-B1")
    page.get_by_label("Name", exact=True).fill("Winter Race at Bana")
    page.get_by_label("From", exact=True).fill("2005-11-14")
    page.get_by_label("To", exact=True).fill("2006-01-31")
    page.get_by_label("Bana helipad (DP-BANA)").check()
    page.get_by_label("Item, line 1", exact=True).select_option(label="Blanket (BLANKET)")
    page.get_by_label("Per member, line 1", exact=True).fill("2")
    page.get_by_label("At most, line 1", exact=True).fill("10")
    page.get_by_role("button", name="Plan the round").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("WR-B1")
    page.get_by_role("button", name="Make the distribution list").click()
    expect(page.locator(".messages")).to_contain_text("1")
    page.get_by_role("button", name=re.compile("Issue cards")).click()
    expect(page.locator(".messages")).to_contain_text("1 card issued")
    round_obj = DistributionRound.objects.get(code="WR-B1")
    token = printed(HouseholdCard.objects.get().token)
    # then the distribution list shows Bana's household with its card and what it is due
    page.get_by_role("link", name="Distribution list").click()
    expect(page).to_have_url(re.compile(f"/households/rounds/{round_obj.pk}/list/"))
    expect(page.locator("main")).to_contain_text("Muhammad Aslam")
    expect(page.locator("main")).to_contain_text(token)
    expect(page.locator("main")).not_to_contain_text("Sher Zaman")  # no point of the round serves him
    # and the printable cards carry the name, the token and its QR code
    page.goto(f"/households/rounds/{round_obj.pk}/")
    page.get_by_role("link", name="Print cards").click()
    expect(page.locator("main")).to_contain_text(token)
    expect(page.locator("main svg").first).to_be_visible()


def test_the_planning_form_s_lists_show_their_choices_without_scrolling(op, signed_in_page, tmp_path):
    # given a round already planned (one to leave out) and the six areas of the gazetteer
    winter_round(op)
    page = signed_in_page(Role.REGISTRAR)
    # when the registrar opens the planning form and chooses two areas
    page.goto("/households/rounds/new/")
    areas = page.get_by_label("Households from", exact=True)
    areas.select_option(label=["Allai (PK50401)", "Bala Kot (PK52201)"])
    page.screenshot(path=str(tmp_path / "round-form.png"), full_page=True)
    # then each list is as tall as its choices (two rows at least, eight at most): every choice,
    # and every one chosen, is seen without scrolling the list
    for label, rows in (("Households from", 6), ("Not served in", 2)):
        listed = page.get_by_label(label, exact=True)
        expect(listed).to_have_attribute("size", str(rows))
        heights = listed.evaluate("el => [el.scrollHeight, el.clientHeight, el.options[0].offsetHeight]")
        assert heights[0] <= heights[1], (label, heights)
        assert heights[1] >= rows * heights[2], (label, heights)


def test_a_registrar_corrects_a_household_from_its_page(op, signed_in_page):
    # given a household registered without its youngest child
    household = register(op, members={"males_0_5": 0})
    page = signed_in_page(Role.REGISTRAR)
    page.goto(f"/households/{household.pk}/")
    # when the registrar opens the correction, adds the child and a new phone, and says why
    page.get_by_role("link", name="Correct the registration").click()
    expect(page.get_by_label("Document number", exact=True)).to_have_value("13503-1234567-1")
    page.get_by_label("Boys 0-5", exact=True).fill("1")
    page.get_by_label("Phone", exact=True).fill("0345-7654321")
    page.get_by_label("Why it is corrected").fill("the baby was not counted; new phone")
    page.get_by_role("button", name="Check and save the correction").click()
    # then the household page says what changed, and lists the correction with its reason
    expect(page.locator(".messages")).to_contain_text("corrected: phone, boys 0-5")
    corrections = page.locator("section", has=page.get_by_role("heading", name=re.compile("Corrections")))
    expect(corrections).to_contain_text("the baby was not counted; new phone")
    household.refresh_from_db()
    assert (household.size, household.phone) == (4, "+923457654321")


def test_a_printed_distribution_list_has_every_household_and_every_column_on_a4(
    op, signed_in_page, monkeypatch
):
    # given a round whose list runs over more than one page on screen
    monkeypatch.setattr("reliefops.households.views.LIST_PER_PAGE", 1)
    register(op)
    register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        document_number="13503-7654321-1",
        phone="",
    )
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    page = signed_in_page(Role.REGISTRAR)
    page.goto(f"/households/rounds/{round_obj.pk}/list/?point=DP-BANA")
    expect(page.locator("main tbody tr")).to_have_count(1)
    # when the registrar opens the list to print
    page.get_by_role("link", name="Print all 2 households").click()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    # then the printable list holds both households, and on an A4 sheet (794 px less its margins)
    # no column is cut off: the signature column ends inside the sheet
    page.set_viewport_size({"width": 718, "height": 1000})
    page.emulate_media(media="print")
    expect(page.locator("main tbody tr")).to_have_count(2)
    width = page.evaluate("document.documentElement.clientWidth")
    signature = page.get_by_role("columnheader", name="Collected by (signature)").bounding_box()
    assert signature is not None
    assert signature["x"] + signature["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.get_by_role("button", name="Print").is_hidden()


def test_the_household_pages_do_not_scroll_sideways_on_a_phone(op, signed_in_page):
    # given a pair of likely duplicates, a round with its list, and a registration file checked
    existing = register(op)
    register(op, head_name="Mohd Aslam", document_type="none", document_number="", seen=[existing.pk])
    # and a family registered twice that received the round twice, merged since: a double receipt
    first = register(op, head_name="Gul Zareen Bibi", document_number="13503-7777777-2", head_sex="female")
    again = register(
        op, head_name="Gul Zarina Bibi", document_type="none", document_number="", head_sex="female"
    )
    round_obj = winter_round(op)
    receive(op, op.bana, op.cgi, 100, "GRN-1")
    receive(op, op.bana, op.blanket, 100, "GRN-2")
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    for household in (first, again):
        handover_record(
            actor=op.distributor,
            round_id=round_obj.pk,
            point_site_id=op.bana.pk,
            household_id=household.pk,
            collected_by="Gul Zareen Bibi, the head of the household, with her son",
            handed_on=DAY,
        )
    pair = DuplicatePair.objects.get(first=first, second=again)
    pair_decide(actor=op.registrar, pair_id=pair.pk, same=True, survivor_id=first.pk)
    HouseholdImport.objects.create(
        filename="nrc-batagram-registration-2005-11-20.csv", status=ImportStatus.PREVIEWED, rows=1500
    )
    page = signed_in_page(Role.REGISTRAR)
    # when each page is opened on a 375 px phone, then none is wider than the screen
    page.set_viewport_size({"width": 375, "height": 740})
    wider = {}
    page.goto(f"/households/rounds/{round_obj.pk}/")
    expect(page.get_by_role("heading", name=re.compile("Double receipts"))).to_be_visible()
    for path in (
        f"/households/rounds/{round_obj.pk}/",
        "/households/rounds/new/",
        "/households/import/",
        "/households/duplicates/",
    ):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            wider[path] = width
    # and the handover page, with the households found by name, as a distributor at Bana
    distributor = signed_in_page(Role.DISTRIBUTOR, distribution_points=[op.bana])
    distributor.set_viewport_size({"width": 375, "height": 740})
    distributor.goto(f"/households/rounds/{round_obj.pk}/handover/")
    distributor.get_by_label("Find a listed household").fill("aslam")
    distributor.get_by_role("button", name="Find").click()
    expect(distributor.get_by_role("link", name="Choose").first).to_be_attached()
    width = distributor.evaluate("document.documentElement.scrollWidth")
    if width > 375:
        wider["handover"] = width
    assert wider == {}
