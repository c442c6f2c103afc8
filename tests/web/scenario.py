"""A slice of the Kashmir 2005 operation for the web and browser tests.

Pakistan > NWFP > Mansehra > Bala Kot, and Batagram; AJK > Muzaffarabad. Three hubs and a
distribution point, IOM and a donor with two grants, three items and a winterization kit.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from reliefops.catalog.models import ItemCategory, PackSize
from reliefops.partners.models import OrganisationType
from reliefops.places.models import AdminLevel, SiteKind
from tests.factories import (
    AdminAreaFactory,
    GrantFactory,
    ItemFactory,
    KitComponentFactory,
    KitFactory,
    OrganisationFactory,
    SiteFactory,
)


def build_kashmir() -> SimpleNamespace:
    """Store the slice; its rows are the attributes of the namespace returned."""
    pakistan = AdminAreaFactory(pcode="PK", name="Pakistan", level=AdminLevel.COUNTRY)
    nwfp = AdminAreaFactory(
        pcode="PK5",
        name="Khyber Pakhtunkhwa",
        level=AdminLevel.PROVINCE,
        parent=pakistan,
        alt_names=["NWFP", "North-West Frontier Province"],
    )
    mansehra = AdminAreaFactory(pcode="PK522", name="Mansehra", level=AdminLevel.DISTRICT, parent=nwfp)
    balakot_tehsil = AdminAreaFactory(
        pcode="PK52201",
        name="Bala Kot",
        level=AdminLevel.TEHSIL,
        parent=mansehra,
        alt_names=["Balakot"],
        lat=34.753,
        lon=73.539,
        elevation_m=1000,
    )
    batagram = AdminAreaFactory(
        pcode="PK504", name="Batagram", level=AdminLevel.DISTRICT, parent=nwfp, alt_names=["Battagram"]
    )
    ajk = AdminAreaFactory(pcode="PK1", name="Azad Kashmir (AJK)", level=AdminLevel.PROVINCE, parent=pakistan)
    muzaffarabad = AdminAreaFactory(pcode="PK107", name="Muzaffarabad", level=AdminLevel.DISTRICT, parent=ajk)

    mansehra_hub = SiteFactory(code="HUB-MAN", name="Mansehra hub", kind=SiteKind.HUB, admin_area=mansehra)
    balakot_hub = SiteFactory(
        code="HUB-BKT",
        name="Balakot forward hub",
        kind=SiteKind.HUB,
        admin_area=balakot_tehsil,
        parent_hub=mansehra_hub,
        lat=34.5477,
        lon=73.3527,
        elevation_m=980,
    )
    kaghan_dp = SiteFactory(
        code="DP-KGN",
        name="Kaghan distribution point",
        kind=SiteKind.DISTRIBUTION_POINT,
        admin_area=balakot_tehsil,
        parent_hub=balakot_hub,
        elevation_m=2134,
    )
    muzaffarabad_hub = SiteFactory(
        code="HUB-MZD", name="Muzaffarabad hub", kind=SiteKind.HUB, admin_area=muzaffarabad
    )

    iom = OrganisationFactory(
        name="International Organization for Migration",
        acronym="IOM",
        type=OrganisationType.UN,
        aliases=["OIM", "Intl Org for Migration"],
    )
    dfid = OrganisationFactory(
        name="Department for International Development", acronym="DFID", type=OrganisationType.DONOR
    )
    grant_shelter = GrantFactory(
        donor=dfid,
        reference="DFID-2005-SHELTER",
        title="Winter shelter",
        start=date(2005, 10, 15),
        end=date(2006, 4, 30),
        currency="GBP",
        amount_minor=250_000_000,
    )
    grant_nfi = GrantFactory(donor=dfid, reference="DFID-2005-NFI", title="NFI pipeline")

    blanket = ItemFactory(code="NFI-BLK", name="Blanket", category=ItemCategory.NFI, weight_kg="1.500")
    PackSize.objects.create(item=blanket, name="bale", quantity=10)
    tarpaulin = ItemFactory(code="SHL-TARP", name="Tarpaulin", category=ItemCategory.SHELTER)
    cgi = ItemFactory(code="SHL-CGI", name="CGI sheet", category=ItemCategory.SHELTER, base_unit="sheet")
    kit = KitFactory(item__code="KIT-WINT", item__name="Winterization kit", source="IOM 2006 kit")
    KitComponentFactory(kit=kit, item=blanket, quantity=2)
    KitComponentFactory(kit=kit, item=tarpaulin, quantity=1)

    return SimpleNamespace(**locals())
