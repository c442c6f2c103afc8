"""The households API: registration with duplicates shown first, personal data per role (and
audited), distribution lists scoped to points, handovers by card, imports, decisions, figures."""

from __future__ import annotations

import base64
import json
import re

import pytest
from django.test import Client
from django.urls import resolve

from reliefops.api import api
from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.core.services import token_create
from reliefops.households.cards import TYPED_MAX, printed
from reliefops.households.forms import HandoverForm
from reliefops.households.models import DuplicatePair, Household, HouseholdImport, HouseholdStatus
from reliefops.households.schemas import HouseholdHandoverIn
from reliefops.households.services import cards_issue, round_make_list
from reliefops.stock.models import Movement, MovementKind
from tests.factories import make_user
from tests.households.conftest import ledger_state, register, winter_round


def client_for(user) -> Client:
    _, plain = token_create(actor=None, username=user.get_username(), name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def post(client: Client, url: str, body: dict | None = None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


REGISTRATION = {
    "head_name": "Muhammad Aslam",
    "father_or_husband_name": "Ghulam Rasool",
    "head_sex": "male",
    "document_type": "cnic",
    "document_number": "13503-1234567-1",
    "phone": "0300-1234567",
    "members": {"females_18_59": 1, "males_18_59": 1, "males_0_5": 2},
    "origin": "PK50401-UC01",
    "origin_village": "Batkul",
    "house_damage": "destroyed",
    "elevation_band": "above_7000",
    "consent": True,
    "registered_on": "2005-11-20",
}


def test_registration_answers_409_with_the_likely_duplicates_then_201_once_they_are_seen(op):
    registrar = client_for(op.registrar)
    first = post(registrar, "/api/households/households", REGISTRATION, HTTP_IDEMPOTENCY_KEY="form-1")
    assert first.status_code == 201, first.content
    assert first.json()["household"]["document_number"] == "13503-1234567-1"
    # a repeat with the same key changes nothing
    again = post(registrar, "/api/households/households", REGISTRATION, HTTP_IDEMPOTENCY_KEY="form-1")
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    # the same family spelt otherwise, without the card: 409 with the existing household shown
    variant = {**REGISTRATION, "head_name": "Mohd Aslam", "document_type": "none", "document_number": ""}
    shown = post(registrar, "/api/households/households", variant)
    assert shown.status_code == 409, shown.content
    (duplicate,) = shown.json()["duplicates"]
    assert duplicate["household_id"] == first.json()["household"]["id"]
    assert duplicate["head_name"] == "Muhammad Aslam"
    assert "same phone" in duplicate["reasons"]
    # seen and judged another household: registered, and the pair queued for review
    seen = post(
        registrar, "/api/households/households", {**variant, "duplicates_seen": [duplicate["household_id"]]}
    )
    assert seen.status_code == 201
    assert seen.json()["duplicates_queued"] == [duplicate["household_id"]]
    assert DuplicatePair.objects.count() == 1


def test_a_refused_registration_names_every_field(op):
    response = post(
        client_for(op.registrar),
        "/api/households/households",
        {**REGISTRATION, "document_number": "123", "consent": False},
    )
    assert response.status_code == 422
    assert {p["field"] for p in response.json()["problems"]} == {"document_number", "consent"}
    assert not Household.objects.exists()


def test_a_refused_origin_says_what_the_requests_value_holds_not_what_a_cell_holds(op):
    # given a registration whose origin the gazetteer does not know
    # when it is sent
    response = post(
        client_for(op.registrar), "/api/households/households", {**REGISTRATION, "origin": "Atlantis"}
    )
    # then it is refused, saying what the value holds, in the words of a request, not of a file
    assert response.status_code == 422
    assert {
        "row": None,
        "field": "origin",
        "reason": (
            "neither a P-code nor a place name of the gazetteer (the value holds 8 characters: letters)"
        ),
    } in response.json()["problems"]
    assert "the cell" not in response.content.decode()


def test_a_registration_dated_before_the_earthquake_is_refused_naming_the_days_allowed(op):
    # given a registration dated 1 January 2005, months before the earthquake of 8 October
    # when it is sent
    response = post(
        client_for(op.registrar),
        "/api/households/households",
        {**REGISTRATION, "registered_on": "2005-01-01"},
    )
    # then it is refused by its field, with the first day of the operation and today; nothing written
    assert response.status_code == 422
    (problem,) = response.json()["problems"]
    assert problem["field"] == "registered_on"
    assert problem["reason"].startswith("a day from 8 Oct 2005, the operation's first day, to today, ")
    assert problem["reason"].endswith("; 1 Jan 2005 is before the operation began")
    assert not Household.objects.exists()


def test_personal_data_is_for_registrars_and_every_view_is_audited(op):
    household = register(op)
    registrar = client_for(op.registrar)
    detail = registrar.get(f"/api/households/households/{household.pk}")
    assert detail.status_code == 200
    assert detail.json()["phone"] == "+923001234567"
    assert AuditEvent.objects.filter(
        action="household.view_personal_data", object_id=str(household.pk)
    ).exists()
    listing = registrar.get("/api/households/households?q=aslam")
    assert listing.json()["count"] == 1
    # the phone as people say it, and typed in Urdu digits, finds the household too
    for typed in ("0300-1234567", "۰۳۰۰۱۲۳۴۵۶۷", "1234567"):
        assert registrar.get("/api/households/households", {"q": typed}).json()["count"] == 1, typed
    # other roles see counts only
    for role in (Role.VIEWER, Role.COORDINATOR, Role.DISTRIBUTOR, Role.HUB_MANAGER, Role.PARTNER_REPORTER):
        client = client_for(make_user(role))
        assert client.get(f"/api/households/households/{household.pk}").status_code == 403
        counts = client.get("/api/households/counts")
        assert counts.status_code == 200
        assert counts.json()["active"] == 1
        assert "Aslam" not in counts.content.decode()


def test_household_counts_name_their_districts_by_pcode_and_name(op):
    household = register(op)
    counts = client_for(make_user(Role.VIEWER)).get("/api/households/counts").json()
    district = household.origin_district
    assert counts["by_district"] == [
        {"pcode": district.pcode, "name": district.name, "households": 1, "people": household.size}
    ]
    assert counts["by_camp"] == []


def test_an_export_with_personal_data_needs_the_export_right(op):
    register(op)
    plain = client_for(op.registrar).get("/api/households/households/export")
    assert plain.status_code == 200
    assert "Aslam" not in plain.content.decode()
    assert client_for(op.registrar).get("/api/households/households/export?personal=true").status_code == 403
    exporter = client_for(make_user(Role.REGISTRAR, can_export=True))
    full = exporter.get("/api/households/households/export?personal=true")
    assert full.status_code == 200
    assert "Muhammad Aslam" in full.content.decode()
    assert AuditEvent.objects.filter(action="household.export").count() == 2


def test_a_distributor_sees_names_and_tokens_of_their_own_point_only_never_cnic_or_phone(op, open_round):
    round_obj, household, far = open_round
    response = client_for(op.distributor).get(f"/api/households/rounds/{round_obj.pk}/distribution-list")
    assert response.status_code == 200
    body = response.json()
    assert [row["household_id"] for row in body["items"]] == [household.pk]
    row = body["items"][0]
    assert row["head_name"] == "Muhammad Aslam"
    assert row["card_token"]
    assert row["entitled"] == {"CGI-SHEET": 10, "BLANKET": 8}
    text = response.content.decode()
    for hidden in ("1350312345671", "13503-1234567-1", "+923001234567", "document", "phone"):
        assert hidden not in text
    assert far.pk not in [r["household_id"] for r in body["items"]]
    # asking for another point is refused
    other = client_for(op.distributor).get(
        f"/api/households/rounds/{round_obj.pk}/distribution-list?point=DP-RAJ-PATTIAN"
    )
    assert other.status_code == 403
    assert AuditEvent.objects.filter(action="household.view_personal_data", actor=op.distributor).exists()


def test_a_handover_by_card_posts_once_and_a_repeat_with_its_key_replays(op, open_round):
    round_obj, household, _ = open_round
    token = household.cards.get().token
    body = {"point": "DP-BANA", "card": token, "collected_by": "the head", "handed_on": "2005-11-20"}
    distributor = client_for(op.distributor)
    first = post(
        distributor, f"/api/households/rounds/{round_obj.pk}/handovers", body, HTTP_IDEMPOTENCY_KEY="t1"
    )
    assert first.status_code == 201, first.content
    assert first.json()["given"] == {"CGI-SHEET": 10, "BLANKET": 8}
    again = post(
        distributor, f"/api/households/rounds/{round_obj.pk}/handovers", body, HTTP_IDEMPOTENCY_KEY="t1"
    )
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    # and the repeat answers what the first handover gave, as the first answer did
    assert (again.json()["given"], again.json()["shortfall"]) == (first.json()["given"], {})
    assert again.json()["movement_id"] == first.json()["movement_id"]
    refused = post(
        distributor, f"/api/households/rounds/{round_obj.pk}/handovers", body, HTTP_IDEMPOTENCY_KEY="t2"
    )
    assert refused.status_code == 409
    assert "already" in refused.json()["detail"]
    assert Movement.objects.filter(kind=MovementKind.DISTRIBUTION).count() == 1
    # at a point outside the distributor's scope: refused before anything
    elsewhere = post(
        distributor, f"/api/households/rounds/{round_obj.pk}/handovers", {**body, "point": "DP-RAJ-PATTIAN"}
    )
    assert elsewhere.status_code == 403
    figures = (
        client_for(make_user(Role.VIEWER)).get(f"/api/households/rounds/{round_obj.pk}/reconciliation").json()
    )
    assert figures["served_households"] == 1
    assert figures["agrees_with_ledger"] is True


def test_a_card_of_another_point_tells_a_distributor_where_to_send_the_family_and_nothing_of_the_household(
    op, open_round
):
    # given a household listed at Raj Pattian, whose card a distributor of Bana helipad scans
    round_obj, _, far = open_round
    printed_token = printed(far.cards.get().token)
    url = f"/api/households/rounds/{round_obj.pk}/handovers"
    body = {"point": "DP-BANA", "card": printed_token, "collected_by": "the head", "handed_on": "2005-11-20"}
    state = ledger_state()
    # when the card is sent for a handover at Bana
    refused = post(client_for(op.distributor), url, body)
    # then it is refused, with the point named on the card and neither the household's number nor its names
    assert refused.status_code == 409, refused.content
    assert refused.json()["detail"] == (
        f"card {printed_token} is for another distribution point, Raj Pattian, not Bana helipad: "
        "send the family to the point named on their card"
    )
    assert "household" not in refused.content.decode()
    assert "Sher Zaman" not in refused.content.decode()
    # and the household's number typed in does not say where it collects either
    by_number = post(client_for(op.distributor), url, {**body, "card": "", "household": far.pk})
    assert by_number.status_code == 409, by_number.content
    assert by_number.json()["detail"] == (
        f"household {far.pk} is not on the list of Bana helipad in round WR-1: check the number, or ask for "
        "the household's card (it names the point where it collects)"
    )
    # while a hub manager who runs both points is told which household it is, as before
    manager = make_user(Role.HUB_MANAGER, distribution_points=[op.bana, op.raj])
    told = post(client_for(manager), url, body)
    assert told.status_code == 409, told.content
    assert told.json()["detail"] == f"household {far.pk} collects at Raj Pattian, not at Bana helipad"
    # and nothing was handed over
    assert ledger_state() == state


def test_an_unknown_point_filter_of_a_distribution_list_answers_422_naming_the_parameter(op, open_round):
    round_obj, _, _ = open_round
    url = f"/api/households/rounds/{round_obj.pk}/distribution-list"
    unknown = client_for(op.distributor).get(url, {"point": "NOPE"})
    assert unknown.status_code == 422, unknown.content
    (problem,) = unknown.json()["problems"]
    assert problem["field"] == "point"
    assert "NOPE" in problem["reason"]


def test_the_household_list_refuses_an_unknown_status_and_finds_an_area_in_any_case(op):
    household = register(op)
    registrar = client_for(op.registrar)
    bogus = registrar.get("/api/households/households", {"status": "bogus"})
    assert bogus.status_code == 422, bogus.content
    assert [p["field"] for p in bogus.json()["problems"]] == ["status"]
    pcode = household.origin_district.pcode
    for given in (pcode, pcode.lower()):
        found = registrar.get("/api/households/households", {"area": given, "status": "active"})
        assert found.status_code == 200, found.content
        assert [h["id"] for h in found.json()["items"]] == [household.pk]


def test_a_scanned_code_longer_than_a_card_is_refused_by_the_schema_without_being_quoted_back(op, open_round):
    # given a code scanned from something else than a household card, far longer than a card
    round_obj, _, _ = open_round
    scanned = "https://example.org/p?cnic=35202-1234567-1&name=Mohd+Aslam"
    body = {"point": "DP-BANA", "card": scanned, "collected_by": "the head", "handed_on": "2005-11-20"}
    # when it is sent as the card of a handover
    refused = post(client_for(op.distributor), f"/api/households/rounds/{round_obj.pk}/handovers", body)
    # then the request's validation refuses it by its length, as the form's field does, and no part
    # of the code is in the answer
    assert refused.status_code == 422, refused.content
    (problem,) = refused.json()["problems"]
    assert problem == {
        "row": None,
        "field": "card",
        "reason": f"String should have at most {TYPED_MAX} characters",
    }
    for part in ("example", "35202", "1234567", "Aslam", "ASLAM"):
        assert part not in refused.content.decode()
    assert not Movement.objects.filter(kind=MovementKind.DISTRIBUTION).exists()


def test_the_card_field_of_a_handover_is_as_long_as_the_form_s_and_holds_a_printed_token():
    # the schema's limit is the form's (a printed token, its dashes and spaces, fit within it)
    limit = HouseholdHandoverIn.model_json_schema()["properties"]["card"]["maxLength"]
    assert limit == TYPED_MAX == HandoverForm.base_fields["card"].max_length
    assert len(" K7M2 - 9QXD - A3 ") <= limit


def test_a_scanned_code_that_is_no_card_is_refused_without_being_quoted_back(op, open_round):
    # given a CNIC scanned instead of the household's card: short enough for the field
    round_obj, _, _ = open_round
    body = {
        "point": "DP-BANA",
        "card": "35202-1234567-1",
        "collected_by": "the head",
        "handed_on": "2005-11-20",
    }
    # when it is sent as the card of a handover
    refused = post(client_for(op.distributor), f"/api/households/rounds/{round_obj.pk}/handovers", body)
    # then the card is refused saying what is wrong, and no part of the number is in the answer
    assert refused.status_code == 422, refused.content
    (problem,) = refused.json()["problems"]
    assert problem["field"] == "card"
    assert problem["reason"].startswith("not a card token: it has 13 characters, not the 10 of a card")
    for part in ("35202", "1234567"):
        assert part not in refused.content.decode()
    assert not Movement.objects.filter(kind=MovementKind.DISTRIBUTION).exists()


def test_a_malformed_card_token_answers_422_naming_the_card_field(op, open_round):
    round_obj, _, _ = open_round
    body = {"point": "DP-BANA", "card": "XXXX-XXXX-XX", "collected_by": "the head", "handed_on": "2005-11-20"}
    refused = post(client_for(op.distributor), f"/api/households/rounds/{round_obj.pk}/handovers", body)
    assert refused.status_code == 422, refused.content
    (problem,) = refused.json()["problems"]
    assert problem["field"] == "card"
    assert problem["reason"] == (
        "not a card token: its last character (the check) does not match the others: one of them was "
        "mistyped or misread; scan the card or type its token again"
    )
    assert "XXXX" not in refused.content.decode()
    assert not Movement.objects.filter(kind=MovementKind.DISTRIBUTION).exists()


def test_a_handover_with_an_idempotency_key_of_the_longest_allowed_length_posts_once(op, open_round):
    # the ledger's key is the household's key with a prefix: longer than the ledger's column
    round_obj, household, _ = open_round
    body = {"point": "DP-BANA", "card": household.cards.get().token, "collected_by": "the head"}
    url = f"/api/households/rounds/{round_obj.pk}/handovers"
    key = "k" * 80
    distributor = client_for(op.distributor)
    first = post(distributor, url, {**body, "handed_on": "2005-11-20"}, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.content
    again = post(distributor, url, {**body, "handed_on": "2005-11-20"}, HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 200, again.content
    assert again.json()["replayed"] is True
    (movement,) = Movement.objects.filter(kind=MovementKind.DISTRIBUTION)
    assert len(movement.idempotency_key) <= Movement._meta.get_field("idempotency_key").max_length


def test_a_households_first_card_is_announced_as_its_first_and_a_later_one_as_replacing_it(op):
    household = register(op)
    registrar = client_for(op.registrar)
    url = f"/api/households/households/{household.pk}/card"
    first = post(registrar, url, {"reason": "registered"}, HTTP_IDEMPOTENCY_KEY="first-card")
    assert first.status_code == 201, first.content
    assert first.json()["message"] == f"Card {first.json()['token']} issued: the household's first card."
    second = post(registrar, url, {"reason": "lost"}, HTTP_IDEMPOTENCY_KEY="second-card")
    assert second.json()["message"] == (
        f"New card {second.json()['token']} issued; the old one no longer works."
    )


def test_a_card_reissue_repeated_with_its_key_replays_and_a_key_of_another_household_is_refused(op):
    household = register(op)
    other = register(op, head_name="Zainab Bibi", document_number="13503-7654321-2", phone="")
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    registrar = client_for(op.registrar)
    url = f"/api/households/households/{household.pk}/card"
    first = post(registrar, url, {"reason": "lost"}, HTTP_IDEMPOTENCY_KEY="card-1")
    assert first.status_code == 201, first.content
    assert first.json()["replayed"] is False
    # the same request again: the card issued the first time, nothing changed
    again = post(registrar, url, {"reason": "lost"}, HTTP_IDEMPOTENCY_KEY="card-1")
    assert again.status_code == 200, again.content
    assert again.json()["replayed"] is True
    assert again.json()["token"] == first.json()["token"]
    assert "already issued" in again.json()["message"]
    assert household.cards.count() == 2
    assert household.cards.get(voided_at__isnull=True).pk == household.cards.order_by("-pk")[0].pk
    # the key sent for another household's card is refused
    reused = post(
        registrar,
        f"/api/households/households/{other.pk}/card",
        {"reason": "lost"},
        HTTP_IDEMPOTENCY_KEY="card-1",
    )
    assert reused.status_code == 409, reused.content
    assert f"household {household.pk}" in reused.json()["detail"]
    assert other.cards.get().voided_at is None
    assert AuditEvent.objects.filter(action="household.card_reissue").count() == 1


@pytest.mark.parametrize(
    ("field", "says"),
    [
        pytest.param("head_name", "the head's name is at most 120 characters", id="head"),
        pytest.param(
            "father_or_husband_name", "the father's or husband's name is at most 120 characters", id="father"
        ),
    ],
)
def test_a_name_longer_than_its_field_is_refused_naming_the_field_and_its_limit(op, field, says):
    body = {**REGISTRATION, field: "Aslam " * 25}
    refused = post(client_for(op.registrar), "/api/households/households", body)
    assert refused.status_code == 422, refused.content
    assert refused.json()["problems"] == [{"row": None, "field": field, "reason": says}]
    assert "Aslam" not in refused.content.decode()
    assert not Household.objects.exists()


def test_texts_longer_than_their_columns_are_refused_naming_the_field(op):
    registrar = client_for(op.registrar)
    long = {**REGISTRATION, "other_vulnerability": "w" * 300}
    refused = post(registrar, "/api/households/households", long)
    assert refused.status_code == 422, refused.content
    (problem,) = refused.json()["problems"]
    assert problem["field"].endswith("other_vulnerability")
    assert "at most 120 characters" in problem["reason"]
    assert not Household.objects.exists()
    household = register(op)
    url = f"/api/households/households/{household.pk}"
    refused = patch(registrar, url, {"reason": "typo", "other_vulnerability": "w" * 300})
    assert refused.status_code == 422, refused.content
    assert "at most 120 characters" in refused.json()["problems"][0]["reason"]
    refused = post(registrar, f"{url}/card", {"reason": "r" * 300})
    assert refused.status_code == 422, refused.content
    (problem,) = refused.json()["problems"]
    assert problem["field"].endswith("reason")
    assert "at most 200 characters" in problem["reason"]
    household.refresh_from_db()
    assert household.other_vulnerability == ""
    assert not household.cards.exists()


def test_an_import_is_previewed_then_committed(op):
    csv = (
        "head_name,head_sex,females_18_59,origin,house_damage,consent\n"
        "Zainab Bibi,female,1,PK50401,destroyed,yes\n"
        "Sakina Bibi,female,1,PK50401,damaged,yes\n"
    )
    registrar = client_for(op.registrar)
    preview = post(
        registrar,
        "/api/households/imports",
        {"filename": "a.csv", "content_base64": base64.b64encode(csv.encode()).decode()},
    )
    assert preview.status_code == 201
    assert preview.json()["status"] == "previewed"
    assert preview.json()["rows"] == 2
    # the same file sent again before it is imported answers the waiting check (200), keeping no copy
    again = post(
        registrar,
        "/api/households/imports",
        {"filename": "a.csv", "content_base64": base64.b64encode(csv.encode()).decode()},
    )
    assert again.status_code == 200
    assert again.json()["id"] == preview.json()["id"]
    assert again.json()["message"].startswith(
        f"This file waits to be imported already, as import {again.json()['id']}"
    )
    assert HouseholdImport.objects.count() == 1
    committed = post(registrar, f"/api/households/imports/{preview.json()['id']}/commit")
    assert committed.status_code == 200
    assert committed.json()["created"] == 2
    assert Household.objects.count() == 2


def test_an_import_with_many_problems_answers_the_first_thousand_and_how_many_in_all(op):
    csv = b"head_name,head_sex,females_18_59,origin,house_damage,consent\n"
    csv += b",female,1,Atlantis,flattened,no\n" * 300  # four problems a row
    registrar = client_for(op.registrar)
    body = {"filename": "b.csv", "content_base64": base64.b64encode(csv).decode()}
    refused = post(registrar, "/api/households/imports", body)
    assert refused.status_code == 422, refused.content
    assert refused.json()["detail"] == "1,200 problems in b.csv; nothing was imported."
    assert refused.json()["problem_count"] == 1200
    assert len(refused.json()["problems"]) == 1001
    shown = registrar.get(f"/api/households/imports/{refused.json()['import_id']}").json()
    assert shown["problem_count"] == 1200
    assert len(shown["problems"]) == 1001
    assert shown["problems"][-1] == {"row": None, "field": "file", "reason": "… and 200 more problems"}


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            b"head_name,head_sex,females_18_59,origin,house_damage,consent\n,female,1,PK50401,x,no\n",
            id="bad-values",
        ),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", id="not-a-csv"),
    ],
)
def test_a_refused_import_answers_422_with_its_problems(op, content):
    registrar = client_for(op.registrar)
    body = {"filename": "c.csv", "content_base64": base64.b64encode(content).decode()}
    refused = post(registrar, "/api/households/imports", body)
    assert refused.status_code == 422, refused.content
    answer = refused.json()
    assert answer["problems"]
    assert answer["problem_count"] >= 1
    assert "nothing was imported" in answer["detail"]
    assert HouseholdImport.objects.get(pk=answer["import_id"]).status == "refused"
    assert post(registrar, f"/api/households/imports/{answer['import_id']}/commit").status_code == 409


def test_the_same_file_uploaded_again_through_the_api_says_so_and_imports_nothing(op):
    registrar = client_for(op.registrar)
    csv = b"head_name,head_sex,females_18_59,origin,house_damage,consent\n"
    csv += b"Zainab Bibi,female,1,PK50401,destroyed,yes\n"
    body = {"filename": "a.csv", "content_base64": base64.b64encode(csv).decode()}
    first = post(registrar, "/api/households/imports", body).json()
    assert post(registrar, f"/api/households/imports/{first['id']}/commit").status_code == 200
    again = post(registrar, "/api/households/imports", body)
    assert again.status_code == 201, again.content
    assert again.json()["same_file_as"] == first["id"]
    assert f"the same file as import {first['id']}" in again.json()["message"]
    shown = registrar.get(f"/api/households/imports/{again.json()['id']}").json()
    assert shown["same_file_as"] == first["id"]
    committed = post(registrar, f"/api/households/imports/{again.json()['id']}/commit")
    assert committed.status_code == 200, committed.content
    assert "nothing was imported again" in committed.json()["message"]
    assert Household.objects.count() == 1


def test_a_pair_is_decided_through_the_queue(op):
    first = register(op)
    again = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    registrar = client_for(op.registrar)
    queue = registrar.get("/api/households/duplicates").json()
    (pair,) = queue["items"]
    assert (pair["first"]["id"], pair["second"]["id"]) == (first.pk, again.pk)
    decided = post(
        registrar, f"/api/households/duplicates/{pair['id']}/decision", {"same": True, "survivor": first.pk}
    )
    assert decided.status_code == 200
    assert decided.json()["status"] == "same"
    again.refresh_from_db()
    assert again.status == HouseholdStatus.MERGED
    assert registrar.get("/api/households/duplicates").json()["count"] == 0


def test_a_round_is_planned_listed_and_opened_through_the_api(op):
    register(op)
    registrar = client_for(op.registrar)
    created = post(
        registrar,
        "/api/households/rounds",
        {
            "code": "WR-9",
            "name": "Winter Race",
            "starts_on": "2005-11-14",
            "ends_on": "2006-01-31",
            "points": [{"site": "DP-BANA"}, {"site": "DP-RAJ-PATTIAN", "serves": "PK522"}],
            "package": [
                {"item": "BLANKET", "per_member": 2, "at_most": 10},
                {"item": "CGI-SHEET", "per_household": 10},
            ],
            "elevation_bands": ["5000_to_7000", "above_7000"],
        },
    )
    assert created.status_code == 201, created.content
    round_id = created.json()["id"]
    assert created.json()["points"][1]["serves"] == "PK522"
    listed = post(registrar, f"/api/households/rounds/{round_id}/list")
    assert listed.json()["added"] == 1
    opened = post(registrar, f"/api/households/rounds/{round_id}/status", {"status": "open"})
    assert opened.json()["status"] == "open"
    assert post(registrar, f"/api/households/rounds/{round_id}/cards").json()["issued"] == 1
    bad = post(
        registrar,
        "/api/households/rounds",
        {**created.json(), "code": "WR-10", "points": [{"site": "NOWHERE"}], "package": []},
    )
    assert bad.status_code == 422


def patch(client: Client, url: str, body: dict, **headers):
    return client.patch(url, json.dumps(body), content_type="application/json", **headers)


def test_a_registration_is_corrected_with_patch_and_a_repeat_replays(op):
    household = register(op, members={"males_0_5": 0})
    url = f"/api/households/households/{household.pk}"
    body = {"reason": "the baby was not counted", "members": {"males_0_5": 1}, "phone": "0345 7654321"}
    registrar = client_for(op.registrar)
    # when the registrar corrects two fields, leaving the others out
    done = patch(registrar, url, body, HTTP_IDEMPOTENCY_KEY="fix-1")
    # then only those change, and the answer says which
    assert done.status_code == 200, done.content
    answer = done.json()
    assert answer["fields"] == ["phone", "males_0_5"]
    assert answer["household"]["size"] == 4
    assert answer["household"]["phone"] == "+923457654321"
    assert answer["household"]["head_name"] == "Muhammad Aslam"
    assert answer["replayed"] is False
    # and the same request with its key again changes nothing and says so
    again = patch(registrar, url, body, HTTP_IDEMPOTENCY_KEY="fix-1")
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    assert AuditEvent.objects.filter(action="household.correct").count() == 1


def test_a_replayed_registration_or_correction_showing_personal_data_is_audited(op):
    registrar = client_for(op.registrar)
    viewed = AuditEvent.objects.filter(action="household.view_personal_data")
    first = post(registrar, "/api/households/households", REGISTRATION, HTTP_IDEMPOTENCY_KEY="reg-1")
    household_id = first.json()["household"]["id"]
    before = viewed.count()
    again = post(registrar, "/api/households/households", REGISTRATION, HTTP_IDEMPOTENCY_KEY="reg-1")
    assert again.json()["replayed"] is True
    assert again.json()["household"]["head_name"] == "Muhammad Aslam"
    event = viewed.order_by("-pk")[0]
    assert viewed.count() == before + 1
    assert (event.actor_id, event.after["households"]) == (op.registrar.pk, [household_id])
    url = f"/api/households/households/{household_id}"
    body = {"reason": "the baby was not counted", "members": {"males_0_5": 3}}
    patch(registrar, url, body, HTTP_IDEMPOTENCY_KEY="fix-1")
    again = patch(registrar, url, body, HTTP_IDEMPOTENCY_KEY="fix-1")
    assert again.json()["replayed"] is True
    assert viewed.count() == before + 2
    assert viewed.order_by("-pk")[0].after["households"] == [household_id]


def test_a_correction_that_changes_nothing_yet_answers_the_personal_data_is_audited(op):
    household = register(op)
    url = f"/api/households/households/{household.pk}"
    registrar = client_for(op.registrar)
    viewed = AuditEvent.objects.filter(action="household.view_personal_data")
    before = viewed.count()
    for body in ({"reason": "x"}, {"reason": "x", "origin_village": "Batkul"}):
        answer = patch(registrar, url, body)
        assert answer.status_code == 200, answer.content
        assert "already reads so: nothing changed" in answer.json()["message"]
        assert answer.json()["household"]["head_name"] == "Muhammad Aslam"
    assert viewed.count() == before + 2
    event = viewed.order_by("-pk")[0]
    assert (event.actor_id, event.after["households"]) == (op.registrar.pk, [household.pk])
    assert not AuditEvent.objects.filter(action="household.correct").exists()


def test_a_correction_key_sent_again_for_another_household_is_refused(op):
    first = register(op)
    second = register(op, head_name="Zainab Bibi", document_number="13503-7654321-2", phone="")
    registrar = client_for(op.registrar)
    body = {"reason": "mistyped", "origin_village": "Rashang"}
    done = patch(registrar, f"/api/households/households/{first.pk}", body, HTTP_IDEMPOTENCY_KEY="fix-9")
    assert done.status_code == 200, done.content
    reused = patch(registrar, f"/api/households/households/{second.pk}", body, HTTP_IDEMPOTENCY_KEY="fix-9")
    assert reused.status_code == 409, reused.content
    assert f"was used for a correction of household {first.pk}" in reused.json()["detail"]
    second.refresh_from_db()
    assert second.origin_village == "Batkul"
    assert second.corrections.count() == 0


def test_a_registration_key_sent_again_for_another_household_is_refused(op):
    # given a household registered with a key
    registrar = client_for(op.registrar)
    first = post(registrar, "/api/households/households", REGISTRATION, HTTP_IDEMPOTENCY_KEY="reg-2")
    assert first.status_code == 201, first.content
    household_id = first.json()["household"]["id"]
    # when another family is sent with the same key
    other = {
        **REGISTRATION,
        "head_name": "Zainab Bibi",
        "head_sex": "female",
        "document_type": "none",
        "document_number": "",
        "phone": "",
    }
    reused = post(registrar, "/api/households/households", other, HTTP_IDEMPOTENCY_KEY="reg-2")
    # then it is refused, naming the household the key registered (not its head), and nothing is written
    assert reused.status_code == 409, reused.content
    assert reused.json()["detail"] == (
        f"this idempotency key was used to register household {household_id}; send a new key to register "
        "another household"
    )
    assert "Muhammad" not in reused.content.decode()
    assert Household.objects.count() == 1
    # while the same family sent again with its key (a retry, the name spaced otherwise) is a replay
    again = post(
        registrar,
        "/api/households/households",
        {**REGISTRATION, "head_name": " muhammad  Aslam "},
        HTTP_IDEMPOTENCY_KEY="reg-2",
    )
    assert again.status_code == 200, again.content
    assert again.json()["replayed"] is True


def test_a_refused_correction_names_its_fields_and_changes_nothing(op):
    household = register(op)
    response = patch(
        client_for(op.registrar),
        f"/api/households/households/{household.pk}",
        {"reason": "", "document_number": "123", "origin": "Atlantis"},
    )
    assert response.status_code == 422
    assert {p["field"] for p in response.json()["problems"]} == {"reason", "document_number", "origin"}
    household.refresh_from_db()
    assert household.document_number == "1350312345671"


def test_a_correction_that_looks_like_another_household_answers_409_until_seen(op):
    first = register(op)
    second = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        document_type="none",
        document_number="",
        phone="",
    )
    url = f"/api/households/households/{second.pk}"
    body = {"reason": "misheard", "head_name": "Mohd Aslam", "father_or_husband_name": "Ghulam Rasool"}
    registrar = client_for(op.registrar)
    shown = patch(registrar, url, body)
    assert shown.status_code == 409, shown.content
    (duplicate,) = shown.json()["duplicates"]
    assert duplicate["household_id"] == first.pk
    assert Household.objects.get(pk=second.pk).head_name == "Sher Zaman"
    seen = patch(registrar, url, {**body, "duplicates_seen": [first.pk]})
    assert seen.status_code == 200
    assert seen.json()["duplicates_queued"] == [first.pk]


