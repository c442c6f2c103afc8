"""Fixtures of the API tests: a small gazetteer, sites, partners and catalogue, and token clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from reliefops.catalog.models import Item, ItemCategory, Kit, PackSize
from reliefops.core.roles import Role
from reliefops.core.services import token_create
from reliefops.partners.models import Grant, Organisation, OrganisationType
from reliefops.places.models import AdminArea, AdminLevel, Site, SiteKind
from tests.factories import (
    AdminAreaFactory,
    GrantFactory,
    ItemFactory,
    KitComponentFactory,
    KitFactory,
    OrganisationFactory,
    SiteFactory,
    make_user,
)


@dataclass
class Reference:
    """A slice of the Kashmir 2005 reference data, enough for every endpoint to find something.

    Endpoints of later apps add the objects they need here (the permission matrix builds its
    requests from it); scoped test users work at `hub` and `point`.
    """

    province: AdminArea
    district: AdminArea
    tehsil: AdminArea
    other_district: AdminArea
    hub: Site
    point: Site
    other_hub: Site
    iom: Organisation
    donor: Organisation
    grant: Grant
    blanket: Item
    tarpaulin: Item
    kit: Kit


@pytest.fixture
def reference(db) -> Reference:
    return make_reference()


def make_reference() -> Reference:
    """The reference objects (see Reference); `reference` makes them for one test."""
    province = AdminAreaFactory(pcode="PK5", name="N.W.F.P.", level=AdminLevel.PROVINCE, lat=34.0, lon=71.5)
    district = AdminAreaFactory(pcode="PK522", name="Mansehra", level=AdminLevel.DISTRICT, parent=province)
    tehsil = AdminAreaFactory(
        pcode="PK52201",
        name="Bala Kot",
        level=AdminLevel.TEHSIL,
        parent=district,
        elevation_m=980,
        alt_names=["Balakot"],
    )
    other_district = AdminAreaFactory(
        pcode="PK521", name="Battagram", level=AdminLevel.DISTRICT, parent=province, alt_names=["Batagram"]
    )
    hub = SiteFactory(code="HUB-MANSEHRA", name="Mansehra hub", kind=SiteKind.HUB, admin_area=district)
    point = SiteFactory(
        code="DP-BALAKOT",
        name="Balakot distribution point",
        kind=SiteKind.DISTRIBUTION_POINT,
        admin_area=tehsil,
        parent_hub=hub,
    )
    other_hub = SiteFactory(
        code="HUB-BATAGRAM", name="Batagram hub", kind=SiteKind.HUB, admin_area=other_district
    )
    iom = OrganisationFactory(
        name="International Organization for Migration", acronym="IOM", type=OrganisationType.UN
    )
    donor = OrganisationFactory(
        name="Department for International Development", acronym="DFID", type=OrganisationType.DONOR
    )
    grant = GrantFactory(donor=donor, reference="DFID-2005-ESC-01", title="Emergency shelter")
    blanket = ItemFactory(code="BLANKET", name="Blanket", category=ItemCategory.NFI, weight_kg="1.500")
    PackSize.objects.create(item=blanket, name="bale", quantity=10)
    tarpaulin = ItemFactory(code="TARPAULIN", name="Tarpaulin", category=ItemCategory.SHELTER)
    kit = KitFactory(item__code="KIT-WINTER", item__name="Winterization kit", source="IOM 2006")
    KitComponentFactory(kit=kit, item=blanket, quantity=2)
    KitComponentFactory(kit=kit, item=tarpaulin, quantity=1)
    return Reference(
        province=province,
        district=district,
        tehsil=tehsil,
        other_district=other_district,
        hub=hub,
        point=point,
        other_hub=other_hub,
        iom=iom,
        donor=donor,
        grant=grant,
        blanket=blanket,
        tarpaulin=tarpaulin,
        kit=kit,
    )


# The callers of the permission matrices (tests/api/test_permissions.py and
# tests/security/test_web_permissions.py).
ANONYMOUS = "anonymous"
NO_ROLE = "no-role"
CALLERS: list[str] = [ANONYMOUS, NO_ROLE, *(role.value for role in Role)]


def user_for(caller: str, reference: Reference) -> Any:
    """A new user who calls as `caller`: None for anonymous, a user without a role, or a user of the
    role with the scope `scope_for` gives it."""
    if caller == ANONYMOUS:
        return None
    if caller == NO_ROLE:
        return get_user_model().objects.create_user(username="norole", password="correct-horse-battery")
    role = Role(caller)
    return make_user(role, **scope_for(role, reference))


def scope_for(role: Role | None, reference: Reference) -> dict[str, Any]:
    """The scope a user of the role gets in the tests: the hub and the distribution point it serves."""
    if role == Role.HUB_MANAGER:
        return {"hubs": [reference.hub], "distribution_points": [reference.point]}
    if role == Role.DISTRIBUTOR:
        return {"distribution_points": [reference.point]}
    if role == Role.PARTNER_REPORTER:
        return {"organisation": reference.iom}
    return {}


@pytest.fixture
def token_for(db):
    """The plain API token of a new token for the user."""

    def make(user) -> str:
        _, plain = token_create(actor=None, username=user.get_username(), name="test")
        return plain

    return make


@pytest.fixture
def api_client(db, token_for):
    """A client that sends `Authorization: Bearer <token>` of a new user of the role."""

    def make(role: Role, **scope: Any) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(make_user(role, **scope))}")

    return make


@pytest.fixture
def viewer_client(api_client) -> Client:
    return api_client(Role.VIEWER)
