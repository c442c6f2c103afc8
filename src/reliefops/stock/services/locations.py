"""Finding (and creating on first use) the stock locations of sites, grants and partners."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, connection, transaction

from reliefops.core.errors import NotFound, ServiceError
from reliefops.partners.models import Grant, Organisation, OrganisationType
from reliefops.places.models import Site, SiteKind
from reliefops.stock.models import SINGLETON_KINDS, LocationKind, StockLocation
from reliefops.stock.services.ledger import an

_SITE_KINDS = {
    SiteKind.WAREHOUSE: LocationKind.WAREHOUSE,
    SiteKind.HUB: LocationKind.HUB,
    SiteKind.DISTRIBUTION_POINT: LocationKind.DISTRIBUTION_POINT,
}
_SINGLETON_NAMES = {
    LocationKind.BENEFICIARIES: "Beneficiaries",
    LocationKind.LOSS: "Loss / damage",
    LocationKind.COUNT_ADJUSTMENT: "Count adjustment",
    LocationKind.ASSEMBLY: "Assembly (kitting)",
}
UNATTRIBUTED_GRANT = "UNATTRIBUTED"
UNATTRIBUTED_DONOR = "Unattributed stock"  # the donor of that grant: a placeholder, not an organisation


_COLUMNS = {"site": "site_id", "grant": "grant_id", "organisation": "organisation_id", "kind": "kind"}
LOCATION_COLUMNS = "id, kind, name, is_physical, site_id, grant_id, organisation_id, waybill_id"
# The singletons are found through their partial unique index. SQLite uses a partial index only when
# the query's WHERE restates the index's condition, with the same literals (a bound parameter does
# not match), so the condition is written out here from the same sorted kinds as the constraint.
_SINGLETON_KINDS_SORTED = sorted(k.value for k in SINGLETON_KINDS)
_SINGLETON_CONDITION = "kind IN (" + ", ".join(f"'{kind}'" for kind in _SINGLETON_KINDS_SORTED) + ")"


def location_query(column: str, value: int | str) -> tuple[str, list[int | str]]:
    """The SELECT of one location by a unique column, with its parameters, to fold into a bigger query.

    Every posting looks up its locations, so each lookup must be an index search on every database.
    """
    if column == "kind":
        where = f"kind = %s AND {_SINGLETON_CONDITION}"
    elif column in ("site_id", "grant_id", "organisation_id", "waybill_id"):
        where = f"{column} = %s"
    else:
        raise ValueError(f"stock locations are not looked up by {column!r}")
    return f"SELECT {LOCATION_COLUMNS} FROM stock_stocklocation WHERE {where}", [value]  # noqa: S608


def location_from_row(row: Sequence[object], alias: str) -> StockLocation:
    """A location from the columns of LOCATION_COLUMNS, built positionally (the cheap way)."""
    location = StockLocation(*row)
    location.is_physical = bool(location.is_physical)
    location._state.adding = False
    location._state.db = alias
    return location


def _find(column: str, value: int | str) -> StockLocation | None:
    """One location by a unique column, in one plain query."""
    sql, params = location_query(column, value)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else location_from_row(row, connection.alias)


def _get_or_create(lookup: dict[str, object], defaults: dict[str, object]) -> StockLocation:
    ((field, value),) = lookup.items()
    key = getattr(value, "pk", value)
    assert isinstance(key, int | str)  # noqa: S101 - lookups are by id or by kind
    location = _find(_COLUMNS[field], key)
    if location is not None:
        return location
    try:
        with transaction.atomic():
            return StockLocation.objects.create(**lookup, **defaults)
    except IntegrityError:
        return StockLocation.objects.get(**lookup)


def site_location(site: Site | int) -> StockLocation:
    """The physical location of a warehouse, hub or distribution point."""
    if isinstance(site, int):
        known = _find("site_id", site)
        if known is not None:
            return known
        try:
            site = Site.objects.get(pk=site)
        except Site.DoesNotExist as exc:
            raise NotFound(f"no site {site}") from exc
    kind = _SITE_KINDS.get(SiteKind(site.kind))
    if kind is None:
        raise ServiceError(f"{site.name} is {an(site.get_kind_display().lower())}; it cannot hold stock")
    return _get_or_create({"site": site}, {"kind": kind, "is_physical": True, "name": site.name})


def donor_location(grant: Grant) -> StockLocation:
    return _get_or_create(
        {"grant": grant},
        {"kind": LocationKind.DONOR, "is_physical": False, "name": f"Donor pipeline {grant.reference}"},
    )


def partner_location(organisation: Organisation) -> StockLocation:
    return _get_or_create(
        {"organisation": organisation},
        {"kind": LocationKind.PARTNER, "is_physical": False, "name": f"Partner {organisation}"},
    )


def singleton_location(kind: LocationKind) -> StockLocation:
    return _get_or_create({"kind": kind}, {"is_physical": False, "name": _SINGLETON_NAMES[kind]})


def unattributed_grant() -> Grant:
    """The grant a count surplus is charged to when the user names none."""
    grant = Grant.objects.filter(reference=UNATTRIBUTED_GRANT).first()
    if grant is not None:
        return grant
    donor, _ = Organisation.objects.get_or_create(
        name=UNATTRIBUTED_DONOR, defaults={"acronym": "UNATTR", "type": OrganisationType.DONOR}
    )
    try:
        with transaction.atomic():
            return Grant.objects.create(
                donor=donor, reference=UNATTRIBUTED_GRANT, title="Stock found in counts, donor unknown"
            )
    except IntegrityError:
        return Grant.objects.get(reference=UNATTRIBUTED_GRANT)
