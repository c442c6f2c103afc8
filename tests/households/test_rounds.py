"""Distribution rounds: planning, eligibility, the distribution list at the serving point, cards."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.core.errors import Conflict, InvalidInput
from reliefops.households.cards import ALPHABET, check_character, normalise_token, printed, qr_svg
from reliefops.households.models import Entitlement, HouseholdCard, RoundStatus
from reliefops.households.selectors import distribution_list, eligible_households
from reliefops.households.services import (
    PackageInput,
    PointInput,
    card_reissue,
    cards_issue,
    round_create,
    round_make_list,
    round_set_status,
)
from tests.households.conftest import register, winter_round


def test_a_round_with_bad_values_is_refused_with_every_problem(op):
    with pytest.raises(InvalidInput) as refused:
        round_create(
            actor=op.registrar,
            code="bad code",
            name="",
            starts_on=dt.date(2006, 1, 31),
            ends_on=dt.date(2005, 11, 14),
            points=[PointInput(site_id=op.maira.pk)],
            package=[
                PackageInput(item_id=op.cgi.pk),
                PackageInput(item_id=op.blanket.pk, per_member=2, at_most=0),
            ],
            elevation_bands=["very_high"],
        )
    fields = sorted(p.field for p in refused.value.problems)
    assert fields == ["at_most", "code", "elevation_bands", "ends_on", "name", "per_household", "points"]


def test_a_round_name_or_package_larger_than_its_columns_is_refused(op):
    # given a name longer than the column and quantities beyond a 32-bit column (the API let them
    # through, and PostgreSQL refused the row itself)
    with pytest.raises(InvalidInput) as refused:
        round_create(
            actor=op.registrar,
            code="WR-9",
            name="Winter Race " * 20,
            starts_on=dt.date(2005, 11, 14),
            ends_on=dt.date(2006, 1, 31),
            points=[PointInput(site_id=op.bana.pk)],
            package=[PackageInput(item_id=op.cgi.pk, per_household=3_000_000_000, at_most=2**40)],
        )
    assert sorted((p.field, p.reason) for p in refused.value.problems) == [
        ("at_most", "1099511627776 is out of range: at most 2,147,483,647"),
        ("name", "at most 160 characters"),
        ("per_household", "3000000000 is out of range: at most 2,147,483,647"),
    ]


def test_eligibility_follows_every_condition_of_the_round(op):
    # given households high and low, destroyed and undamaged
    high = register(op, document_number="13503-0000001-1")
    register(
        op, head_name="Sher Zaman", document_number="13503-0000002-1", elevation_band="below_5000", phone=""
    )
    register(op, head_name="Gul Zaman", document_number="13503-0000003-1", house_damage="none", phone="")
    unknown = register(
        op, head_name="Fazal Rahim", document_number="13503-0000004-1", elevation_band="", phone=""
    )
    # when the round asks for above 5,000 ft and destroyed or damaged houses
    round_obj = winter_round(op, open_it=False)
    # then only the high, destroyed household is eligible
    assert list(eligible_households(round_obj)) == [high]
    assert unknown not in eligible_households(round_obj)


def test_vulnerability_living_and_earlier_rounds_narrow_the_list(op):
    widow = register(op, head_name="Zainab Bibi", head_sex="female", document_number="13503-0000001-2")
    in_camp = register(
        op, head_name="Sher Zaman", document_number="13503-0000003-1", current_site="CAMP-MAIRA", phone=""
    )
    register(op, head_name="Gul Zaman", document_number="13503-0000005-1", phone="")
    female_headed = winter_round(op, code="WR-F", open_it=False, vulnerabilities=["female_headed"])
    assert list(eligible_households(female_headed)) == [widow]
    camps = winter_round(op, code="WR-C", open_it=False, living="camp")
    assert list(eligible_households(camps)) == [in_camp]


def test_the_list_puts_each_household_at_the_point_that_serves_its_place(op):
    # given households of Allai, of Bala Kot, living in Maira camp, and of an area no point serves
    allai = register(op, document_number="13503-0000001-1")
    balakot = register(
        op, head_name="Sher Zaman", document_number="13503-0000002-1", origin="PK52201", phone=""
    )
    camp = register(
        op,
        head_name="Gul Zaman",
        document_number="13503-0000003-1",
        origin="PK52201",
        current_site="CAMP-MAIRA",
        phone="",
    )
    register(op, head_name="Fazal Rahim", document_number="13503-0000004-1", origin="PK504", phone="")
    round_obj = winter_round(op, open_it=False)
    # when the list is made
    result = round_make_list(actor=op.registrar, round_id=round_obj.pk)
    # then each is listed at its point (the camp's household at the camp's point), one is left out
    points = dict(Entitlement.objects.values_list("household_id", "point__code"))
    assert points == {allai.pk: "DP-BANA", balakot.pk: "DP-RAJ-PATTIAN", camp.pk: "DP-BANA"}
    assert (result.added, result.without_point) == (3, 1)
    # and making it again adds no one twice
    again = round_make_list(actor=op.registrar, round_id=round_obj.pk)
    assert (again.added, again.already_listed) == (0, 3)


def test_a_round_opens_only_with_a_list_and_a_closed_round_stays_closed(op):
    round_obj = winter_round(op, open_it=False)
    with pytest.raises(Conflict, match="make the distribution list"):
        round_set_status(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.OPEN)
    round_make_list(actor=op.registrar, round_id=round_obj.pk)
    round_set_status(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.OPEN)
    round_set_status(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.CLOSED)
    with pytest.raises(Conflict, match="cannot become open"):
        round_set_status(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.OPEN)


def test_entitlements_count_members_with_the_cap(op):
    # given a household of 7 and one of 4; 10 CGI a household, 2 blankets a person but at most 10
    big = register(op, document_number="13503-0000001-1", members={"males_6_17": 3, "females_60_plus": 1})
    small = register(op, head_name="Sher Zaman", document_number="13503-0000002-1", phone="")
    round_obj = winter_round(op)
    rows = {row.household.pk: row.entitled for row in distribution_list(round_obj)}
    assert rows[big.pk] == {op.cgi.pk: 10, op.blanket.pk: 10}
    assert rows[small.pk] == {op.cgi.pk: 10, op.blanket.pk: 8}


def test_cards_are_issued_once_and_a_reissue_voids_the_old_token(op):
    household = register(op)
    round_obj = winter_round(op)
    assert cards_issue(actor=op.registrar, round_id=round_obj.pk) == 1
    assert cards_issue(actor=op.registrar, round_id=round_obj.pk) == 0
    old = HouseholdCard.objects.get()
    assert normalise_token(printed(old.token).lower()) == old.token
    new = card_reissue(actor=op.registrar, household_id=household.pk, reason="lost in the snow").card
    old.refresh_from_db()
    assert old.voided_at is not None
    assert old.void_reason == "lost in the snow"
    assert new.token != old.token
    assert new.voided_at is None
    assert HouseholdCard.objects.filter(household=household, voided_at__isnull=True).count() == 1


def test_a_card_reissue_reason_longer_than_its_column_is_refused_and_nothing_changes(op):
    household = register(op)
    cards_issue(actor=op.registrar, round_id=winter_round(op).pk)
    with pytest.raises(InvalidInput) as refused:
        card_reissue(actor=op.registrar, household_id=household.pk, reason="r" * 201)
    assert [(p.field, p.reason) for p in refused.value.problems] == [("reason", "at most 200 characters")]
    card = household.cards.get()
    assert (card.voided_at, card.void_reason) == (None, "")


def test_any_one_mistyped_character_fails_the_token_check_and_the_qr_code_is_inline_svg():
    # given a token
    body = "K7M29QXDA"
    token = body + check_character(body)
    assert normalise_token(token) == token
    assert normalise_token("k7m2-9qxd-" + token[-2:].lower()) == token
    # then every one-character mistake is caught (the check character never names another card)
    for position in range(len(token)):
        for char in ALPHABET:
            if char != token[position]:
                assert normalise_token(token[:position] + char + token[position + 1 :]) is None
    assert normalise_token(token[:-1]) is None
    # and its QR code is an inline SVG that fetches nothing
    svg = qr_svg(token)
    assert svg.startswith("<svg")
    assert "href" not in svg