@pytest.mark.parametrize("role", [r for r in Role if r not in {Role.ADMIN, Role.REGISTRAR}], ids=str)
def test_only_registrars_and_admins_may_correct_a_household(op, role):
    household = register(op)
    user = make_user(role, distribution_points=[op.bana]) if role == Role.DISTRIBUTOR else make_user(role)
    response = patch(
        client_for(user), f"/api/households/households/{household.pk}", {"reason": "x", "phone": ""}
    )
    assert response.status_code == 403
    assert Household.objects.get(pk=household.pk).phone == "+923001234567"


def test_a_handover_key_sent_again_for_another_household_is_refused_and_serves_nobody_twice(op, open_round):
    # given two households listed at Bana, the first served with the key "tab-1"
    round_obj, household, _ = open_round
    other = register(op, head_name="Gul Bibi", head_sex="female", document_number="13503-0000003-2", phone="")
    round_make_list(actor=op.registrar, round_id=round_obj.pk)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    url = f"/api/households/rounds/{round_obj.pk}/handovers"
    body = {"point": "DP-BANA", "collected_by": "the head", "handed_on": "2005-11-20"}
    distributor = client_for(op.distributor)
    first = post(
        distributor, url, {**body, "card": household.cards.get().token}, HTTP_IDEMPOTENCY_KEY="tab-1"
    )
    assert first.status_code == 201, first.content
    movements = Movement.objects.count()
    # when the same key comes with the other household's card
    again = post(distributor, url, {**body, "card": other.cards.get().token}, HTTP_IDEMPOTENCY_KEY="tab-1")
    # then it is refused, naming the household the key served, and nothing is posted
    assert again.status_code == 409, again.content
    assert again.json()["detail"] == (
        f"this idempotency key was used for a handover to household {household.pk}; send a new key"
    )
    assert Movement.objects.count() == movements
    # and so is the same key naming the other household by its number
    by_number = post(distributor, url, {**body, "household": other.pk}, HTTP_IDEMPOTENCY_KEY="tab-1")
    assert by_number.status_code == 409
    # while the first household's own repeat, by card or by number, is still a replay
    for repeat in ({"card": household.cards.get().token}, {"household": household.pk}):
        replay = post(distributor, url, {**body, **repeat}, HTTP_IDEMPOTENCY_KEY="tab-1")
        assert replay.status_code == 200
        assert replay.json()["replayed"] is True
    # and the other household, with a new key, is served
    served = post(distributor, url, {**body, "household": other.pk}, HTTP_IDEMPOTENCY_KEY="tab-2")
    assert served.status_code == 201
    assert served.json()["household_id"] == other.pk


