"""A small operation for household tests: Allai and Bala Kot, their points and a camp, three items,
a grant, stock at the points, and a way to register households in one line."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.households.models import MEMBER_NAMES, Handover, Household, RoundStatus
from reliefops.households.services import (
    HouseholdInput,
    PackageInput,
    PointInput,
    cards_issue,
    household_register,
    round_create,
    round_make_list,
    round_set_status,
)
from reliefops.places.models import AdminLevel, SiteKind
from reliefops.stock.models import Balance, Movement, MovementLine
from reliefops.stock.services import ReceiptLine, stock_receive
from tests.factories import AdminAreaFactory, GrantFactory, ItemFactory, SiteFactory, make_user
from tests.places.conftest import run_command  # noqa: F401 - a fixture of the command tests

DAY = dt.date(2005, 11, 20)


def build_operation():
    province = AdminAreaFactory(pcode="PK5", name="Khyber Pakhtunkhwa", level=AdminLevel.PROVINCE)
    batagram = AdminAreaFactory(pcode="PK504", name="Batagram", level=AdminLevel.DISTRICT, parent=province)
    allai = AdminAreaFactory(pcode="PK50401", name="Allai", level=AdminLevel.TEHSIL, parent=batagram)
    banna = AdminAreaFactory(pcode="PK50401-UC01", name="Banna", level=AdminLevel.UNION_COUNCIL, parent=allai)
    mansehra = AdminAreaFactory(pcode="PK522", name="Mansehra", level=AdminLevel.DISTRICT, parent=province)
    balakot = AdminAreaFactory(
        pcode="PK52201", name="Bala Kot", level=AdminLevel.TEHSIL, parent=mansehra, alt_names=["Balakot"]
    )
    hub = SiteFactory(code="BTG-HUB", name="Batagram hub", kind=SiteKind.HUB, admin_area=batagram)
    bana = SiteFactory(
        code="DP-BANA",
        name="Bana helipad",
        kind=SiteKind.DISTRIBUTION_POINT,
        admin_area=allai,
        parent_hub=hub,
    )
    raj = SiteFactory(
        code="DP-RAJ-PATTIAN", name="Raj Pattian", kind=SiteKind.DISTRIBUTION_POINT, admin_area=balakot
    )
    maira = SiteFactory(
        code="CAMP-MAIRA", name="Maira camp", kind=SiteKind.CAMP, admin_area=allai, parent_hub=hub
    )
    blanket = ItemFactory(code="BLANKET", name="Blanket")
    cgi = ItemFactory(code="CGI-SHEET", name="CGI sheet")
    kit = ItemFactory(code="WINTER-KIT", name="Winterization kit")
    grant = GrantFactory(reference="DFID-2005-07")
    registrar = make_user(Role.REGISTRAR)
    distributor = make_user(Role.DISTRIBUTOR, distribution_points=[bana])
    return SimpleNamespace(
        province=province,
        batagram=batagram,
        allai=allai,
        banna=banna,
        mansehra=mansehra,
        balakot=balakot,
        hub=hub,
        bana=bana,
        raj=raj,
        maira=maira,
        blanket=blanket,
        cgi=cgi,
        kit=kit,
        grant=grant,
        registrar=registrar,
        distributor=distributor,
    )


@pytest.fixture
def op(db):
    return build_operation()


def household_input(**overrides) -> HouseholdInput:
    """A valid household of Banna (Allai), four people, with a CNIC; any field may be overridden."""
    members = dict.fromkeys(MEMBER_NAMES, 0)
    members.update({"females_18_59": 1, "males_18_59": 1, "females_6_17": 1, "males_0_5": 1})
    members.update(overrides.pop("members", {}))
    values = {
        "head_name": "Muhammad Aslam",
        "father_or_husband_name": "Ghulam Rasool",
        "head_sex": "male",
        "document_type": "cnic",
        "document_number": "13503-1234567-1",
        "phone": "0300-1234567",
        "members": members,
        "origin": "PK50401-UC01",
        "origin_village": "Batkul",
        "house_damage": "destroyed",
        "consent": True,
        "elevation_band": "above_7000",
        "registered_on": DAY,
    }
    values.update(overrides)
    return HouseholdInput(**values)


# Digits as field teams type them: Urdu (Extended Arabic-Indic) and Arabic-Indic.
def urdu(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "".join(chr(0x06F0 + n) for n in range(10))))


def arabic(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "".join(chr(0x0660 + n) for n in range(10))))


def register(op, **overrides) -> Household:
    """Register a household as the registrar, accepting any likely duplicates shown."""
    seen = overrides.pop("seen", range(1, 10_000))
    return household_register(
        actor=op.registrar, data=household_input(**overrides), duplicates_seen=list(seen)
    ).household


def search(client, url, q, **filters):
    """The page a search leads to, posted as the page's search form posts it: the words are kept in
    the session, and the page is shown at its address with ?s=<handle>."""
    return client.post(url, {"q": q, **filters}, follow=True)


def receive(op, site, item, quantity, grn):
    return stock_receive(
        actor=None,
        site_id=site.pk,
        grant_id=op.grant.pk,
        grn_number=grn,
        received_on=DAY - dt.timedelta(days=3),
        lines=[ReceiptLine(item_id=item.pk, quantity=quantity)],
    )


def winter_round(op, *, code="WR-1", open_it=True, **overrides):
    """A Winter Race round at Bana and Raj Pattian: 10 CGI sheets a household and 2 blankets a
    person (at most 10), for households above 5,000 ft whose house was destroyed or damaged."""
    values = {
        "actor": op.registrar,
        "code": code,
        "name": "Winter Race: above 5,000 ft",
        "starts_on": dt.date(2005, 11, 14),
        "ends_on": dt.date(2006, 1, 31),
        "points": [PointInput(site_id=op.bana.pk), PointInput(site_id=op.raj.pk)],
        "package": [
            PackageInput(item_id=op.cgi.pk, per_household=10),
            PackageInput(item_id=op.blanket.pk, per_member=2, at_most=10),
        ],
        "elevation_bands": ["5000_to_7000", "above_7000"],
        "house_damage": ["destroyed", "damaged"],
    }
    values.update(overrides)
    round_obj = round_create(**values)
    if open_it:
        round_make_list(actor=op.registrar, round_id=round_obj.pk)
        round_set_status(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.OPEN)
        round_obj.refresh_from_db()
    return round_obj


@pytest.fixture
def open_round(op):
    """An open round of Bana's point, cards issued, stock received: (round, a household, one of
    Bala Kot)."""
    household = register(op)
    far = register(op, head_name="Sher Zaman", document_number="13503-0000002-1", origin="PK52201", phone="")
    receive(op, op.bana, op.cgi, 50, "GRN-1")
    receive(op, op.bana, op.blanket, 50, "GRN-2")
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    return round_obj, household, far


def register_three_sons_and_one_other(op) -> None:
    """Three households of one father's name (Son 0 to 2, sons of Ghulam Rasool), more than a page
    of two, and Sher Zaman, son of Gul Zaman, whom a search by that name does not find."""
    for n in range(3):
        register(op, head_name=f"Son {n}", document_number=f"13503-000001{n}-1", phone="")
    register(
        op, head_name="Sher Zaman", father_or_husband_name="Gul Zaman", document_number="13503-0000002-1"
    )


def ledger_state():
    """What a refused operation must leave alone."""
    return (
        Movement.objects.count(),
        MovementLine.objects.count(),
        sorted(Balance.objects.values_list("pk", "quantity")),
        Handover.objects.count(),
        AuditEvent.objects.filter(action__startswith="household.handover").count(),
    )
