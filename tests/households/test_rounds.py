"""Distribution rounds: planning, eligibility, the distribution list at the serving point, cards."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from reliefops.core.errors import Conflict, InvalidInput
from reliefops.core.models import AuditEvent
from reliefops.households.cards import ALPHABET, check_character, normalise_token, printed, qr_svg
from reliefops.households.models import DistributionRound, Entitlement, HouseholdCard, RoundStatus
from reliefops.households.selectors import distribution_list, eligible_households
from reliefops.households.services import (
    HandoverRefused,
    PackageInput,
    PointInput,
    RoundInput,
    card_reissue,
    cards_issue,
    entitlement_cancel,
    handover_record,
    round_check,
    round_create,
    round_make_list,
    round_plan,
    round_set_status,
    round_status_change,
)
from reliefops.households.services import rounds as service
from tests.households.conftest import DAY, receive, register, winter_round


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


def _plan(op, *, idempotency_key, code="DBL-ROUND"):
    round_input = RoundInput(
        code=code,
        name="Winter Race",
        starts_on=dt.date(2005, 11, 14),
        ends_on=dt.date(2006, 1, 31),
        points=[PointInput(site_id=op.bana.pk)],
        package=[PackageInput(item_id=op.blanket.pk, per_member=2, at_most=10)],
    )
    return round_plan(actor=op.registrar, round_input=round_input, idempotency_key=idempotency_key)


def test_a_round_planned_twice_with_its_key_is_planned_once(op):
    first = _plan(op, idempotency_key="form-7")
    again = _plan(op, idempotency_key="form-7")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.round == first.round
    assert again.message == "Round DBL-ROUND was already planned: nothing changed."
    assert DistributionRound.objects.count() == 1
    with pytest.raises(Conflict, match="used to plan round DBL-ROUND; send a new key to plan round OTHER"):
        _plan(op, code="OTHER", idempotency_key="form-7")
    with pytest.raises(InvalidInput, match="round DBL-ROUND exists already"):
        _plan(op, idempotency_key="form-8")


def test_a_repeat_that_arrives_while_the_first_is_saved_is_answered_as_a_repeat(op, monkeypatch):
    # given the first submission committed after the second looked its key up (a double click)
    first = _plan(op, idempotency_key="form-9")
    looked_up = service._planned_with
    calls = []

    def not_yet(key, code):
        calls.append(key)
        return None if len(calls) == 1 else looked_up(key, code)

    monkeypatch.setattr(service, "_planned_with", not_yet)
    # when the second finds the code taken
    again = _plan(op, idempotency_key="form-9")
    # then it answers the first round, not "exists already"
    assert again.replayed
    assert again.round == first.round


def test_a_round_check_names_every_problem_without_writing(op):
    problems = round_check(
        round_input=RoundInput(
            code="WR-1",
            name="x",
            starts_on=dt.date(2006, 1, 31),
            ends_on=dt.date(2005, 11, 14),
            points=[],
            package=[PackageInput(item_id=op.blanket.pk)],
        )
    )
    assert sorted(p.field for p in problems) == ["ends_on", "per_household", "points"]
    assert not DistributionRound.objects.exists()


def test_one_round_input_is_checked_and_planned_alike(op):
    # given a round with problems of every kind: its fields, a point, a package line, an area
    round_input = RoundInput(
        code=" WR-7 ",
        name="",
        starts_on=dt.date(2006, 1, 31),
        ends_on=dt.date(2005, 11, 14),
        points=[PointInput(site_id=op.maira.pk)],
        package=[PackageInput(item_id=op.blanket.pk, per_member=2, at_most=0)],
        area_ids=[0],
        living="afloat",
    )
    # when it is checked, and then planned
    checked = round_check(round_input=round_input)
    with pytest.raises(InvalidInput) as refused:
        round_plan(actor=op.registrar, round_input=round_input)
    # then the plan is refused with the very problems the check named, and nothing is written
    assert sorted(refused.value.problems, key=repr) == sorted(checked, key=repr)
    assert sorted(p.field for p in checked) == ["areas", "at_most", "ends_on", "living", "name", "points"]
    assert not DistributionRound.objects.exists()
    # and once mended, the same input (its code given with spaces) plans the round
    mended = replace(
        round_input,
        name="Winter Race",
        starts_on=dt.date(2005, 11, 14),
        ends_on=dt.date(2006, 1, 31),
        points=[PointInput(site_id=op.bana.pk)],
        package=[PackageInput(item_id=op.blanket.pk, per_member=2, at_most=10)],
        area_ids=[],
        living="any",
    )
    assert round_check(round_input=mended) == []
    assert round_plan(actor=op.registrar, round_input=mended).round.code == "WR-7"


def test_closing_is_said_once_and_a_second_close_changes_nothing(op):
    round_obj = winter_round(op)
    closed = round_status_change(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.CLOSED)
    assert closed.changed
    assert closed.round.closed_at is not None
    again = round_status_change(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.CLOSED)
    assert not again.changed
    assert again.message.startswith("Round WR-1 was already closed on ")
    assert again.message.endswith(": nothing changed.")
    # and a closed round issues no more cards
    with pytest.raises(Conflict, match="round WR-1 is closed: it issues no more cards"):
        cards_issue(actor=op.registrar, round_id=round_obj.pk)


def test_a_household_taken_off_a_list_is_not_served_nor_listed_again(op):
    # given two households listed in an open round, one of them served
    household = register(op)
    served = register(op, head_name="Sher Zaman", document_number="13503-0000004-1", phone="")
    receive(op, op.bana, op.cgi, 100, "GRN-1")
    receive(op, op.bana, op.blanket, 100, "GRN-2")
    round_obj = winter_round(op)
    handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=served.pk,
        collected_by="the head",
        handed_on=DAY,
    )
    # when the manager takes the first off the list, with a reason
    done = entitlement_cancel(
        actor=op.registrar, round_id=round_obj.pk, household_id=household.pk, reason="moved"
    )
    # then it is off the list, its handover is refused, and the list made again leaves it off
    assert "taken off the list of WR-1" in done.message
    assert [r.household.pk for r in distribution_list(round_obj)] == [served.pk]
    with pytest.raises(HandoverRefused, match="is not on the list of round WR-1"):
        handover_record(
            actor=op.distributor,
            round_id=round_obj.pk,
            point_site_id=op.bana.pk,
            household_id=household.pk,
            collected_by="the head",
            handed_on=DAY,
        )
    listed = round_make_list(actor=op.registrar, round_id=round_obj.pk)
    assert listed.added == 0
    assert "1 eligible household was taken off the list before: not listed again" in listed.message
    # and asked again, nothing changes; the audit trail has it once, with the reason
    again = entitlement_cancel(
        actor=op.registrar, round_id=round_obj.pk, household_id=household.pk, reason="x"
    )
    assert again.replayed
    assert "already: nothing changed" in again.message
    (event,) = AuditEvent.objects.filter(action="round.unlist")
    assert event.after == {"household": household.pk, "entitlement": done.entitlement.pk, "reason": "moved"}
    # a served household stays listed, a reason is required, and a closed round's list no longer changes
    with pytest.raises(
        Conflict, match="received its package of round WR-1 on 20 Nov 2005: it stays on the list"
    ):
        entitlement_cancel(actor=op.registrar, round_id=round_obj.pk, household_id=served.pk, reason="x")
    with pytest.raises(InvalidInput, match="say why"):
        entitlement_cancel(actor=op.registrar, round_id=round_obj.pk, household_id=served.pk, reason=" ")
    with pytest.raises(Conflict, match="is not on the list of round WR-1"):
        entitlement_cancel(actor=op.registrar, round_id=round_obj.pk, household_id=9999, reason="x")
    round_set_status(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.CLOSED)
    other = register(op, head_name="Gul Bibi", document_number="13503-0000006-2", head_sex="female", phone="")
    Entitlement.objects.create(round=round_obj, household=other, point=op.bana, members=4)
    with pytest.raises(Conflict, match="round WR-1 is closed: its list no longer changes"):
        entitlement_cancel(actor=op.registrar, round_id=round_obj.pk, household_id=other.pk, reason="x")
