"""The household pages: counts for all, personal data for registrars (audited), the registration
form that shows likely duplicates before saving, imports, the review queue, rounds, distribution
lists and cards, and the handover page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.households.cards import check_character, printed
from reliefops.households.models import (
    DistributionRound,
    DuplicatePair,
    Household,
    HouseholdCard,
    HouseholdImport,
    HouseholdStatus,
    RoundStatus,
)
from reliefops.households.services import (
    PackageInput,
    PointInput,
    cards_issue,
    handover_record,
    handovers,
    household_import_commit,
    household_import_preview,
    household_merge,
)
from reliefops.stock.models import Movement, MovementKind
from tests.factories import OrganisationFactory, make_user
from tests.households.conftest import register, search, winter_round
from tests.jobs_worker import run_jobs


def scoped(role, op):
    """A user of the role; distributors and hub managers work at Bana."""
    if role in {Role.DISTRIBUTOR, Role.HUB_MANAGER}:
        return make_user(role, distribution_points=[op.bana])
    if role == Role.PARTNER_REPORTER:
        return make_user(role, organisation=OrganisationFactory())
    return make_user(role)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


FORM = {
    "head_name": "Muhammad Aslam",
    "father_or_husband_name": "Ghulam Rasool",
    "head_sex": "male",
    "document_type": "cnic",
    "document_number": "13503-1234567-1",
    "phone": "0300-1234567",
    "origin": "Banna",
    "origin_village": "Batkul",
    "current_site": "",
    "house_damage": "destroyed",
    "elevation_band": "above_7000",
    "females_0_5": "0",
    "males_0_5": "1",
    "females_6_17": "1",
    "males_6_17": "0",
    "females_18_59": "1",
    "males_18_59": "1",
    "females_60_plus": "0",
    "males_60_plus": "0",
    "registered_on": "2005-11-20",
    "consent": "on",
    "idempotency_key": "form-1",
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_role_sees_the_counts_and_no_name(op, role):
    register(op)
    response = signed_in(scoped(role, op)).get("/households/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Households" in text
    assert "Aslam" not in text


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.REGISTRAR, 200),
        (Role.ADMIN, 200),
        (Role.VIEWER, 403),
        (Role.PARTNER_REPORTER, 403),
        (Role.COORDINATOR, 403),
    ],
    ids=lambda v: getattr(v, "value", v),
)
def test_the_registry_is_for_roles_with_personal_data_and_each_page_is_audited(op, role, status):
    household = register(op)
    user = scoped(role, op)
    response = search(signed_in(user), "/households/registry/", "aslam")
    assert response.status_code == status
    if status == 200:
        assert "13503-1234567-1" in response.content.decode()
        event = AuditEvent.objects.get(action="household.view_personal_data", actor=user)
        assert event.after["households"] == [household.pk]
    assert signed_in(user).get(f"/households/{household.pk}/").status_code == status


@pytest.mark.parametrize("download", [False, True], ids=["page", "csv"])
def test_a_registry_filter_that_cannot_be_read_shows_downloads_and_records_nothing(op, download):
    register(op)
    client = signed_in(make_user(Role.ADMIN))
    query = {"status": "bogus", **({"format": "csv"} if download else {})}
    response = client.get("/households/registry/", query)
    # refused: no household listed or downloaded, and no view of personal data recorded
    assert response.status_code == 422
    assert "Content-Disposition" not in response
    assert "13503-1234567-1" not in response.content.decode()
    assert "Nothing is listed for these filters" in response.content.decode()
    assert not AuditEvent.objects.filter(
        action__in=["household.view_personal_data", "household.export"]
    ).exists()


def test_a_point_registry_filter_that_cannot_be_read_records_no_view(op, open_round):
    client = signed_in(op.distributor)
    # the households listed at the distributor's point are seen, and the view recorded
    assert client.get("/households/registry/").status_code == 200
    assert AuditEvent.objects.filter(action="household.view_personal_data").count() == 1
    # a search that cannot be read lists none of them, and records no view
    response = search(client, "/households/registry/", "x" * 101)
    assert response.status_code == 422
    assert AuditEvent.objects.filter(action="household.view_personal_data").count() == 1


def test_the_registry_page_runs_the_same_queries_for_5_or_25_households(op):
    client = signed_in(op.registrar)
    client.get("/households/")  # the session's first request may write to it: not what is measured
    for n in range(5):
        register(op, document_number=f"13503-00000{n:02d}-1", head_name=f"Sher Zaman {n}", phone="")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/households/registry/").status_code == 200
    for n in range(5, 25):
        register(op, document_number=f"13503-00000{n:02d}-1", head_name=f"Gul Zaman {n}", phone="")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/households/registry/").status_code == 200
    assert len(many) == len(few)


def test_the_form_shows_likely_duplicates_before_saving_and_registers_once_confirmed(op):
    client = signed_in(op.registrar)
    first = client.post("/households/register/", FORM)
    assert first.status_code == 302
    existing = Household.objects.get()
    # the same family again, spelt otherwise and without the card
    again = {
        **FORM,
        "head_name": "Mohd Aslam",
        "document_type": "none",
        "document_number": "",
        "idempotency_key": "form-2",
    }
    shown = client.post("/households/register/", again)
    assert shown.status_code == 409
    text = shown.content.decode()
    assert "Likely already registered" in text
    assert f'href="/households/{existing.pk}/"' in text
    assert Household.objects.count() == 1
    # the registrar judges it another household: the page carries the ids seen; registering now saves it
    assert f'name="duplicates_seen" value="{existing.pk}"' in text
    confirmed = client.post("/households/register/", {**again, "duplicates_seen": str(existing.pk)})
    assert confirmed.status_code == 302
    assert Household.objects.count() == 2
    assert DuplicatePair.objects.count() == 1


def test_a_refused_form_keeps_what_was_typed_and_names_the_field(op):
    response = signed_in(op.registrar).post(
        "/households/register/", {**FORM, "document_number": "13503-123", "consent": ""}
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "Nothing was saved" in text
    assert "13 digits" in text
    assert "must agree" in text
    assert 'value="Muhammad Aslam"' in text
    assert not Household.objects.exists()
    # the consent, which the registration cannot go without, is marked as a field to give
    assert re.search(r'<input type="checkbox" name="consent"[^>]* required', text)


@pytest.mark.parametrize("page", ["register", "correct"])
def test_a_refused_origin_says_what_the_value_holds_not_what_a_cell_holds(op, page):
    # given a registration form, or a correction's, whose origin the gazetteer does not know
    client = signed_in(op.registrar)
    if page == "register":
        url, form = "/households/register/", {**FORM, "origin": "Atlantis"}
    else:
        household = register(op)
        url = f"/households/{household.pk}/correct/"
        form = {**FORM, "origin": "Atlantis", "reason": "origin mistyped"}
    # when it is sent
    response = client.post(url, form)
    # then the field's problem says what its value holds, in the words of a form, not of a file
    assert response.status_code == 422
    text = response.content.decode()
    assert (
        "Origin: neither a P-code nor a place name of the gazetteer (the value holds 8 characters: letters)"
        in text
    )
    assert "the cell" not in text


def test_the_round_page_names_who_is_eligible_in_words(op):
    round_obj = winter_round(op, vulnerabilities=["female_headed", "landless"])
    page = signed_in(op.registrar).get(f"/households/rounds/{round_obj.pk}/").content.decode()
    assert "5,000 to 7,000 ft, Above 7,000 ft" in page
    assert "Damaged, Destroyed" in page
    assert "Female-headed, Landless" in page
    assert "above_7000" not in page
    assert "female_headed" not in page


def test_a_card_is_reissued_from_the_household_page(op):
    household = register(op)
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    old = HouseholdCard.objects.get()
    client = signed_in(op.registrar)
    page = client.get(f"/households/{household.pk}/")
    assert "<svg" in page.content.decode()
    response = client.post(f"/households/{household.pk}/", {"reason": "lost"})
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.voided_at is not None
    assert HouseholdCard.objects.filter(voided_at__isnull=True).count() == 1


def test_a_card_reissue_sent_twice_from_the_page_issues_one_card(op):
    household = register(op)
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    client = signed_in(op.registrar)
    page = client.get(f"/households/{household.pk}/").content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    # a double click: the same form, with its hidden key, sent twice
    first = client.post(f"/households/{household.pk}/", {"reason": "lost", "idempotency_key": key})
    again = client.post(
        f"/households/{household.pk}/", {"reason": "lost", "idempotency_key": key}, follow=True
    )
    assert first.status_code == 302
    assert "was already issued for this request: nothing changed" in again.content.decode()
    assert HouseholdCard.objects.filter(household=household).count() == 2  # the first and one new
    assert HouseholdCard.objects.filter(household=household, voided_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(action="household.card_reissue").count() == 1


def test_a_card_reissue_without_a_reason_answers_422_with_problem_in_the_title_and_changes_nothing(op):
    # given a household with a card
    household = register(op)
    cards_issue(actor=op.registrar, round_id=winter_round(op).pk)
    client = signed_in(op.registrar)
    # when a new card is asked for without saying why
    response = client.post(f"/households/{household.pk}/", {"reason": "  "})
    # then it is refused as other refused forms are: 422, "Problem:" in the title, the field named
    assert response.status_code == 422
    text = response.content.decode()
    assert f"<title>Problem: Household {household.pk} · reliefops</title>" in text
    assert "Why a new card: This field is required." in text
    # and the card still works, no other made
    assert HouseholdCard.objects.filter(household=household, voided_at__isnull=True).count() == 1
    assert HouseholdCard.objects.count() == 1
    assert not AuditEvent.objects.filter(action="household.card_reissue").exists()
    # while the page itself, not sent, answers 200 without "Problem:"
    page = client.get(f"/households/{household.pk}/")
    assert page.status_code == 200
    assert f"<title>Household {household.pk} · reliefops</title>" in page.content.decode()


def test_a_card_reissue_for_a_household_merged_since_the_page_opened_answers_409_and_says_why(op):
    # given a household whose page is open, merged into another meanwhile
    household = register(op)
    twin = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    household_merge(actor=op.registrar, survivor_id=twin.pk, merged_id=household.pk)
    # when a new card is asked for from that page
    response = signed_in(op.registrar).post(f"/households/{household.pk}/", {"reason": "lost"})
    # then it is refused with the reason shown, though the form is no longer offered
    assert response.status_code == 409
    text = response.content.decode()
    assert f"<title>Problem: Household {household.pk} · reliefops</title>" in text
    assert f"household {household.pk} was merged into {twin.pk}: give its card to that one" in text
    assert 'role="alert"' in text
    assert not HouseholdCard.objects.exists()


def test_an_import_is_checked_then_imported_from_the_pages(op):
    client = signed_in(op.registrar)
    header = b"head_name,head_sex,females_18_59,origin,house_damage,consent\n"
    csv = header + b"Zainab Bibi,female,1,PK50401,destroyed,yes\n"
    uploaded = client.post("/households/import/", {"file": SimpleUploadedFile("a.csv", csv, "text/csv")})
    assert uploaded.status_code == 302  # to the page of the job that checks the file
    run_jobs()
    preview_url = f"/households/import/{HouseholdImport.objects.get().pk}/"
    assert preview_url in client.get(uploaded["Location"]).content.decode()
    preview = client.get(preview_url)
    assert "Import 1 household<" in preview.content.decode()
    assert not Household.objects.exists()
    assert client.post(preview_url).status_code == 302
    run_jobs()
    assert Household.objects.count() == 1
    bad = header + b"Zainab Bibi,female,1,Atlantis,flattened,no\n"
    refused = client.post("/households/import/", {"file": SimpleUploadedFile("b.csv", bad, "text/csv")})
    run_jobs()
    text = client.get(refused["Location"]).content.decode()
    assert "Nothing was written" in text
    assert "neither a P-code nor a place name of the gazetteer" in text
    assert "Atlantis" not in text  # a problem never quotes a cell
    assert "(the cell holds 8 characters: letters)" in text  # it says what the cell holds
    assert "house_damage" in text


def test_the_page_of_a_file_with_many_problems_lists_the_first_thousand_and_counts_them_all(op):
    client = signed_in(op.registrar)
    header = b"head_name,head_sex,females_18_59,origin,house_damage,consent\n"
    bad = header + b",female,1,Atlantis,flattened,no\n" * 300  # four problems a row
    client.post("/households/import/", {"file": SimpleUploadedFile("b.csv", bad, "text/csv")})
    run_jobs()
    text = client.get(f"/households/import/{HouseholdImport.objects.get().pk}/").content.decode()
    assert "1200 problems in the file" in text
    assert "the first 1000 by line are listed" in text
    assert "… and 200 more problems" in text
    # the origin of each row of the first 1,000 problems, never quoted
    assert text.count("neither a P-code nor a place name of the gazetteer") == 250
    assert "Atlantis" not in text


def test_a_file_uploaded_again_from_the_page_is_shown_as_imported_already(op):
    client = signed_in(op.registrar)
    csv = b"head_name,head_sex,females_18_59,origin,house_damage,consent\n"
    csv += b"Zainab Bibi,female,1,PK50401,destroyed,yes\n"
    for _ in range(2):
        client.post("/households/import/", {"file": SimpleUploadedFile("a.csv", csv, "text/csv")})
        run_jobs()
        batch = HouseholdImport.objects.order_by("-pk").first()
        client.post(f"/households/import/{batch.pk}/")
        run_jobs()
    first, again = HouseholdImport.objects.order_by("pk")
    page = client.get(f"/households/import/{again.pk}/").content.decode()
    assert "Already imported." in page
    assert f"the same file as import {first.pk}" in page
    assert "Import 0 households" not in page
    assert Household.objects.count() == 1


def test_a_pair_is_decided_on_the_queue_page(op):
    first = register(op)
    again = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    client = signed_in(op.registrar)
    page = client.get("/households/duplicates/")
    assert "Same household: keep" in page.content.decode()
    pair = DuplicatePair.objects.get()
    assert (
        client.post("/households/duplicates/", {"pair": pair.pk, "decision": str(first.pk)}).status_code
        == 302
    )
    again.refresh_from_db()
    assert again.status == HouseholdStatus.MERGED
    assert signed_in(make_user(Role.DISTRIBUTOR)).get("/households/duplicates/").status_code == 403


def test_a_round_is_planned_listed_carded_and_opened_from_the_pages(op):
    register(op)
    client = signed_in(op.registrar)
    response = client.post(
        "/households/rounds/new/",
        {
            "code": "WR-5",
            "name": "Winter Race",
            "starts_on": "2005-11-14",
            "ends_on": "2006-01-31",
            "points": [str(op.bana.pk)],
            "living": "any",
            "elevation_bands": ["5000_to_7000", "above_7000"],
            "line1-item": str(op.blanket.pk),
            "line1-per_member": "2",
            "line1-at_most": "10",
            "line2-item": str(op.cgi.pk),
            "line2-per_household": "10",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    round_obj = DistributionRound.objects.get()
    for action in ("list", "cards", "open"):
        assert client.post(f"/households/rounds/{round_obj.pk}/", {"action": action}).status_code == 302
    round_obj.refresh_from_db()
    assert round_obj.status == RoundStatus.OPEN
    assert HouseholdCard.objects.count() == 1
    detail = client.get(f"/households/rounds/{round_obj.pk}/").content.decode()
    assert "Reconciliation" in detail
    cards = client.get(f"/households/rounds/{round_obj.pk}/cards/").content.decode()
    assert cards.count('class="segno"') == 1
    assert "Muhammad Aslam" in cards


def test_a_round_with_problems_is_shown_again_with_them(op):
    response = signed_in(op.registrar).post(
        "/households/rounds/new/",
        {
            "code": "WR 5",
            "name": "x",
            "starts_on": "2006-01-31",
            "ends_on": "2005-11-14",
            "points": [str(op.bana.pk)],
            "living": "any",
        },
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "the round ends before it starts" in text
    assert "name at least one item" in text


def test_a_distributor_sees_the_list_of_their_point_with_names_and_tokens_only(op, open_round):
    round_obj, household, _ = open_round
    response = signed_in(op.distributor).get(f"/households/rounds/{round_obj.pk}/list/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Muhammad Aslam" in text
    assert HouseholdCard.objects.get(household=household).token[:4] in text
    assert "Sher Zaman" not in text
    for hidden in ("13503-1234567-1", "1350312345671", "+923001234567"):
        assert hidden not in text
    assert (
        signed_in(op.distributor)
        .get(f"/households/rounds/{round_obj.pk}/list/?point=DP-RAJ-PATTIAN")
        .status_code
        == 403
    )
    assert (
        signed_in(make_user(Role.VIEWER)).get(f"/households/rounds/{round_obj.pk}/list/").status_code == 403
    )


def test_the_handover_page_hands_over_by_card_once(op, open_round):
    round_obj, household, _ = open_round
    client = signed_in(op.distributor)
    url = f"/households/rounds/{round_obj.pk}/handover/"
    page = search(client, url + "find/", "aslam", point="DP-BANA")
    assert page.status_code == 200
    assert "Choose" in page.content.decode()
    token = HouseholdCard.objects.get(household=household).token
    form = {
        "point": "DP-BANA",
        "card": token,
        "collected_by": "the head",
        "handed_on": "2005-11-20",
        "idempotency_key": "k1",
    }
    done = client.post(url, form, follow=True)
    assert "Handed over 8 BLANKET, 10 CGI-SHEET" in done.content.decode()
    again = client.post(url, {**form, "idempotency_key": "k2"})
    assert again.status_code == 409
    assert "already" in again.content.decode()
    assert Movement.objects.filter(kind=MovementKind.DISTRIBUTION).count() == 1
    assert signed_in(op.registrar).get(url).status_code == 403
    assert dt.date(2005, 11, 20) <= round_obj.ends_on


def test_the_handover_page_proposes_today_only_while_the_round_runs(op, open_round, monkeypatch):
    round_obj, household, _ = open_round
    client = signed_in(op.distributor)
    url = f"/households/rounds/{round_obj.pk}/handover/"
    first, last = round_obj.starts_on, round_obj.ends_on

    def page_on(today):
        monkeypatch.setattr(timezone, "localdate", lambda: today)
        monkeypatch.setattr(handovers.timezone, "localdate", lambda: today)
        return client.get(url).content.decode()

    def proposed(page):
        found = re.search(r'<input type="date" name="handed_on"[^>]*>', page).group(0)
        value = re.search(r'value="([0-9-]+)"', found)
        return value.group(1) if value else None

    # while the round runs, today
    assert proposed(page_on(first + dt.timedelta(days=1))) == (first + dt.timedelta(days=1)).isoformat()
    # before or after it, no day: a list entered from paper carries each handover's own day
    assert proposed(page_on(last + dt.timedelta(days=7000))) is None
    page = page_on(first - dt.timedelta(days=3))
    assert proposed(page) is None
    # and the date picker offers only the round's days, which the field names
    assert f'min="{first.isoformat()}"' in page
    assert f'max="{last.isoformat()}"' in page
    assert f"A day of the round: {first:%-d %b %Y} to {last:%-d %b %Y}" in page
    # a day after today is refused beside the field, nothing posted
    token = HouseholdCard.objects.get(household=household).token
    form = {"point": "DP-BANA", "card": token, "collected_by": "the head", "idempotency_key": "k1"}
    refused = client.post(url, {**form, "handed_on": first.isoformat()})
    assert refused.status_code == 409
    day = f"{first:%-d %b %Y}"
    assert f"{day} is after today ({first - dt.timedelta(days=3):%-d %b %Y})" in refused.content.decode()
    assert not Movement.objects.filter(kind=MovementKind.DISTRIBUTION).exists()


def test_a_paper_list_entered_after_the_round_keeps_its_day_from_one_handover_to_the_next(
    op, open_round, monkeypatch
):
    round_obj, household, _ = open_round
    later = round_obj.ends_on + dt.timedelta(days=30)  # the list is typed in a month after the round
    monkeypatch.setattr(timezone, "localdate", lambda: later)
    monkeypatch.setattr(handovers.timezone, "localdate", lambda: later)
    client = signed_in(op.distributor)
    url = f"/households/rounds/{round_obj.pk}/handover/"
    token = HouseholdCard.objects.get(household=household).token
    day = round_obj.starts_on + dt.timedelta(days=4)  # once the goods had arrived at the point
    form = {"point": "DP-BANA", "card": token, "collected_by": "the head", "idempotency_key": "k1"}
    # given the day of the paper list kept from an earlier handover (?on=), the household found by
    # name is chosen with that day still proposed
    found = search(client, url + "find/", "Aslam", point="DP-BANA", on=day.isoformat())
    # (the day and the point stay in the address, the name does not)
    assert found.redirect_chain[-1][0].startswith(f"{url}?point=DP-BANA&on={day.isoformat()}&s=")
    assert "Aslam" not in found.redirect_chain[-1][0]
    searched = found.content.decode()
    choose = re.search(r'<tbody><tr><td><a href="(\?point=[^"]*)">Choose</a></td>', searched)
    assert choose is not None, "Choose is the first cell of a household found (in sight on a phone)"
    assert f"on={day.isoformat()}" in choose.group(1)
    chosen = client.get(url + choose.group(1).replace("&amp;", "&")).content.decode()
    assert f'name="handed_on" value="{day.isoformat()}"' in chosen
    # when one handover is recorded on the day the paper list gives
    done = client.post(url, {**form, "handed_on": day.isoformat()})
    # then the next form proposes that day again (a paper list runs by day)
    assert done.status_code == 302
    assert done["Location"].endswith(f"?point=DP-BANA&on={day.isoformat()}")
    page = client.get(done["Location"]).content.decode()
    assert f'name="handed_on" value="{day.isoformat()}"' in page
    # and the search by name carries it on
    assert f'<input type="hidden" name="on" value="{day.isoformat()}">' in page
    # and a day that is not one of the round, or after today, is not proposed
    for text in ("2100-01-01", (round_obj.ends_on + dt.timedelta(days=1)).isoformat(), "nonsense"):
        assert 'name="handed_on" value=' not in client.get(f"{url}?on={text}").content.decode()


def test_a_closed_rounds_handover_page_offers_no_form(op, open_round):
    from reliefops.households.services import round_set_status

    # given a round closed at the end of its period
    round_obj, _, _ = open_round
    round_set_status(actor=op.registrar, round_id=round_obj.pk, status="closed")
    # then its handover page says so, and offers nothing to fill in
    page = signed_in(op.distributor).get(f"/households/rounds/{round_obj.pk}/handover/").content.decode()
    assert f"Round {round_obj.code} is closed</strong>: it takes no handover" in page
    assert "Record the handover" not in page
    assert 'name="card"' not in page


def test_a_registrar_prints_the_cards_of_one_point(op, open_round):
    round_obj, _, far = open_round
    response = signed_in(op.registrar).get(f"/households/rounds/{round_obj.pk}/cards/?point=DP-BANA")
    assert response.status_code == 200
    assert "Muhammad Aslam" in response.content.decode()
    assert far.head_name not in response.content.decode()  # listed at Raj Pattian


@pytest.mark.parametrize("asked", ["DP-BANA", "dp-bana"])
def test_the_cards_of_one_point_name_the_point_with_its_code_beside(op, open_round, asked):
    # given the cards of a round's point, asked for by its code as typed
    round_obj, _, _ = open_round
    page = signed_in(op.registrar).get(f"/households/rounds/{round_obj.pk}/cards/?point={asked}")
    text = page.content.decode()
    # then the sheet names the point as staff and families know it, its code beside, and the
    # point is the one chosen in the list of points
    lede = re.search(r'<p class="lede">(.*?)</p>', text, re.S).group(1)
    assert 'at Bana helipad <span class="pcode">DP-BANA</span>,' in lede
    assert '<option value="DP-BANA" selected>Bana helipad</option>' in text
    assert "Collect at Bana helipad" in text


def correction(household, **changes):
    """The correction form as the household page fills it, with the changes typed in."""
    form = {
        **{k: v for k, v in FORM.items() if k not in {"registered_on", "consent"}},
        "origin": "PK50401-UC01",
        "document_number": household.document_display,
        "phone": household.phone,
        "males_0_5": "1",
        "females_6_17": "1",
        "reason": "the baby was not counted",
        "idempotency_key": "fix-1",
    }
    form.update(changes)
    return form


def test_a_household_is_corrected_from_its_page_once(op):
    household = register(op)
    client = signed_in(op.registrar)
    # the household page offers the correction; the form holds the registration as it reads
    page = client.get(f"/households/{household.pk}/").content.decode()
    assert f'href="/households/{household.pk}/correct/"' in page
    form = client.get(f"/households/{household.pk}/correct/")
    assert form.status_code == 200
    text = form.content.decode()
    assert 'value="13503-1234567-1"' in text
    assert 'value="+923001234567"' in text
    assert AuditEvent.objects.filter(
        action="household.view_personal_data", after__where="correction form"
    ).exists()
    # posting it with a member more saves the correction and shows it on the household page
    done = client.post(f"/households/{household.pk}/correct/", correction(household, females_60_plus="1"))
    assert done.status_code == 302
    household.refresh_from_db()
    assert (household.females_60_plus, household.size) == (1, 5)
    page = client.get(f"/households/{household.pk}/").content.decode()
    assert "women 60+" in page
    assert "the baby was not counted" in page
    # a second click of the same form changes nothing and says so
    again = client.post(
        f"/households/{household.pk}/correct/", correction(household, females_60_plus="1"), follow=True
    )
    assert "saved before: nothing changed" in again.content.decode()
    assert household.corrections.count() == 1


def test_a_correction_shows_likely_duplicates_before_saving_and_refusals_beside_their_fields(op):
    first = register(op)
    second = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        phone="",
        document_type="none",
        document_number="",
    )
    client = signed_in(op.registrar)
    url = f"/households/{second.pk}/correct/"
    changes = {
        "head_name": "Mohd Aslam",
        "document_type": "none",
        "document_number": "",
        "phone": "",
        "reason": "misheard",
    }
    refused = client.post(url, correction(second, **{**changes, "reason": "", "document_number": "123"}))
    assert refused.status_code == 422
    assert "Nothing was saved" in refused.content.decode()
    shown = client.post(url, correction(second, **changes))
    assert shown.status_code == 409
    text = shown.content.decode()
    assert "Likely the same as another household" in text
    assert f'name="duplicates_seen" value="{first.pk}"' in text
    assert Household.objects.get(pk=second.pk).head_name == "Sher Zaman"
    saved = client.post(url, correction(second, **{**changes, "duplicates_seen": str(first.pk)}))
    assert saved.status_code == 302
    assert Household.objects.get(pk=second.pk).head_name == "Mohd Aslam"
    assert DuplicatePair.objects.filter(first=first, second=second).exists()


@pytest.mark.parametrize("role", [r for r in Role if r not in {Role.ADMIN, Role.REGISTRAR}], ids=str)
def test_only_registrars_and_admins_reach_the_correction_form(op, role):
    household = register(op)
    client = signed_in(scoped(role, op))
    assert client.get(f"/households/{household.pk}/correct/").status_code == 403
    posted = client.post(f"/households/{household.pk}/correct/", correction(household, phone=""))
    assert posted.status_code == 403
    assert Household.objects.get(pk=household.pk).phone == "+923001234567"


def test_a_distributors_registry_lists_the_households_of_their_points_with_names_and_tokens_only(op):
    # given a household listed at Bana (the distributor's point), one at Raj Pattian, one on no list
    at_bana = register(op)
    register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        document_number="13503-7654321-1",
        phone="0301-7654321",
        origin="PK52201",
    )
    register(
        op,
        head_name="Zainab Bibi",
        head_sex="female",
        document_type="none",
        document_number="",
        phone="",
        elevation_band="below_5000",
    )
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    token = HouseholdCard.objects.get(household=at_bana).token
    client = signed_in(op.distributor)
    # when the distributor opens the registry
    response = client.get("/households/registry/")
    # then only Bana's household is listed, with its name and card token, never a CNIC or a phone
    assert response.status_code == 200
    text = response.content.decode()
    assert "Muhammad Aslam" in text
    assert printed(token) in text
    assert "Sher Zaman" not in text
    assert "Zainab" not in text
    for personal in ("13503", "1234567", "+92"):
        assert personal not in text
    # and the view is an audit event naming the household shown
    event = AuditEvent.objects.get(action="household.view_personal_data", actor=op.distributor)
    assert event.after["households"] == [at_bana.pk]
    # a search by identity number finds nothing, and the household's own page stays closed
    assert "Muhammad Aslam" not in search(client, "/households/registry/", "1350312345671").content.decode()
    assert "Muhammad Aslam" in search(client, "/households/registry/", "batkul").content.decode()
    assert client.get(f"/households/{at_bana.pk}/").status_code == 403


def test_the_printable_distribution_list_holds_every_household_and_is_audited(op, monkeypatch):
    household = register(op)
    other = register(op, head_name="Sher Ali", document_number="13503-0000003-1", phone="")
    round_obj = winter_round(op)
    monkeypatch.setattr("reliefops.households.views.LIST_PER_PAGE", 1)
    client = signed_in(op.distributor)
    url = f"/households/rounds/{round_obj.pk}/list/"
    screen = client.get(url).content.decode()
    assert "Page 1 of 2" in screen
    assert "?print=1" in screen
    assert "This is page 1 of 2: 1 of 2 households" in screen  # said on paper only
    printed_list = client.get(url + "?print=1").content.decode()
    assert household.head_name in printed_list
    assert other.head_name in printed_list
    assert 'class="pagination"' not in printed_list
    assert "data-print" in printed_list
    event = AuditEvent.objects.filter(action="household.view_personal_data").latest("pk")
    assert event.after["where"] == f"distribution list {round_obj.code} printed"
    assert event.after["households"] == sorted([household.pk, other.pk])


def test_the_hand_over_button_shows_only_on_open_rounds_with_a_point_of_the_distributor(op):
    register(op)
    at_bana = winter_round(op)
    at_raj_only = winter_round(op, code="WR-2", points=[PointInput(site_id=op.raj.pk)])
    client = signed_in(op.distributor)  # distributes at Bana
    hand_over = re.compile(r'<a class="button" href="[^"]*/handover/">Hand over</a>')
    assert hand_over.search(client.get(f"/households/rounds/{at_bana.pk}/").content.decode())
    assert client.get(f"/households/rounds/{at_bana.pk}/handover/").status_code == 200
    page = client.get(f"/households/rounds/{at_raj_only.pk}/")
    assert page.status_code == 200
    assert not hand_over.search(page.content.decode())
    assert client.get(f"/households/rounds/{at_raj_only.pk}/handover/").status_code == 403


UNHELD = printed("K7M29QXDA" + check_character("K7M29QXDA"))  # a well-formed token of no card


@pytest.mark.parametrize(
    ("changes", "field", "says", "status"),
    [
        ({"card": UNHELD}, "card", f"no household holds card {UNHELD}", 409),
        ({"handed_on": "2006-03-01"}, "handed_on", "to 31 Jan 2006, not on 1 Mar 2006", 409),
    ],
    ids=["unknown-card", "day-outside-the-round"],
)
def test_a_refused_card_or_day_is_shown_beside_its_field_with_what_was_typed(
    op, open_round, changes, field, says, status
):
    round_obj, household, _ = open_round
    form = {
        "point": "DP-BANA",
        "card": HouseholdCard.objects.get(household=household).token,
        "collected_by": "the head",
        "handed_on": "2005-11-20",
        "idempotency_key": "k1",
        **changes,
    }
    response = signed_in(op.distributor).post(f"/households/rounds/{round_obj.pk}/handover/", form)
    assert response.status_code == status
    text = response.content.decode()
    beside = re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>([^<]*)</li>', text)
    assert beside is not None, text
    assert says in beside.group(1)
    typed = re.search(rf'<input [^>]*name="{field}"[^>]*>', text).group(0)
    assert f'value="{form[field]}"' in typed
    assert 'aria-invalid="true"' in typed
    assert f"id_{field}_error" in typed  # aria-describedby
    assert not Movement.objects.filter(kind=MovementKind.DISTRIBUTION).exists()


@pytest.mark.parametrize(
    ("typed", "says", "status"),
    [
        ("XXXX-XXXX-XX", "its last character (the check) does not match the others", 422),
        ("CNIC 35202-1234567", "it has 16 characters, not the 10 of a card", 422),
        ("https://example.org/p?cnic=35202-1234567-1", "at most 20 characters", 422),
    ],
    ids=["check-fails", "wrong-length", "longer-than-the-field"],
)
def test_a_value_that_is_no_card_token_is_refused_beside_the_card_without_being_shown_again(
    op, open_round, typed, says, status
):
    # given a distributor at the handover page, and a value typed or scanned that is no card token
    round_obj, _, _ = open_round
    form = {
        "point": "DP-BANA",
        "card": typed,
        "collected_by": "the head",
        "handed_on": "2005-11-20",
        "idempotency_key": "k1",
    }
    # when the handover is recorded
    response = signed_in(op.distributor).post(f"/households/rounds/{round_obj.pk}/handover/", form)
    # then it is refused beside the card, saying what is wrong
    assert response.status_code == status
    text = response.content.decode()
    beside = re.search(r'<ul class="errorlist" id="id_card_error"><li>([^<]*)</li>', text)
    assert beside is not None, text
    assert says in beside.group(1)
    # and what was typed is nowhere on the page: not in the message, not kept in the field
    for shown in (typed, typed.replace("-", ""), escape(typed)):
        assert shown not in text
    typed_field = re.search(r'<input [^>]*name="card"[^>]*>', text).group(0)
    assert "value=" not in typed_field
    assert 'aria-invalid="true"' in typed_field
    assert not Movement.objects.filter(kind=MovementKind.DISTRIBUTION).exists()


def test_after_a_mis_scanned_card_the_form_keeps_its_other_values_and_the_right_card_goes_through(
    op, open_round
):
    # given a distributor whose scanner read a card short (nine characters: no card token)
    round_obj, household, _ = open_round
    client = signed_in(op.distributor)
    url = f"/households/rounds/{round_obj.pk}/handover/"
    form = {
        "point": "DP-BANA",
        "card": "VKYA2NSAX",
        "collected_by": "her brother",
        "handed_on": "2005-11-20",
        "idempotency_key": "k1",
    }
    refused = client.post(url, form)
    assert refused.status_code == 422
    page = refused.content.decode()
    # then the other fields come back as they were typed, not as lists ("['her brother']")
    assert re.search(r'<input [^>]*name="collected_by"[^>]*value="her brother"', page)
    assert re.search(r'<input [^>]*name="handed_on"[^>]*value="2005-11-20"', page)
    assert "[&#x27;" not in page
    key = re.search(r'<input [^>]*name="idempotency_key"[^>]*value="([^"]*)"', page)
    assert key is not None
    assert key.group(1) == "k1"
    # and the right card, scanned again on that form, is handed over
    token = HouseholdCard.objects.get(household=household).token
    done = client.post(url, {**form, "card": token})
    assert done.status_code == 302
    assert Movement.objects.filter(kind=MovementKind.DISTRIBUTION).count() == 1


def test_each_package_field_of_the_round_form_has_a_label_and_its_error_beside_it(op):
    response = signed_in(op.registrar).post(
        "/households/rounds/new/",
        {
            "code": "WR-5",
            "name": "Winter Race",
            "starts_on": "2005-11-14",
            "ends_on": "2006-01-31",
            "points": [str(op.bana.pk)],
            "living": "any",
            "line1-item": str(op.blanket.pk),
            "line1-per_member": "-2",
        },
    )
    assert response.status_code == 422
    text = response.content.decode()
    for line in range(1, 5):
        for name, label in [
            ("item", "Item"),
            ("per_household", "Per household"),
            ("per_member", "Per member"),
            ("at_most", "At most"),
        ]:
            assert (
                f'<label class="visually-hidden" for="id_line{line}-{name}">{label}, line {line}</label>'
                in text
            )
    refused = re.search(r'<input [^>]*name="line1-per_member"[^>]*>', text).group(0)
    assert 'aria-invalid="true"' in refused
    assert 'aria-describedby="id_line1-per_member_error"' in refused
    assert '<ul class="errorlist" id="id_line1-per_member_error">' in text


ROUND_FORM = {
    "code": "DBL-ROUND",
    "name": "Winter Race",
    "starts_on": "2005-11-14",
    "ends_on": "2006-01-31",
    "living": "any",
    "idempotency_key": "plan-form-1",
}


def test_the_round_form_sent_twice_plans_one_round_and_says_so(op):
    client = signed_in(op.registrar)
    form = {
        **ROUND_FORM,
        "points": [str(op.bana.pk)],
        "line1-item": str(op.blanket.pk),
        "line1-per_member": "2",
    }
    first = client.post("/households/rounds/new/", form)
    assert first.status_code == 302, first.content.decode()[:3000]
    again = client.post("/households/rounds/new/", form, follow=True)
    assert again.status_code == 200
    assert "Round DBL-ROUND was already planned: nothing changed." in again.content.decode()
    assert DistributionRound.objects.count() == 1


def test_the_round_form_shows_every_problem_at_once(op):
    # given a round WR-1 planned already
    winter_round(op, open_it=False)
    # when the form comes with no point, a negative quantity, a code taken, a period that ends
    # before it starts and a package line without a quantity
    response = signed_in(op.registrar).post(
        "/households/rounds/new/",
        {
            **ROUND_FORM,
            "code": "WR-1",
            "starts_on": "2006-01-31",
            "ends_on": "2005-11-14",
            "line1-item": str(op.blanket.pk),
            "line1-per_household": "-1",
            "line2-item": str(op.cgi.pk),
        },
    )
    # then every one of them is shown, each once, at the first submission
    assert response.status_code == 422
    summary = re.search(r'<div class="form-errors".*?</div>', response.content.decode(), re.S).group(0)
    for said in (
        "Distribution points: This field is required.",
        "Package line 1, per household: a whole number of 0 or more",
        "Code: round WR-1 exists already",
        "To: the round ends before it starts",
        "Package line 2, per household: give a quantity per household or per member",
    ):
        assert summary.count(said) == 1, said
    assert "name at least one distribution point" not in summary  # said once, by the form
    assert summary.count("<li>") == 5
    assert DistributionRound.objects.count() == 1


def test_a_refused_choice_of_points_is_read_with_each_tick_box(op):
    # when the round form comes with no distribution point ticked
    response = signed_in(op.registrar).post(
        "/households/rounds/new/",
        {**ROUND_FORM, "line1-item": str(op.blanket.pk), "line1-per_member": "2"},
    )
    # then the reason is on the page, under the points
    assert response.status_code == 422
    text = response.content.decode()
    assert '<ul class="errorlist" id="id_points_error"><li>This field is required.</li></ul>' in text
    # and each tick box is marked refused and described by it, not only the table of points
    boxes = re.findall(r'<input type="checkbox" name="points"[^>]*>', text)
    assert boxes
    for box in boxes:
        assert 'aria-invalid="true"' in box
        assert 'aria-describedby="id_points_error"' in box


def test_an_accepted_choice_of_points_leaves_the_tick_boxes_undescribed(op):
    # when the round form is drawn blank
    text = signed_in(op.registrar).get("/households/rounds/new/").content.decode()
    # then no box is marked refused nor described by a reason that is not there
    boxes = re.findall(r'<input type="checkbox" name="points"[^>]*>', text)
    assert boxes
    assert all("aria-invalid" not in box and "aria-describedby" not in box for box in boxes)
    assert re.search(r'<div role="group" aria-labelledby="id_points-label"[^>]*aria-invalid', text) is None


def test_the_round_form_sets_the_camps_and_the_area_each_point_serves(op):
    client = signed_in(op.registrar)
    page = client.get("/households/rounds/new/").content.decode()
    assert "Living in the camps" in page
    assert f'name="serves_{op.bana.pk}"' in page
    assert '<datalist id="area-pcodes">' in page
    form = {
        **ROUND_FORM,
        "points": [str(op.bana.pk), str(op.raj.pk)],
        f"serves_{op.raj.pk}": "pk522",
        "sites": [str(op.maira.pk)],
        "line1-item": str(op.blanket.pk),
        "line1-per_member": "2",
    }
    # an area that is not one, or named for a point not ticked, is refused beside it
    refused = client.post(
        "/households/rounds/new/", {**form, f"serves_{op.raj.pk}": "PK999", "idempotency_key": "x"}
    )
    assert refused.status_code == 422
    assert "no admin area with P-code PK999" in refused.content.decode()
    unticked = client.post(
        "/households/rounds/new/", {**form, "points": [str(op.bana.pk)], "idempotency_key": "y"}
    )
    assert "tick this point too, or leave its area empty" in unticked.content.decode()
    assert not DistributionRound.objects.exists()
    done = client.post("/households/rounds/new/", form)
    assert done.status_code == 302, done.content.decode()[:3000]
    round_obj = DistributionRound.objects.get()
    assert list(round_obj.sites.all()) == [op.maira]
    assert dict(round_obj.points.values_list("site_id", "serves_area__pcode")) == {
        op.bana.pk: "PK50401",
        op.raj.pk: "PK522",
    }


def test_closing_a_round_asks_to_confirm_and_a_closed_round_offers_no_cards(op):
    round_obj = winter_round(op)
    client = signed_in(op.registrar)
    url = f"/households/rounds/{round_obj.pk}/"
    page = client.get(url).content.decode()
    assert "I understand closing is final" in page
    assert 'name="confirm"' in page
    # one click without the box ticked closes nothing
    refused = client.post(url, {"action": "closed"}, follow=True).content.decode()
    assert "was not closed: tick" in refused
    round_obj.refresh_from_db()
    assert round_obj.status == RoundStatus.OPEN
    closed = client.post(url, {"action": "closed", "confirm": "yes"}, follow=True).content.decode()
    assert "Round WR-1 is closed" in closed
    # asked again (a second tab), it says it was closed already
    again = client.post(url, {"action": "closed", "confirm": "yes"}, follow=True).content.decode()
    assert "Round WR-1 was already closed on " in again
    assert "nothing changed" in again
    assert AuditEvent.objects.filter(action="round.status", after__status="closed").count() == 1
    page = client.get(url).content.decode()
    assert 'value="cards"' not in page
    assert "Issue cards" not in page
    assert "I understand closing is final" not in page


def test_a_manager_takes_a_household_off_a_rounds_list_from_the_list_page(op):
    household = register(op)
    round_obj = winter_round(op)
    url = f"/households/rounds/{round_obj.pk}/list/"
    manager = signed_in(op.registrar)
    assert "Take a household off the list" in manager.get(url).content.decode()
    assert "Take a household off the list" not in signed_in(op.distributor).get(url).content.decode()
    # a distributor may not
    assert signed_in(op.distributor).post(url, {"household": household.pk, "reason": "x"}).status_code == 403
    # without a reason: refused beside the field
    refused = manager.post(url, {"household": household.pk, "reason": ""})
    assert refused.status_code == 422
    done = manager.post(url, {"household": household.pk, "reason": "below 5,000 ft after all"}, follow=True)
    assert f"Household {household.pk} was taken off the list of WR-1" in done.content.decode()
    assert "No household is listed at these points" in done.content.decode()


def test_the_registry_finds_a_household_number_typed_in_urdu_digits(op):
    household = register(op)
    urdu = str(household.pk).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    text = search(signed_in(op.registrar), "/households/registry/", urdu).content.decode()
    assert f'href="/households/{household.pk}/"' in text


def test_the_import_list_says_a_dead_check_waits_for_nothing(op):
    client = signed_in(op.registrar)
    other = make_user(Role.REGISTRAR)
    csv = b"head_name,head_sex,females_18_59,origin,house_damage,consent\n"
    csv += b"Zainab Bibi,female,1,PK50401,destroyed,yes\n"

    # given a check by a colleague, then the same file checked and imported by the registrar
    colleague = household_import_preview(actor=other, filename="a.csv", content=csv).batch
    mine = household_import_preview(actor=op.registrar, filename="a.csv", content=csv).batch
    household_import_commit(actor=op.registrar, import_id=mine.pk)
    # and a check of another file cleared after a week
    cleared = household_import_preview(
        actor=op.registrar, filename="b.csv", content=csv + b"Gul Bibi,female,1,PK50401,damaged,yes\n"
    ).batch
    HouseholdImport.objects.filter(pk=cleared.pk).update(content=b"")
    page = client.get("/households/import/").content.decode()
    row = re.search(rf'import/{colleague.pk}/".*?</tr>', page, re.S).group(0)
    assert f'Same file as <a href="/households/import/{mine.pk}/">import {mine.pk}</a>, imported' in row
    assert "Checked, not yet imported" not in row
    row = re.search(rf'import/{cleared.pk}/".*?</tr>', page, re.S).group(0)
    assert "cleared" in row
    assert "Checked, not yet imported" not in row
    # and neither page offers an import
    for batch in (colleague, cleared):
        detail = client.get(f"/households/import/{batch.pk}/").content.decode()
        assert "Checked, not yet imported" not in detail
        assert '<button type="submit" class="button">Import' not in detail


def test_a_merged_households_page_shows_the_handovers_it_received(op, open_round):
    round_obj, household, _ = open_round
    twin = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=household.pk,
        collected_by="the head",
        handed_on=dt.date(2005, 11, 20),
    )
    household_merge(actor=op.registrar, survivor_id=twin.pk, merged_id=household.pk)
    page = signed_in(op.registrar).get(f"/households/{household.pk}/").content.decode()
    assert "Not served in any round yet" not in page
    assert round_obj.code in page
    assert f'counted for <a href="/households/{twin.pk}/">household {twin.pk}</a> since the merge' in page


def test_the_overview_says_who_sees_names_as_the_roles_are(op):
    text = signed_in(make_user(Role.VIEWER)).get("/households/").content.decode()
    assert "registrars alone" not in text
    assert "shown to registrars and admins" in text
    assert "distributors and hub managers see the names and card tokens of the households listed" in text


def test_the_handover_page_offers_nothing_for_a_household_served_in_full_or_not_listed(op, open_round):
    round_obj, household, far = open_round
    client = signed_in(op.distributor)
    url = f"/households/rounds/{round_obj.pk}/handover/"
    handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=household.pk,
        collected_by="the head",
        handed_on=dt.date(2005, 11, 20),
    )
    served = client.get(url, {"point": "DP-BANA", "household": household.pk}).content.decode()
    assert "Served in full (last on 20 Nov 2005): nothing more is due" in served
    assert "Record the handover" not in served
    # a household not on the list at the distributor's points (Raj Pattian's, or nobody's)
    for other in (far.pk, 99999):
        text = client.get(url, {"point": "DP-BANA", "household": other}).content.decode()
        assert f"Household {other} is not on the list of round {round_obj.code} at your points" in text
        assert "Record the handover" not in text
        assert "Sher Zaman" not in text


def test_the_round_pages_write_their_counts_with_thousands_separators(op):
    # given 1,001 households listed in a round that gives each 1,500 CGI sheets
    first = register(op, document_type="none", document_number="", phone="")
    fields = [
        f.attname for f in Household._meta.concrete_fields if f.attname not in {"id", "idempotency_key"}
    ]
    Household.objects.bulk_create(
        [Household(**{name: getattr(first, name) for name in fields}) for _ in range(1000)]
    )
    round_obj = winter_round(op, package=[PackageInput(item_id=op.cgi.pk, per_household=1500)])
    client = signed_in(op.registrar)
    # when the round's pages, the list of rounds and the overview are opened
    detail = client.get(f"/households/rounds/{round_obj.pk}/").content.decode()
    rounds = client.get("/households/rounds/").content.decode()
    overview = client.get("/households/").content.decode()
    listed = client.get(f"/households/rounds/{round_obj.pk}/list/").content.decode()
    # then each count is written as the other pages write them, 1,001 and 1,501,500
    assert "<dt>Households listed</dt><dd>1,001</dd>" in detail
    assert "<dt>Not yet served</dt><dd>1,001</dd>" in detail
    assert '<td class="num">1,501,500</td>' in detail  # entitled
    assert '<td class="num">1,500</td>' in detail  # the package, per household
    assert "1,001 households not yet served" in detail
    assert '<td class="num">1,001</td><td class="num">0</td>' in rounds
    assert "<dt>Households</dt><dd>1,001</dd>" in overview
    assert "1,001 households at your points" in listed
    assert "Print all 1,001 households" in listed
    assert "1,500 / 0" in listed
    # while a household's number stays as it is written on its card, without a separator
    printable = client.get(f"/households/rounds/{round_obj.pk}/list/?print=1").content.decode()
    numbers = re.findall(r'<tr><td class="num">([0-9,]+)</td>', printable)
    assert len(numbers) == 1001
    assert max(map(int, numbers)) >= 1000


@pytest.mark.parametrize(
    ("changes", "field", "said"),
    [
        ({"males_6_17": "-2"}, "Boys 6-17", "a whole number from 0 to 40; this one is below 0"),
        ({"males_6_17": "41"}, "Boys 6-17", "a whole number from 0 to 40; this one is larger"),
        (
            {"registered_on": "2005-13-45"},
            "Registered on",
            "not a date; write it as YYYY-MM-DD, e.g. 2006-01-10",
        ),
        ({"registered_on": "20 Nov"}, "Registered on", "not a date; write it as YYYY-MM-DD, e.g. 2006-01-10"),
    ],
    ids=["negative-count", "count-too-large", "month-13", "no-year"],
)
def test_the_registration_form_refuses_a_bad_count_or_day_in_the_words_of_the_api(op, changes, field, said):
    # given a registration whose count or day cannot be one
    client = signed_in(op.registrar)
    # when it is sent
    response = client.post("/households/register/", {**FORM, **changes})
    # then it is refused by its field, saying why as the API and an imported file do; nothing saved
    assert response.status_code == 422
    text = response.content.decode()
    assert escape(f"{field}: {said}") in text
    assert "Ensure this value" not in text
    assert "Enter a valid date" not in text
    assert not Household.objects.exists()


def test_the_registration_form_refuses_a_day_before_the_earthquake_naming_the_days_allowed(op):
    # given a registration dated 7 October 2005, the day before the earthquake
    # when it is sent from the form
    response = signed_in(op.registrar).post("/households/register/", {**FORM, "registered_on": "2005-10-07"})
    # then it is refused beside its field, naming the first day of the operation; nothing saved
    assert response.status_code == 422
    text = response.content.decode()
    assert escape("Registered on: a day from 8 Oct 2005, the operation's first day, to today, ") in text
    assert escape("; 7 Oct 2005 is before the operation began") in text
    assert not Household.objects.exists()


def test_the_registration_date_picker_offers_only_the_days_the_server_takes(op):
    # given the registration page, the operation having begun on 8 October 2005
    page = signed_in(op.registrar).get("/households/register/").content.decode()
    # then its date picker runs from that day to today, as the server's own check does
    field = re.search(r'<input[^>]*name="registered_on"[^>]*>', page)
    assert field is not None
    assert 'min="2005-10-08"' in field.group(0)
    assert f'max="{timezone.localdate().isoformat()}"' in field.group(0)


def test_the_handover_form_refuses_a_day_that_is_none_saying_how_to_write_it(op, open_round):
    # given a handover typed on a browser without a date picker, its day written wrong
    round_obj, household, _ = open_round
    form = {
        "point": "DP-BANA",
        "card": HouseholdCard.objects.get(household=household).token,
        "collected_by": "the head",
        "handed_on": "2005-11-31",
        "idempotency_key": "bad-day",
    }
    # when it is recorded
    response = signed_in(op.distributor).post(f"/households/rounds/{round_obj.pk}/handover/", form)
    # then On says how to write a day, and nothing is posted
    assert response.status_code == 422
    assert "On: not a date; write it as YYYY-MM-DD, e.g. 2006-01-10" in response.content.decode()
    assert not Movement.objects.filter(kind=MovementKind.DISTRIBUTION).exists()


def test_a_package_line_with_a_quantity_and_no_item_is_refused_not_left_out(op):
    # given a round whose second package line has its quantity but no item chosen
    form = {
        **ROUND_FORM,
        "points": [str(op.bana.pk)],
        "line1-item": str(op.blanket.pk),
        "line1-per_member": "2",
        "line2-item": "",
        "line2-per_household": "10",
    }
    # when it is planned
    response = signed_in(op.registrar).post("/households/rounds/new/", form)
    # then the line's item is asked for, and no round is planned without it
    assert response.status_code == 422
    assert "Package line 2, item: choose the item of these quantities, or empty them" in (
        response.content.decode()
    )
    assert not DistributionRound.objects.exists()
    # and a line left wholly empty is no problem
    planned = signed_in(op.registrar).post("/households/rounds/new/", {**form, "line2-per_household": ""})
    assert planned.status_code == 302
    assert [line.item_id for line in DistributionRound.objects.get().package.all()] == [op.blanket.pk]


def test_a_pair_decided_twice_on_the_queue_page_says_so_as_news_and_counts_in_words(op, open_round):
    # given a household served in the round, and its second registration in the queue
    round_obj, household, far = open_round
    handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=household.pk,
        collected_by="the head",
        handed_on=dt.date(2005, 11, 20),
    )
    again = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    pair = DuplicatePair.objects.get(second=again)
    client = signed_in(op.registrar)
    # when the reviewer keeps the second (the first's handover moves to it), and the click comes twice
    keep = {"pair": pair.pk, "decision": str(again.pk)}
    first = client.post("/households/duplicates/", keep, follow=True).content.decode()
    second = client.post("/households/duplicates/", keep, follow=True).content.decode()
    # then the first says what moved, in words, and the second says that nothing changed, as news
    assert f"Household {household.pk} merged into {again.pk}; 1 handover now counts for {again.pk}." in first
    assert (
        f'<p class="message message-info">Household {household.pk} was already merged into {again.pk}: '
        "nothing changed.</p>"
    ) in second
    # and a decision naming a household of neither side is refused in a sentence, without the
    # command line's list of problems
    other = DuplicatePair.objects.create(first=far, second=again, score=80, reasons=[])
    refused = client.post("/households/duplicates/", {"pair": other.pk, "decision": "999999"}, follow=True)
    text = refused.content.decode()
    assert "name the household that stays" in text
    assert "input, survivor" not in text


def test_a_handover_without_its_day_or_collector_says_what_to_give(op, open_round):
    # given a handover entered after the round, the form proposing no day, and "Collected by" emptied
    round_obj, household, _ = open_round
    form = {
        "point": "DP-BANA",
        "card": HouseholdCard.objects.get(household=household).token,
        "collected_by": "",
        "handed_on": "",
        "idempotency_key": "no-day",
    }
    # when it is recorded
    response = signed_in(op.distributor).post(f"/households/rounds/{round_obj.pk}/handover/", form)
    # then each field says what it needs, as the API does for the collector, and nothing is posted
    assert response.status_code == 422
    text = response.content.decode()
    assert "On: give the day the household received it" in text
    assert "Collected by: say who collected: the head, or the name of the relative" in text
    assert "This field is required" not in text
    assert not Movement.objects.filter(kind=MovementKind.DISTRIBUTION).exists()


def test_a_refused_removal_from_a_list_says_why_above_the_form(op, open_round):
    # given a household served in the round, and a household the round does not list
    round_obj, household, _ = open_round
    handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=household.pk,
        collected_by="the head",
        handed_on=dt.date(2005, 11, 20),
    )
    at_home = register(
        op, head_name="Sher Zaman", document_number="13503-0000009-1", elevation_band="below_5000"
    )
    manager = signed_in(op.registrar)
    url = f"/households/rounds/{round_obj.pk}/list/"
    # when a manager asks to take each off the list, and gives a number that is none
    served = manager.post(url, {"household": household.pk, "reason": "moved away"})
    unlisted = manager.post(url, {"household": at_home.pk, "reason": "moved away"})
    no_number = manager.post(url, {"household": "-5", "reason": "moved away"})
    # then each page says why above the form, and the household stays on the list with its handover
    assert served.status_code == 409
    assert unlisted.status_code == 409
    assert no_number.status_code == 422
    for response, said in (
        (served, f"household {household.pk} received its package of round WR-1 on 20 Nov 2005"),
        (unlisted, f"household {at_home.pk} is not on the list of round WR-1"),
        (no_number, "Household number: a household&#x27;s number, as on its card or the list (1076)"),
    ):
        summary = re.search(r'<div class="form-errors".*?</div>', response.content.decode(), re.S)
        assert summary is not None, said
        assert said in summary.group(0)
    assert round_obj.entitlements.get(household=household).cancelled_at is None


def test_a_registration_refused_by_the_form_names_the_services_problems_with_its_own(op):
    # given a CNIC registered already, and a form with no head's name, a count below 0, that CNIC
    # and an origin the gazetteer does not know
    holder = register(op)
    form = {**FORM, "head_name": "", "females_18_59": "-1", "origin": "PK99999", "idempotency_key": "all"}
    # when it is sent
    response = signed_in(op.registrar).post("/households/register/", form)
    # then every problem is listed at once, the form's and the service's, each once
    assert response.status_code == 422
    summary = re.search(r'<div class="form-errors".*?</div>', response.content.decode(), re.S).group(0)
    for said in (
        "Head&#x27;s name: This field is required.",
        "Women 18-59: a whole number from 0 to 40; this one is below 0",
        "Origin: neither a P-code nor a place name of the gazetteer",
        f"Document number: this CNIC is already registered to household {holder.pk}",
    ):
        assert summary.count(said) == 1, said
    assert summary.count("<li>") == 4
    assert "at least one member" not in summary
    assert Household.objects.count() == 1


def test_a_correction_refused_by_the_form_names_the_services_problems_with_its_own(op):
    # given two households, and a correction of the second giving the first's CNIC and an unknown
    # origin, with a count below 0 and no reason
    holder = register(op)
    other = register(op, head_name="Sher Zaman", document_number="13503-0000009-1", phone="")
    form = correction(
        other,
        head_name="Sher Zaman",
        document_number="13503-1234567-1",
        origin="PK99999",
        females_18_59="-1",
        reason="",
    )
    # when it is sent
    response = signed_in(op.registrar).post(f"/households/{other.pk}/correct/", form)
    # then every problem is listed at once, the form's and the service's, each once, nothing changed
    assert response.status_code == 422
    summary = re.search(r'<div class="form-errors".*?</div>', response.content.decode(), re.S).group(0)
    for said in (
        "Why it is corrected: This field is required.",
        "Women 18-59: a whole number from 0 to 40; this one is below 0",
        "Origin: neither a P-code nor a place name of the gazetteer",
        f"Document number: this CNIC is already registered to household {holder.pk}",
    ):
        assert summary.count(said) == 1, said
    assert summary.count("<li>") == 4
    other.refresh_from_db()
    assert (other.document_number, other.origin_area.pcode, other.females_18_59) == (
        "1350300000091",
        "PK50401-UC01",
        1,
    )
    assert not other.corrections.exists()


def test_the_pages_of_cards_and_counts_read_well_with_a_screen_reader_and_on_a_phone(op, open_round):
    # given a round with its cards, and the overview's tables of counts
    round_obj, household, _ = open_round
    registrar = signed_in(op.registrar)
    cards = registrar.get(f"/households/rounds/{round_obj.pk}/cards/").content.decode()
    detail = registrar.get(f"/households/{household.pk}/").content.decode()
    overview = registrar.get("/households/").content.decode()
    # then each card's name is a heading under the page's own (no level skipped), and the QR code,
    # whose token is printed beside it, is left out of what a screen reader reads
    assert "<h3>" not in cards
    assert f"<h2>{household.head_name}</h2>" in cards
    for page in (cards, detail):
        codes = re.findall(r"<svg[^>]*>", page)
        segno = [code for code in codes if 'class="segno"' in code]
        assert segno
        assert all('aria-hidden="true"' in code and 'focusable="false"' in code for code in segno)
    # and the overview's narrow tables scroll in their own box on a phone, not the whole page
    tables = overview.count('<table class="data data-narrow">')
    assert tables >= 1
    assert (
        overview.count('<div class="table-wrap table-wrap-narrow"><table class="data data-narrow">') == tables
    )


def test_a_refused_choice_of_a_group_is_read_with_its_group(op):
    # given a registration without the head's sex, and a round without a point
    registrar = signed_in(op.registrar)
    registration = registrar.post("/households/register/", {**FORM, "head_sex": ""}).content.decode()
    planned = registrar.post("/households/rounds/new/", {**ROUND_FORM}).content.decode()
    # then each group of choices names its reason (and its help) and says it is refused
    assert (
        '<div role="group" aria-labelledby="id_head_sex-label" aria-describedby="id_head_sex_error" '
        'aria-invalid="true">'
    ) in registration
    assert (
        '<div role="group" aria-labelledby="id_points-label" '
        'aria-describedby="id_points_helptext id_points_error" aria-invalid="true">'
    ) in planned
    # and a group without a problem or help carries neither
    assert (
        '<div role="group" aria-labelledby="id_head_sex-label">'
        in registrar.get("/households/register/").content.decode()
    )


def test_a_refused_removal_from_a_list_says_problem_in_the_pages_title(op, open_round):
    round_obj, _, _ = open_round
    response = signed_in(op.registrar).post(
        f"/households/rounds/{round_obj.pk}/list/", {"household": "-5", "reason": "x"}
    )
    assert response.status_code == 422
    assert f"<title>Problem: List of {round_obj.code} · reliefops</title>" in response.content.decode()


def test_the_household_form_fields_have_edges_that_stand_out():
    # a field's edge is the shared style sheet's (3.56:1 against white, WCAG 1.4.11), not a pale grey
    css = (
        Path(__file__).resolve().parents[2] / "src/reliefops/households/static/households/households.css"
    ).read_text()
    assert "#b9c3ce" not in css
    assert css.count("var(--field-border)") == 2


@pytest.mark.parametrize(
    ("field", "says"),
    [
        pytest.param("head_name", "the head's name is at most 120 characters", id="head"),
        pytest.param(
            "father_or_husband_name", "the father's or husband's name is at most 120 characters", id="father"
        ),
        pytest.param("origin_village", "the village is at most 120 characters", id="village"),
    ],
)
def test_a_name_longer_than_its_field_is_refused_in_the_project_s_words_naming_the_field(op, field, says):
    # given a registration whose name is longer than the field holds
    response = signed_in(op.registrar).post("/households/register/", {**FORM, field: "Aslam " * 25})
    # then it is refused beside the field, naming the field and its limit, not in Django's words
    assert response.status_code == 422
    text = response.content.decode()
    assert escape(says) in text
    assert "Ensure this value" not in text
    assert not Household.objects.exists()


def test_a_collector_s_name_longer_than_its_field_is_refused_in_the_project_s_words(op, open_round):
    round_obj, household, _ = open_round
    token = HouseholdCard.objects.get(household=household).token
    form = {"point": "DP-BANA", "card": token, "handed_on": "2005-11-20", "idempotency_key": "k1"}
    refused = signed_in(op.distributor).post(
        f"/households/rounds/{round_obj.pk}/handover/", {**form, "collected_by": "Gul Bibi " * 20}
    )
    text = refused.content.decode()
    assert "the name of who collected is at most 120 characters" in text
    assert "Ensure this value" not in text
    assert not Movement.objects.filter(kind=MovementKind.DISTRIBUTION).exists()


def test_the_planning_form_s_lists_are_as_tall_as_their_choices_up_to_eight_rows(op):
    # given six areas in the gazetteer and no round yet
    page = signed_in(op.registrar).get("/households/rounds/new/").content.decode()
    # then the list of areas shows its six choices, and the empty list of rounds two rows, not one
    # (a browser shows a list of one row as a drop-down)
    sizes = dict(re.findall(r'<select name="(areas|not_served_in)" size="(\d+)"', page))
    assert sizes == {"areas": "6", "not_served_in": "2"}