ROUND = {
    "code": "DBL-ROUND",
    "name": "Winter Race",
    "starts_on": "2005-11-14",
    "ends_on": "2006-01-31",
    "points": [{"site": "DP-BANA"}],
    "package": [{"item": "BLANKET", "per_member": 2, "at_most": 10}],
}


def test_a_round_planned_twice_with_one_key_is_planned_once_and_the_repeat_says_so(op):
    registrar = client_for(op.registrar)
    first = post(registrar, "/api/households/rounds", ROUND, HTTP_IDEMPOTENCY_KEY="plan-1")
    assert first.status_code == 201, first.content
    assert first.json()["replayed"] is False
    again = post(registrar, "/api/households/rounds", ROUND, HTTP_IDEMPOTENCY_KEY="plan-1")
    assert again.status_code == 200, again.content
    assert again.json()["replayed"] is True
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["message"] == "Round DBL-ROUND was already planned: nothing changed."
    assert AuditEvent.objects.filter(action="round.create").count() == 1
    # without the key, the code is taken: refused as before
    taken = post(registrar, "/api/households/rounds", ROUND)
    assert taken.status_code == 422
    # and the key sent again for another round is refused, naming the round it planned
    other = post(
        registrar, "/api/households/rounds", {**ROUND, "code": "DBL-2"}, HTTP_IDEMPOTENCY_KEY="plan-1"
    )
    assert other.status_code == 409
    assert "used to plan round DBL-ROUND" in other.json()["detail"]


