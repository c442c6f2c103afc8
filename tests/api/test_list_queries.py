"""Every list endpoint reads a page in a fixed number of queries, however many rows it holds."""

from __future__ import annotations

import pytest

from reliefops.catalog.models import PackSize
from reliefops.places.models import AdminLevel
from tests.factories import (
    AdminAreaFactory,
    GrantFactory,
    ItemFactory,
    KitComponentFactory,
    OrganisationFactory,
    SiteFactory,
)


def _more_admin_areas(ref):
    for n in range(5):
        AdminAreaFactory(pcode=f"PK5220{n + 2}", level=AdminLevel.TEHSIL, parent=ref.district)


def _more_sites(ref):
    for _ in range(5):
        SiteFactory(admin_area=ref.tehsil, parent_hub=ref.hub)


def _more_organisations(ref):
    OrganisationFactory.create_batch(5)


def _more_grants(ref):
    for _ in range(5):
        GrantFactory()


def _more_items(ref):
    for item in ItemFactory.create_batch(5):
        PackSize.objects.create(item=item, name="box", quantity=4)


def _more_kits(ref):
    for _ in range(5):
        KitComponentFactory.create_batch(2, kit=KitComponentFactory().kit)


# Token lookup and role lookup, then the count and the page, then one query per prefetched relation.
AUTH_QUERIES = 2


@pytest.mark.parametrize(
    ("path", "page_queries", "add_rows"),
    [
        pytest.param("/api/places/admin-areas", 2, _more_admin_areas, id="admin-areas"),
        pytest.param("/api/places/sites", 2, _more_sites, id="sites"),
        pytest.param("/api/partners/organisations", 2, _more_organisations, id="organisations"),
        pytest.param("/api/partners/grants", 2, _more_grants, id="grants"),
        pytest.param("/api/catalog/items", 3, _more_items, id="items-with-pack-sizes"),
        pytest.param("/api/catalog/kits", 4, _more_kits, id="kits-with-components"),
    ],
)
def test_list_queries_do_not_grow_with_rows(
    reference, viewer_client, django_assert_num_queries, path, page_queries, add_rows
):
    # given a token whose last use was just recorded (so no write happens below)
    assert viewer_client.get(path).status_code == 200
    add_rows(reference)
    # when
    with django_assert_num_queries(AUTH_QUERIES + page_queries):
        response = viewer_client.get(path)
    # then
    assert response.status_code == 200
    assert response.json()["count"] > 5
