"""Registering households: checks with clear refusals, one active household per CNIC, likely
duplicates shown before saving, repeated submissions that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from reliefops.core.errors import InvalidInput
from reliefops.core.models import AuditEvent
from reliefops.core.text import day_text
from reliefops.households.models import DuplicatePair, Household, HouseholdStatus, MatchKey, PairStatus
from reliefops.households.services import (
    DuplicatesFound,
    household_merge,
    household_register,
    household_update,
)
from reliefops.places.models import AdminLevel
from tests.factories import AdminAreaFactory
from tests.households.conftest import arabic, household_input, register, urdu


def test_a_household_is_registered_with_normalised_values_and_an_audit_without_personal_data(op):
    # when the registrar registers a household written as people write it
    result = household_register(
        actor=op.registrar,
        data=household_input(document_number="13503-1234567-1", phone="0300 1234567", origin="Banna"),
    )
    # then it is stored normalised, in its district, with its blocking keys
    household = result.household
    assert household.document_number == "1350312345671"
    assert household.phone == "+923001234567"
    assert household.origin_area == op.banna
    assert household.origin_district == op.batagram
    assert household.size == 4
    assert household.status == HouseholdStatus.ACTIVE
    assert MatchKey.objects.filter(household=household).count() >= 5
    # and the audit event says who registered what, by id, with no name, number or phone
    event = AuditEvent.objects.get(action="household.register")
    assert event.actor == op.registrar
    assert event.object_id == str(household.pk)
    text = str(event.after)
    for personal in ("Aslam", "Rasool", "1350312345671", "1234567", "Batkul"):
        assert personal not in text


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"head_name": " "}, "head_name", "required"),
        ({"head_name": "12345"}, "head_name", "a name has letters"),
        ({"head_name": "A" * 121}, "head_name", "at most 120 characters"),
        ({"father_or_husband_name": "-- / --"}, "father_or_husband_name", "a name has letters"),
        ({"head_sex": "m"}, "head_sex", "not one of female, male"),
        ({"document_number": "13503-12345-1"}, "document_number", "13 digits"),
        ({"document_type": "passport"}, "document_type", "unknown document type"),
        ({"phone": "12345"}, "phone", "trunk 0"),
        (
            {"members": {"males_18_59": 0, "females_18_59": 0, "females_6_17": 0, "males_0_5": 0}},
            "members",
            "at least one",
        ),
        ({"members": {"males_0_5": -1}}, "males_0_5", "0 to 40"),
        ({"origin": "Atlantis"}, "origin", "neither a P-code nor a place name"),
        ({"current_site": "CAMP-NOWHERE"}, "current_site", "not the code of a camp"),
        ({"current_site": "DP-BANA"}, "current_site", "not the code of a camp"),
        ({"house_damage": "flattened"}, "house_damage", "destroyed, damaged, none"),
        ({"elevation_band": "high"}, "elevation_band", "below_5000"),
        ({"consent": False}, "consent", "must agree"),
        ({"consent": None}, "consent", "must agree"),
        ({"other_vulnerability": "w" * 121}, "other_vulnerability", "at most 120 characters"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_written(op, changes, field, says):
    with pytest.raises(InvalidInput) as refused:
        household_register(actor=op.registrar, data=household_input(**changes))
    assert [(p.field, says in p.reason) for p in refused.value.problems] == [(field, True)]
    assert not Household.objects.exists()
    assert not AuditEvent.objects.filter(action="household.register").exists()


TOMORROW = "tomorrow"


@pytest.mark.parametrize(
    ("day", "why"),
    [
        pytest.param(dt.date(2005, 1, 1), "before the operation began", id="months-before-the-earthquake"),
        pytest.param(dt.date(2005, 10, 7), "before the operation began", id="the-day-before-it"),
        pytest.param(TOMORROW, "in the future", id="tomorrow"),
    ],
)
def test_a_registration_date_outside_the_operations_days_is_refused_naming_them(op, day, why):
    # given a household registered before the earthquake of 8 October 2005, or tomorrow
    today = timezone.localdate()
    day = today + dt.timedelta(days=1) if day == TOMORROW else day
    # when it is registered
    with pytest.raises(InvalidInput) as refused:
        household_register(actor=op.registrar, data=household_input(registered_on=day))
    # then the date is refused, naming the days allowed and why this one is not; nothing is written
    assert [(p.field, p.reason) for p in refused.value.problems] == [
        (
            "registered_on",
            f"a day from 8 Oct 2005, the operation's first day, to today, {day_text(today)}; "
            f"{day_text(day)} is {why}",
        )
    ]
    assert not Household.objects.exists()


@pytest.mark.parametrize("day", ["start", "today"])
def test_a_household_is_registered_on_the_operations_first_day_or_today(op, settings, day):
    # given a registration on the first day of the operation, or today
    registered_on = settings.OPERATION_START if day == "start" else timezone.localdate()
    # when it is registered, then it is, on that day
    assert register(op, registered_on=registered_on).registered_on == registered_on


def test_the_first_day_is_the_one_configured(op, settings):
    # given an operation set to begin on 1 January 2026
    settings.OPERATION_START = dt.date(2026, 1, 1)
    # when a household is registered on the day before
    with pytest.raises(InvalidInput) as refused:
        household_register(actor=op.registrar, data=household_input(registered_on=dt.date(2025, 12, 31)))
    # then it is refused, naming that first day
    (problem,) = refused.value.problems
    assert problem.field == "registered_on"
    assert problem.reason.startswith("a day from 1 Jan 2026, the operation's first day, to today, ")
    assert problem.reason.endswith("; 31 Dec 2025 is before the operation began")


def test_a_correction_does_not_refuse_a_registration_date_kept_from_before_a_later_first_day(op, settings):
    # given a household registered on 20 November 2005, and the first day moved later since
    household = register(op)
    settings.OPERATION_START = dt.date(2006, 1, 1)
    # when its phone is corrected
    household_update(
        actor=op.registrar, household_id=household.pk, changes={"phone": "0345-7654321"}, reason="new phone"
    )
    # then the correction is made, the registration date, which cannot be corrected, left as it was
    household.refresh_from_db()
    assert (household.phone, household.registered_on) == ("+923457654321", dt.date(2005, 11, 20))


def test_a_cnic_and_a_phone_typed_in_urdu_digits_are_checked_and_stored_in_0_9(op):
    household = register(op, document_number=urdu("13503-1234567-1"), phone=arabic("+923001234567"))
    assert (household.document_number, household.phone) == ("1350312345671", "+923001234567")
    # so the same CNIC typed in 0-9 is the same card
    with pytest.raises(InvalidInput, match="already registered to household"):
        household_register(actor=op.registrar, data=household_input(head_name="Gul Khan"))


def test_names_are_kept_as_given_with_their_spaces_collapsed(op):
    household = household_register(
        actor=op.registrar,
        data=household_input(head_name="  Muhammad   Aslam ", father_or_husband_name="Ghulam\tRasool  "),
    ).household
    assert (household.head_name, household.father_or_husband_name) == ("Muhammad Aslam", "Ghulam Rasool")
    # the father's or husband's name may be left out; the head's may not
    without = register(op, document_number="13503-7654321-1", father_or_husband_name=" ", phone="")
    assert without.father_or_husband_name == ""


def test_every_problem_of_a_form_is_reported_at_once(op):
    with pytest.raises(InvalidInput) as refused:
        household_register(
            actor=op.registrar,
            data=household_input(head_name="", document_number="123", consent=False, origin=""),
        )
    assert {p.field for p in refused.value.problems} == {"head_name", "document_number", "consent", "origin"}


def test_a_cnic_already_registered_is_named_with_the_forms_other_problems(op):
    # given a household holding a CNIC
    first = register(op)
    # when another is registered with the same CNIC and a form holding other problems too
    with pytest.raises(InvalidInput) as refused:
        household_register(
            actor=op.registrar,
            data=household_input(head_name="", consent=False, phone=""),
        )
    # then the CNIC already held is named beside them, at once, not only once they are mended
    problems = {p.field: p.reason for p in refused.value.problems}
    assert set(problems) == {"head_name", "consent", "document_number"}
    assert problems["document_number"] == f"this CNIC is already registered to household {first.pk}"
    assert Household.objects.count() == 1


def test_an_origin_name_is_looked_up_and_a_camp_by_its_code(op):
    household = register(
        op, origin="Balakot", current_site="camp-maira", document_number="", document_type="none"
    )
    assert household.origin_area == op.balakot
    assert household.origin_district == op.mansehra
    assert household.current_site == op.maira


def test_a_cnic_held_by_an_active_household_is_refused_with_who_holds_it(op):
    # given a household with a CNIC
    first = register(op)
    # when another household is registered with the same CNIC
    with pytest.raises(InvalidInput, match=f"already registered to household {first.pk}"):
        household_register(
            actor=op.registrar,
            data=household_input(head_name="Sher Zaman", father_or_husband_name="Gul Zaman", phone=""),
        )
    # then nothing was written
    assert Household.objects.count() == 1


def test_the_database_itself_allows_one_active_household_per_cnic(op):
    # given a household with a CNIC
    first = register(op)
    # when a second active household with that CNIC is written past the service
    twin = Household(
        **{f.attname: getattr(first, f.attname) for f in Household._meta.concrete_fields if not f.primary_key}
    )
    twin.idempotency_key = None
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    # then the conditional unique constraint refuses it; but merged or other-document households pass
    twin.document_type = "other"
    twin.save()
    merged = Household(
        **{f.attname: getattr(first, f.attname) for f in Household._meta.concrete_fields if not f.primary_key}
    )
    merged.idempotency_key = None
    merged.status, merged.merged_into = HouseholdStatus.MERGED, first
    merged.save()
    assert Household.objects.filter(document_number=first.document_number).count() == 3


def test_a_merged_household_frees_its_cnic(op):
    # given two registrations of one family, the second with the CNIC, and the first merged into it
    kept = register(op)
    gone = register(op, document_type="none", document_number="", head_name="Mohd Aslam")
    household_merge(actor=op.registrar, survivor_id=gone.pk, merged_id=kept.pk)
    # then another registration may hold the CNIC (the merged one is no longer active)
    again = register(op, head_name="Muhammad Aslam Khan")
    assert again.document_number == kept.document_number


def test_likely_duplicates_are_shown_before_saving(op):
    # given a registered household
    first = register(op)
    # when the same family is registered again, spelt otherwise and without the card
    data = household_input(
        head_name="Mohd Aslam", document_type="none", document_number="", phone="0300-1234567"
    )
    with pytest.raises(DuplicatesFound) as shown:
        household_register(actor=op.registrar, data=data)
    # then nothing is saved and the existing household is shown with its score and evidence
    assert Household.objects.count() == 1
    (match,) = shown.value.matches
    assert match.second_id == first.pk
    assert "same phone" in match.reasons
    # and when the registrar has seen it and registers anyway, the pair goes to the review queue
    result = household_register(actor=op.registrar, data=data, duplicates_seen=[first.pk])
    pair = DuplicatePair.objects.get()
    assert (pair.first_id, pair.second_id, pair.status) == (first.pk, result.household.pk, PairStatus.PENDING)


def test_a_repeated_submission_with_its_key_changes_nothing_and_says_so(op):
    first = household_register(actor=op.registrar, data=household_input(), idempotency_key="form-1")
    again = household_register(actor=op.registrar, data=household_input(), idempotency_key="form-1")
    assert again.replayed
    assert again.household == first.household
    assert "nothing changed" in again.message
    assert Household.objects.count() == 1
    assert AuditEvent.objects.filter(action="household.register").count() == 1


def test_an_origin_begun_but_not_finished_is_refused_offering_the_places_it_begins_first(op):
    # given a union council whose name is near "Bala" letter for letter (as the gazetteer's Bateela is)
    AdminAreaFactory(pcode="PK50401-UC02", name="Bateela", level=AdminLevel.UNION_COUNCIL, parent=op.allai)
    # when a registrar types only the beginning of Balakot
    with pytest.raises(InvalidInput) as refused:
        household_register(actor=op.registrar, data=household_input(origin="Bala"))
    # then Bala Kot, whose name begins so, is offered first, and Bateela is still offered after it
    [problem] = refused.value.problems
    assert problem.field == "origin"
    assert problem.reason == (
        "not a P-code, and no one area of the gazetteer is sure: "
        "did you mean Bala Kot (PK52201); Bateela (PK50401-UC02)?"
    )
    assert not Household.objects.exists()
