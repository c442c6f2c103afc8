"""factory_boy factories for the models of the suite, used through fixtures."""

from __future__ import annotations

import itertools

import factory
from django.contrib.auth import get_user_model

from reliefops.catalog.models import Item, ItemCategory, Kit, KitComponent
from reliefops.core.roles import Role
from reliefops.core.services import user_create
from reliefops.partners.models import Grant, Organisation, OrganisationType
from reliefops.places.models import AdminArea, AdminLevel, Site, SiteKind

_user_seq = itertools.count(1)


def make_user(
    role: Role,
    *,
    organisation=None,
    hubs=(),
    distribution_points=(),
    can_export=False,
    password: str | None = "correct-horse-battery",
):
    return user_create(
        actor=None,
        username=f"{role.value}{next(_user_seq)}",
        password=password,
        role=role,
        organisation_id=organisation.pk if organisation else None,
        hub_ids=[s.pk for s in hubs],
        distribution_point_ids=[s.pk for s in distribution_points],
        can_export_personal_data=can_export,
    )


class AdminAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdminArea
        django_get_or_create = ("pcode",)

    pcode = factory.Sequence(lambda n: f"PK9{n:02d}")
    name = factory.Sequence(lambda n: f"Area {n}")
    level = AdminLevel.DISTRICT
    lat = 34.5
    lon = 73.3


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: f"SITE-{n}")
    name = factory.Sequence(lambda n: f"Site {n}")
    kind = SiteKind.HUB
    admin_area = factory.SubFactory(AdminAreaFactory)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    acronym = factory.Sequence(lambda n: f"ORG{n}")
    type = OrganisationType.INGO


class GrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grant

    donor = factory.SubFactory(OrganisationFactory, type=OrganisationType.DONOR)
    reference = factory.Sequence(lambda n: f"GRANT-{n:04d}")
    currency = "USD"
    amount_minor = 100_000_00


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    code = factory.Sequence(lambda n: f"ITEM-{n}")
    name = factory.Sequence(lambda n: f"Item {n}")
    category = ItemCategory.NFI


class KitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kit

    item = factory.SubFactory(ItemFactory, category=ItemCategory.KIT)


class KitComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KitComponent

    kit = factory.SubFactory(KitFactory)
    item = factory.SubFactory(ItemFactory)
    quantity = 1


User = get_user_model()
