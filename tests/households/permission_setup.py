"""What the permission matrix (tests/api/test_permissions.py) sets up before it calls a households
endpoint, on the API tests' reference data: households of Bala Kot served at `ref.point`."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from reliefops.households.models import (
    DistributionRound,
    DuplicatePair,
    Household,
    HouseholdImport,
    RoundStatus,
)
from reliefops.households.services import (
    HouseholdInput,
    PackageInput,
    PointInput,
    cards_issue,
    household_import_preview,
    household_register,
    round_create,
    round_make_list,
    round_set_status,
)
from reliefops.stock.services import ReceiptLine, stock_receive

DAY = dt.date(2005, 11, 20)


def registration(ref: Any, **changes: Any) -> dict[str, Any]:
    """A valid registration request of a Bala Kot household."""
    body = {
        "head_name": "Muhammad Aslam",
        "father_or_husband_name": "Ghulam Rasool",
        "head_sex": "male",
        "document_type": "cnic",
        "document_number": "13503-1234567-1",
        "phone": "0300-1234567",
        "members": {"females_18_59": 1, "males_18_59": 1, "males_0_5": 2},
        "origin": ref.tehsil.pcode,
        "origin_village": "Sat Bani",
        "house_damage": "destroyed",
        "elevation_band": "above_7000",
        "consent": True,
        "registered_on": DAY.isoformat(),
    }
    body.update(changes)
    return body


def _register(ref: Any, **changes: Any) -> Household:
    body = registration(ref, **changes)
    members = body.pop("members")
    body["registered_on"] = DAY
    data = HouseholdInput(**body, members=members)
    # Every household registered so far is seen: on PostgreSQL ids keep growing from test to test.
    seen = list(Household.objects.values_list("pk", flat=True))
    return household_register(actor=None, data=data, duplicates_seen=seen).household


def a_household(ref: Any) -> None:
    _register(ref)


def a_pair(ref: Any) -> None:
    _register(ref)
    _register(ref, head_name="Mohd Aslam", document_type="none", document_number="")


def a_preview(ref: Any) -> None:
    csv = (
        "head_name,head_sex,females_18_59,origin,house_damage,consent\n"
        f"Zainab Bibi,female,1,{ref.tehsil.pcode},destroyed,yes\n"
    )
    household_import_preview(actor=None, filename="households.csv", content=csv.encode())


def an_open_round(ref: Any) -> None:
    """A household listed at `ref.point` in an open round, with a card and stock for its package."""
    _register(ref)
    for number, item in enumerate((ref.blanket, ref.tarpaulin), start=1):
        stock_receive(
            actor=None,
            site_id=ref.point.pk,
            grant_id=ref.grant.pk,
            grn_number=f"GRN-HH-{number}",
            received_on=DAY - dt.timedelta(days=2),
            lines=[ReceiptLine(item_id=item.pk, quantity=100)],
        )
    round_obj = round_create(
        actor=None,
        code="WR-1",
        name="Winter Race",
        starts_on=dt.date(2005, 11, 14),
        ends_on=dt.date(2006, 1, 31),
        points=[PointInput(site_id=ref.point.pk)],
        package=[
            PackageInput(item_id=ref.blanket.pk, per_member=2, at_most=10),
            PackageInput(item_id=ref.tarpaulin.pk, per_household=1),
        ],
    )
    round_make_list(actor=None, round_id=round_obj.pk)
    round_set_status(actor=None, round_id=round_obj.pk, status=RoundStatus.OPEN)
    cards_issue(actor=None, round_id=round_obj.pk)


def round_body(ref: Any) -> dict[str, Any]:
    return {
        "code": "WR-2",
        "name": "Winter Race, second round",
        "starts_on": "2005-12-01",
        "ends_on": "2006-01-31",
        "points": [{"site": ref.point.code}],
        "package": [{"item": ref.blanket.code, "per_member": 2, "at_most": 10}],
        "elevation_bands": ["above_7000"],
    }


def handover_body(ref: Any) -> dict[str, Any]:
    return {
        "point": ref.point.code,
        "household": Household.objects.get().pk,
        "collected_by": "the head",
        "handed_on": DAY.isoformat(),
    }


def unlist_body(ref: Any) -> dict[str, Any]:
    """Taking the household of `an_open_round` off its list."""
    return {"household": Household.objects.get().pk, "reason": "moved to a camp another point serves"}


def import_body(ref: Any) -> dict[str, Any]:
    csv = (
        "head_name,head_sex,females_18_59,origin,house_damage,consent\n"
        f"Zainab Bibi,female,1,{ref.tehsil.pcode},destroyed,yes\n"
    )
    return {"filename": "households.csv", "content_base64": base64.b64encode(csv.encode()).decode()}


def the_household(ref: Any) -> dict[str, Any]:
    return {"household_id": Household.objects.order_by("pk").first().pk}


def the_round(ref: Any) -> dict[str, Any]:
    return {"round_id": DistributionRound.objects.get().pk}


def the_pair(ref: Any) -> dict[str, Any]:
    return {"pair_id": DuplicatePair.objects.get().pk}


def the_import(ref: Any) -> dict[str, Any]:
    return {"import_id": HouseholdImport.objects.get().pk}


def no_round(ref: Any) -> dict[str, Any]:
    return {"round_id": 0}


def no_import(ref: Any) -> dict[str, Any]:
    return {"import_id": 0}
