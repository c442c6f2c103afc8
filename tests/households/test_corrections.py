"""Correcting a registered household: checked as a registration is, likely duplicates shown before
saving, merged and anonymised households refused, the audit naming the fields changed without the
personal values, a repeated submission changing nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.core.errors import Conflict, InvalidInput, NotFound
from reliefops.core.models import AuditEvent
from reliefops.households.models import (
    DuplicatePair,
    Entitlement,
    Household,
    HouseholdCorrection,
    MatchKey,
    PairStatus,
)
from reliefops.households.services import (
    DuplicatesFound,
    handover_record,
    household_merge,
    household_register,
    household_update,
    households_anonymise,
    pair_decide,
)
from tests.households.conftest import DAY, household_input, receive, register, winter_round


def state():
    """What a refused correction must leave alone."""
    return (
        sorted(Household.objects.values_list()),
        HouseholdCorrection.objects.count(),
        AuditEvent.objects.filter(action="household.correct").count(),
        sorted(MatchKey.objects.values_list("household_id", "key")),
        DuplicatePair.objects.count(),
    )


def test_a_correction_changes_the_fields_keeps_who_and_why_and_audits_field_names_only(op):
    # given a household registered with a mistyped CNIC, a phone and three of its four members
    household = register(op, members={"males_0_5": 0}, document_number="13503-1234567-9")
    # when the registrar corrects the CNIC (written as 13 digits), the phone and adds the child
    result = household_update(
        actor=op.registrar,
        household_id=household.pk,
        changes={
            "document_number": "1350312345671",
            "phone": "0345 7654321",
            "members": {"males_0_5": 1},
            "house_damage": "damaged",
        },
        reason="CNIC mistyped at registration; the baby was not counted",
    )
    # then the registration is corrected, normalised, its size follows its members
    household.refresh_from_db()
    assert household.document_number == "1350312345671"
    assert household.phone == "+923457654321"
    assert (household.males_0_5, household.size) == (1, 4)
    assert household.house_damage == "damaged"
    assert result.fields == ["document_number", "phone", "males_0_5", "house_damage"]
    assert "document number, phone, boys 0-5, house damage" in result.message
    # and the correction is kept: who, why, which fields
    correction = HouseholdCorrection.objects.get()
    assert (correction.household, correction.corrected_by) == (household, op.registrar)
    assert correction.reason == "CNIC mistyped at registration; the baby was not counted"
    assert correction.fields == result.fields
    # and the audit event names the personal fields without their old or new values
    event = AuditEvent.objects.get(action="household.correct")
    assert (event.actor, event.object_id) == (op.registrar, str(household.pk))
    assert event.after["personal_fields"] == ["document_number", "phone"]
    assert event.before == {"males_0_5": 0, "house_damage": "destroyed"}
    assert event.after["males_0_5"] == 1
    assert event.after["house_damage"] == "damaged"
    text = f"{event.before} {event.after}"
    for personal in ("13503", "1234567", "7654321", "Aslam", "Rasool", "Batkul"):
        assert personal not in text


def test_the_blocking_keys_follow_a_corrected_name(op):
    # given a household registered under a wrong name
    household = register(op, head_name="Sher Zaman", father_or_husband_name="Gul Zaman", phone="")
    # when its name is corrected
    household_update(
        actor=op.registrar,
        household_id=household.pk,
        changes={"head_name": "Muhammad Aslam", "father_or_husband_name": "Ghulam Rasool"},
        reason="the head's brother gave his own name",
    )
    # then a new registration of that name finds it as a likely duplicate
    draft = household_input(document_type="none", document_number="", phone="")
    with pytest.raises(DuplicatesFound) as shown:
        household_register(actor=op.registrar, data=draft)
    assert [m.second_id for m in shown.value.matches] == [household.pk]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"document_number": "13503-12345-1"}, "document_number", "13 digits"),
        ({"document_number": "1111111111111"}, "document_number", "placeholder"),
        ({"document_type": "passport"}, "document_type", "unknown document type"),
        ({"document_type": "none"}, None, None),  # clears the number: accepted
        ({"head_name": "  "}, "head_name", "required"),
        ({"head_name": "12345"}, "head_name", "a name has letters"),
        ({"phone": "12345"}, "phone", "trunk 0"),
        ({"origin": "Atlantis"}, "origin", "neither a P-code nor a place name"),
        ({"current_site": "DP-BANA"}, "current_site", "not the code of a camp"),
        (
            {"members": {"females_18_59": 0, "males_18_59": 0, "females_6_17": 0, "males_0_5": 0}},
            "members",
            "at least one",
        ),
        ({"members": {"males_0_5": 41}}, "males_0_5", "0 to 40"),
        ({"members": {"babies": 1}}, "babies", "not an age band"),
        ({"landless": "perhaps"}, "landless", "yes or no"),
        ({"registered_on": "2005-11-01"}, "registered_on", "cannot be corrected"),
        ({"consent": False}, "consent", "cannot be corrected"),
        ({"other_vulnerability": "w" * 121}, "other_vulnerability", "at most 120 characters"),
    ],
    ids=[
        "cnic-short",
        "cnic-placeholder",
        "document-type-unknown",
        "document-type-none",
        "name-empty",
        "name-digits",
        "phone",
        "origin-unknown",
        "site-not-a-camp",
        "no-members",
        "too-many-in-a-band",
        "unknown-band",
        "not-a-yes-or-no",
        "registration-day",
        "consent",
        "other-vulnerability-too-long",
    ],
)
def test_a_bad_value_is_refused_naming_its_field_and_nothing_changes(op, changes, field, says):
    household = register(op)
    before = state()
    if field is None:
        household_update(actor=op.registrar, household_id=household.pk, changes=changes, reason="no card")
        household.refresh_from_db()
        assert (household.document_type, household.document_number) == ("none", "")
        return
    with pytest.raises(InvalidInput) as refused:
        household_update(actor=op.registrar, household_id=household.pk, changes=changes, reason="typo")
    assert [(p.field, says in p.reason) for p in refused.value.problems] == [(field, True)]
    assert "nothing was changed" in refused.value.message
    assert state() == before


def test_a_correction_without_a_reason_is_refused(op):
    household = register(op)
    before = state()
    with pytest.raises(InvalidInput) as refused:
        household_update(actor=op.registrar, household_id=household.pk, changes={"phone": ""}, reason=" ")
    assert [(p.field, p.reason) for p in refused.value.problems] == [
        ("reason", "say why the registration is corrected")
    ]
    assert state() == before


def test_a_cnic_held_by_another_active_household_is_refused_with_who_holds_it(op):
    # given two households, the second without a document
    holder = register(op)
    other = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        phone="",
        document_type="none",
        document_number="",
    )
    before = state()
    # when the second is given the first one's CNIC
    with pytest.raises(InvalidInput) as refused:
        household_update(
            actor=op.registrar,
            household_id=other.pk,
            changes={"document_type": "cnic", "document_number": "13503-1234567-1"},
            reason="card seen",
        )
    # then it is refused, naming the holder, and nothing changed
    (problem,) = refused.value.problems
    assert problem.field == "document_number"
    assert f"already registered to household {holder.pk}" in problem.reason
    assert state() == before


def test_a_correction_naming_a_held_cnic_lists_it_with_its_other_problems(op):
    # given a household holding a CNIC, and another without a document
    holder = register(op)
    other = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        phone="",
        document_type="none",
        document_number="",
    )
    # when the second is given the first one's CNIC and an empty name in one correction
    with pytest.raises(InvalidInput) as refused:
        household_update(
            actor=op.registrar,
            household_id=other.pk,
            changes={"document_type": "cnic", "document_number": "13503-1234567-1", "head_name": " "},
            reason="card seen",
        )
    # then both problems are named at once
    problems = {p.field: p.reason for p in refused.value.problems}
    assert set(problems) == {"head_name", "document_number"}
    assert f"already registered to household {holder.pk}" in problems["document_number"]


@pytest.mark.parametrize("how", ["merged", "anonymised"])
def test_a_merged_or_anonymised_household_cannot_be_corrected(op, how):
    household = register(op)
    if how == "merged":
        survivor = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
        household_merge(actor=op.registrar, survivor_id=survivor.pk, merged_id=household.pk)
        says = f"correct household {survivor.pk} instead"
    else:
        households_anonymise(actor=None, retention_days=30, today=DAY + dt.timedelta(days=400))
        says = "anonymised"
    before = state()
    with pytest.raises(Conflict, match=says):
        household_update(
            actor=op.registrar, household_id=household.pk, changes={"house_damage": "damaged"}, reason="seen"
        )
    assert state() == before


def test_an_unknown_household_is_not_found(op):
    with pytest.raises(NotFound):
        household_update(actor=op.registrar, household_id=999, changes={"phone": ""}, reason="typo")


def test_likely_duplicates_that_a_correction_brings_up_are_shown_before_saving(op):
    # given a household, and another registered under a wrong name without card or phone
    first = register(op)
    second = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        document_type="none",
        document_number="",
        phone="",
    )
    assert not DuplicatePair.objects.exists()
    before = state()
    # when the second's name is corrected to the first one's
    changes = {"head_name": "Mohd Aslam", "father_or_husband_name": "Ghulam Rasool"}
    with pytest.raises(DuplicatesFound) as shown:
        household_update(actor=op.registrar, household_id=second.pk, changes=changes, reason="misheard")
    # then nothing is saved and the first household is shown, as at registration
    assert state() == before
    (match,) = shown.value.matches
    assert (match.first_id, match.second_id) == (0, first.pk)
    assert f"household {first.pk}" in shown.value.message
    # and once seen, the correction is saved and the pair goes to the review queue
    result = household_update(
        actor=op.registrar,
        household_id=second.pk,
        changes=changes,
        reason="misheard",
        duplicates_seen=[first.pk],
    )
    assert result.duplicates
    assert "review queue" in result.message
    pair = DuplicatePair.objects.get()
    assert (pair.first_id, pair.second_id, pair.status) == (first.pk, second.pk, PairStatus.PENDING)


def test_pairs_already_known_are_not_shown_again_and_other_fields_skip_the_check(op):
    # given two households already in the review queue as a likely pair
    first = register(op)
    second = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    assert DuplicatePair.objects.count() == 1
    # when the second's phone and then its house damage are corrected
    household_update(
        actor=op.registrar, household_id=second.pk, changes={"phone": "0301 7654321"}, reason="x"
    )
    household_update(
        actor=op.registrar, household_id=second.pk, changes={"house_damage": "damaged"}, reason="seen again"
    )
    # then neither correction asked about the known pair, and the queue is as it was
    assert DuplicatePair.objects.count() == 1
    # and a pair decided "different" is never proposed again either
    pair_decide(actor=op.registrar, pair_id=DuplicatePair.objects.get().pk, same=False)
    household_update(
        actor=op.registrar, household_id=second.pk, changes={"head_name": "Muhammad Aslam"}, reason="y"
    )
    pair = DuplicatePair.objects.get()
    assert (pair.first_id, pair.second_id, pair.status) == (first.pk, second.pk, PairStatus.DIFFERENT)


def test_a_correction_reports_and_audits_only_the_pairs_it_queued_not_those_pending_already(op):
    # given two households already in the review queue as a likely pair
    first = register(op)
    second = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    assert DuplicatePair.objects.count() == 1
    # when the second's members are corrected, which runs the duplicate check again
    result = household_update(
        actor=op.registrar, household_id=second.pk, changes={"members": {"males_0_5": 2}}, reason="x"
    )
    # then the pair pending since registration is not said to have gone to the queue now
    assert result.fields == ["males_0_5"]
    assert result.duplicates == []
    assert "review queue" not in result.message
    event = AuditEvent.objects.filter(action="household.correct").get()
    assert event.after["pairs_queued"] == []
    pair = DuplicatePair.objects.get()
    assert (pair.first_id, pair.second_id, pair.status) == (first.pk, second.pk, PairStatus.PENDING)


def test_a_repeated_submission_changes_nothing_and_says_so(op):
    household = register(op)
    changes = {"phone": "0345-7654321"}
    first = household_update(
        actor=op.registrar,
        household_id=household.pk,
        changes=changes,
        reason="new phone",
        idempotency_key="k-1",
    )
    # the same key again: the first result, nothing written
    again = household_update(
        actor=op.registrar,
        household_id=household.pk,
        changes=changes,
        reason="new phone",
        idempotency_key="k-1",
    )
    assert again.replayed
    assert again.correction == first.correction
    assert "saved before: nothing changed" in again.message
    # the same values again without a key: nothing to change
    same = household_update(
        actor=op.registrar, household_id=household.pk, changes=changes, reason="new phone"
    )
    assert same.fields == []
    assert same.correction is None
    assert "already reads so: nothing changed" in same.message
    assert HouseholdCorrection.objects.count() == 1
    assert AuditEvent.objects.filter(action="household.correct").count() == 1


def test_a_household_in_a_closed_camp_keeps_it_when_another_field_is_corrected(op):
    household = register(op, current_site="CAMP-MAIRA")
    op.maira.is_active = False
    op.maira.save()
    household_update(actor=op.registrar, household_id=household.pk, changes={"phone": ""}, reason="no phone")
    household.refresh_from_db()
    assert (household.current_site, household.phone) == (op.maira, "")
    # but moving it into the closed camp is refused
    other = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        phone="",
        document_type="none",
        document_number="",
    )
    with pytest.raises(InvalidInput, match="closed"):
        household_update(
            actor=op.registrar, household_id=other.pk, changes={"current_site": "CAMP-MAIRA"}, reason="moved"
        )


def test_a_new_size_counts_in_rounds_not_yet_served_and_lost_eligibility_is_named(op):
    # given two households listed in an open round, one of them served
    served = register(op)
    waiting = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        phone="",
        document_type="none",
        document_number="",
    )
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
    # when both are found to have a fifth member
    for household in (served, waiting):
        result = household_update(
            actor=op.registrar,
            household_id=household.pk,
            changes={"members": {"females_60_plus": 1}},
            reason="grandmother",
        )
    # then the waiting household's entitlement counts five; the served one's stays as handed over
    members = dict(Entitlement.objects.filter(round=round_obj).values_list("household_id", "members"))
    assert members == {served.pk: 4, waiting.pk: 5}
    assert result.entitlements_updated == ["WR-1"]
    assert "now count in round WR-1" in result.message
    # and a correction that takes a household out of the round's conditions says so, listing stays
    moved = household_update(
        actor=op.registrar,
        household_id=waiting.pk,
        changes={"elevation_band": "below_5000"},
        reason="measured",
    )
    assert moved.no_longer_eligible == ["WR-1"]
    assert "no longer meets the conditions of round WR-1" in moved.message
    # and it says what a manager can do of it, for the one round it names
    assert "it stays on its list until a manager of rounds takes it off" in moved.message
    assert "their lists" not in moved.message
    assert "Take a household off the list" in moved.message
    assert Entitlement.objects.filter(round=round_obj, household=waiting, cancelled_at__isnull=True).exists()
    # while the served household, taken out of the conditions too, is not said to await a manager's
    # decision there: a round where it was served keeps it on its list, and cannot take it off
    served_moved = household_update(
        actor=op.registrar,
        household_id=served.pk,
        changes={"elevation_band": "below_5000"},
        reason="measured",
    )
    assert served_moved.no_longer_eligible == []
    assert "no longer meets" not in served_moved.message