def test_closing_a_round_twice_says_it_was_closed_already(op, open_round):
    round_obj, _, _ = open_round
    registrar = client_for(op.registrar)
    url = f"/api/households/rounds/{round_obj.pk}/status"
    closed = post(registrar, url, {"status": "closed"})
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["replayed"]) == ("closed", False)
    again = post(registrar, url, {"status": "closed"})
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    assert again.json()["message"].startswith(f"Round {round_obj.code} was already closed on ")
    assert again.json()["message"].endswith(": nothing changed.")
    assert AuditEvent.objects.filter(action="round.status", after__status="closed").count() == 1


def test_a_household_is_taken_off_a_rounds_list_through_the_api(op, open_round):
    round_obj, household, _ = open_round
    url = f"/api/households/rounds/{round_obj.pk}/list/removals"
    body = {"household": household.pk, "reason": "corrected: below 5,000 ft"}
    # a distributor may not
    assert post(client_for(op.distributor), url, body).status_code == 403
    done = post(client_for(op.registrar), url, body)
    assert done.status_code == 200, done.content
    assert (done.json()["household_id"], done.json()["replayed"]) == (household.pk, False)
    listed = client_for(op.registrar).get(f"/api/households/rounds/{round_obj.pk}/distribution-list").json()
    assert household.pk not in [row["household_id"] for row in listed["items"]]
    again = post(client_for(op.registrar), url, body)
    assert again.json()["replayed"] is True
    assert post(client_for(op.registrar), url, {**body, "reason": " "}).status_code == 422


def test_a_household_number_typed_in_urdu_digits_is_found(op):
    household = register(op)
    urdu = str(household.pk).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    found = client_for(op.registrar).get("/api/households/households", {"q": urdu}).json()
    assert [h["id"] for h in found["items"]] == [household.pk]


def test_every_households_path_reaches_its_own_operation():
    # The operations are declared in several modules: a path with a fixed segment declared after one
    # with a parameter in its place (/households/export after /households/{household_id}) would be
    # taken by the other, whatever the reference says.
    paths = [p for p in api.get_openapi_schema()["paths"] if p.startswith("/api/households/")]
    assert len(paths) > 20
    for path in paths:
        reached = resolve(re.sub(r"\{\w+\}", "1", path)).route
        assert re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/" + reached) == path
