"""Every access check of reliefops, used alike by the API, the web views and the CLI.

A fetcher (`access_site_by_id`) returns the object only when the user may act on it with the
given right, and raises AccessDenied or NotFound otherwise. Entry points never look objects up
from user input by themselves.

This module is the policy layer: it knows the scopes (organisations, hubs, distribution points)
and so imports the models of places and partners; domain code never imports it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from reliefops.core.errors import AccessDenied, NotFound
from reliefops.core.models import UserProfile
from reliefops.core.roles import CLUSTER_WIDE, Right, Role, refusal, role_has
from reliefops.core.security import whole_id

AnyUser = AbstractBaseUser | AnonymousUser


def user_role(user: AnyUser | None) -> Role | None:
    """The user's role; None for anonymous, inactive or unprofiled users (who may do nothing)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    cached: Role | str | None = getattr(user, "_reliefops_role", "unset")
    if cached != "unset":
        return cached if isinstance(cached, Role) else None
    profile = UserProfile.objects.filter(user_id=user.pk).only("role").first()
    role = Role(profile.role) if profile is not None else None
    setattr(user, "_reliefops_role", role)  # noqa: B010 - a per-request cache on the user object
    return role


def _pk(user: AnyUser | None) -> int:
    if user is None or user.pk is None:
        raise AccessDenied("sign in first")
    return int(user.pk)


def has_right(user: AnyUser | None, right: Right) -> bool:
    role = user_role(user)
    return role is not None and role_has(role, right)


def require(user: AnyUser | None, right: Right) -> Role:
    """The user's role, if it carries the right; AccessDenied otherwise."""
    role = user_role(user)
    if role is None:
        raise AccessDenied("sign in with an account that has a role")
    if not role_has(role, right):
        raise AccessDenied(refusal(role, right))
    return role


def can_export_personal_data(user: AnyUser | None) -> bool:
    """The separate, per-user right to export personal data (admins hold it by role)."""
    role = user_role(user)
    if role is None:
        return False
    if role == Role.ADMIN:
        return True
    return UserProfile.objects.filter(user_id=_pk(user), can_export_personal_data=True).exists()


def scoped_site_ids(user: AnyUser | None, right: Right) -> set[int] | None:
    """The site ids the user may use the right on; None means every site."""
    role = require(user, right)
    if role in CLUSTER_WIDE:
        return None
    profile = UserProfile.objects.get(user_id=_pk(user))
    ids: set[int] = set()
    if role == Role.HUB_MANAGER:
        ids |= set(profile.hubs.values_list("id", flat=True))
        # A hub manager also runs the distribution points of the hubs' areas that they were given.
        ids |= set(profile.distribution_points.values_list("id", flat=True))
    elif role == Role.DISTRIBUTOR:
        ids |= set(profile.distribution_points.values_list("id", flat=True))
    return ids


def user_organisation_id(user: AnyUser | None) -> int | None:
    if user is None or not user.is_authenticated:
        return None
    return UserProfile.objects.filter(user_id=user.pk).values_list("organisation_id", flat=True).first()


# --- reference data: readable by every role with VIEW_REFERENCE ---------------------------------


def _get(queryset: QuerySet[Any], what: str, **lookup: Any) -> Any:
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist as exc:
        if set(lookup) == {"pk"}:  # a record's number, as people name it: "no import batch 7"
            raise NotFound(f"no {what} {lookup['pk']}") from exc
        key = ", ".join(f"{k}={v}" for k, v in lookup.items())
        raise NotFound(f"no {what} with {key}") from exc


def access_admin_areas(user: AnyUser | None) -> QuerySet[Any]:
    from reliefops.places.models import AdminArea

    require(user, Right.VIEW_REFERENCE)
    return AdminArea.objects.select_related("parent")


def access_admin_area_by_pcode(user: AnyUser | None, pcode: str) -> Any:
    """The area of a P-code in any case: P-codes are stored in capitals (pk504 is PK504)."""
    return _get(access_admin_areas(user), "admin area", pcode=pcode.strip().upper())


def access_sites(user: AnyUser | None) -> QuerySet[Any]:
    from reliefops.places.models import Site

    require(user, Right.VIEW_REFERENCE)
    return Site.objects.select_related("admin_area")


def access_site_by_id(user: AnyUser | None, site_id: int, right: Right = Right.VIEW_REFERENCE) -> Any:
    """The site, if the user may use `right` there (scoped roles only at their own sites)."""
    site = _get(access_sites(user), "site", pk=site_id)
    if right != Right.VIEW_REFERENCE:
        allowed = scoped_site_ids(user, right)
        if allowed is not None and site.pk not in allowed:
            raise AccessDenied(f"you may not {right.value.replace('_', ' ')} at {site.name}")
    return site


def access_organisations(user: AnyUser | None) -> QuerySet[Any]:
    from reliefops.partners.models import Organisation

    require(user, Right.VIEW_REFERENCE)
    return Organisation.objects.all()


def access_organisation_by_id(user: AnyUser | None, organisation_id: int) -> Any:
    return _get(access_organisations(user), "organisation", pk=organisation_id)


def access_grants(user: AnyUser | None) -> QuerySet[Any]:
    from reliefops.partners.models import Grant

    require(user, Right.VIEW_REFERENCE)
    return Grant.objects.select_related("donor")


def access_grant_by_id(user: AnyUser | None, grant_id: int) -> Any:
    return _get(access_grants(user), "grant", pk=grant_id)


def access_items(user: AnyUser | None) -> QuerySet[Any]:
    from reliefops.catalog.models import Item

    require(user, Right.VIEW_REFERENCE)
    return Item.objects.all()


def id_or_code(ref: int | str, field: str = "code", *, any_case: bool = True) -> dict[str, Any]:
    """The lookup of a record named by its id, or by its text: a code in any case (`blk-hub` is
    BLK-HUB; codes are stored in capitals), or, without `any_case`, a text as it is written."""
    if isinstance(ref, int):
        return {"pk": ref}
    return {f"{field}__iexact" if any_case else field: ref.strip()}


def _by_code(queryset: QuerySet[Any], what: str, field: str, code: str) -> Any:
    """The one record of that code as written, else in any case (`blanket` is BLANKET, as the
    pages, the filters and the postings read codes)."""
    found = queryset.filter(**{field: code}).first()
    if found is None:
        found = queryset.filter(**{f"{field}__iexact": code.strip()}).first()
    if found is None:
        raise NotFound(f"no {what} with code={code}")
    return found


def access_item_by_code(user: AnyUser | None, code: str) -> Any:
    return _by_code(access_items(user), "item", "code", code)


def access_kits(user: AnyUser | None) -> QuerySet[Any]:
    from reliefops.catalog.models import Kit

    require(user, Right.VIEW_REFERENCE)
    return Kit.objects.select_related("item").prefetch_related("components__item")


def access_kit_by_code(user: AnyUser | None, code: str) -> Any:
    return _by_code(access_kits(user), "kit", "item__code", code)


def access_audit_events(user: AnyUser | None) -> QuerySet[Any]:
    from reliefops.core.models import AuditEvent

    require(user, Right.VIEW_AUDIT)
    return AuditEvent.objects.all()


# --- stock: VIEW_STOCK to read, POST_STOCK or DISTRIBUTE to post, each scoped to the user's sites --


def _may_not(right: Right, place: str) -> AccessDenied:
    return AccessDenied(f"you may not {right.value.replace('_', ' ')} at {place}")


def stock_visible_site_ids(user: AnyUser | None) -> set[int] | None:
    """The sites whose stock the user may see; None means every site."""
    return scoped_site_ids(user, Right.VIEW_STOCK)


def stock_sites(user: AnyUser | None, right: Right, *, closed: bool = False) -> QuerySet[Any]:
    """The open stock-holding sites where the user may use `right`: what a form offers; with
    `closed`, the closed ones too (what a list's filter offers: a closed site's stock, card and
    movements are still looked up, and the app's own links name them)."""
    from reliefops.places.models import Site, SiteKind

    allowed = scoped_site_ids(user, right)
    sites = Site.objects.filter(kind__in=[SiteKind.WAREHOUSE, SiteKind.HUB, SiteKind.DISTRIBUTION_POINT])
    if not closed:
        sites = sites.filter(is_active=True)
    if allowed is not None:
        sites = sites.filter(pk__in=allowed)
    return sites.order_by("name", "pk")


def access_stock_site(user: AnyUser | None, site: int | str, right: Right = Right.VIEW_STOCK) -> Any:
    """The site (by id, or by code when given text) if the user may use `right` on its stock there."""
    from reliefops.places.models import Site

    require(user, right)
    found = _get(Site.objects.select_related("admin_area"), "site", **id_or_code(site))
    allowed = scoped_site_ids(user, right)
    if allowed is not None and found.pk not in allowed:
        raise _may_not(right, found.name)
    return found


def access_stock_everywhere(user: AnyUser | None) -> None:
    """Reports that add up every site (a donor report) are for roles that see every site's stock."""
    if stock_visible_site_ids(user) is not None:
        raise AccessDenied("this report adds up the stock of every site; your role sees only your own sites")


def access_stock_grant(user: AnyUser | None, grant: int | str) -> Any:
    """A grant (by id, or by reference when given text) for an operation-wide stock report."""
    from reliefops.partners.models import Grant

    require(user, Right.VIEW_STOCK)
    lookup = {"pk": grant} if isinstance(grant, int) else {"reference": grant}
    found = _get(Grant.objects.select_related("donor"), "grant", **lookup)
    access_stock_everywhere(user)
    return found


def access_waybill_by_id(user: AnyUser | None, waybill_id: int, right: Right = Right.VIEW_STOCK) -> Any:
    """A waybill. Seeing it needs VIEW_STOCK at either end; confirming it, POST_STOCK where it goes."""
    from reliefops.stock.models import Waybill

    require(user, right)
    waybill = _get(Waybill.objects.select_related("from_site", "to_site"), "waybill", pk=waybill_id)
    allowed = scoped_site_ids(user, right)
    if allowed is not None:
        ends = {waybill.to_site_id}
        if right == Right.VIEW_STOCK:
            ends.add(waybill.from_site_id)
        if not ends & allowed:
            place = waybill.to_site.name if right != Right.VIEW_STOCK else "either end of this waybill"
            raise _may_not(right, place)
    return waybill


def access_waybill_by_number(user: AnyUser | None, number: str, right: Right = Right.VIEW_STOCK) -> Any:
    from reliefops.stock.models import Waybill

    require(user, right)
    waybill_id = _get(Waybill.objects.all(), "waybill", number=number).pk
    return access_waybill_by_id(user, waybill_id, right)


def access_movement_by_id(user: AnyUser | None, movement_id: int, right: Right = Right.VIEW_STOCK) -> Any:
    """A posted movement. Seeing it needs VIEW_STOCK at its site (or at either end of its waybill);
    reversing it, POST_STOCK at its site."""
    from reliefops.stock.models import Movement

    require(user, right)
    movement = _get(
        Movement.objects.select_related(
            "site", "waybill__from_site", "waybill__to_site", "posted_by", "reverses", "reversed_by"
        ),
        "movement",
        pk=movement_id,
    )
    allowed = scoped_site_ids(user, right)
    if allowed is not None:
        places = {movement.site_id}
        if right == Right.VIEW_STOCK and movement.waybill is not None:
            places |= {movement.waybill.from_site_id, movement.waybill.to_site_id}
        if not places & allowed:
            raise _may_not(right, movement.site.name if movement.site else "this movement's site")
    return movement


# --- households: counts for every role; personal data for registrars and admins; names and card
# tokens for distributors and hub managers, at their own distribution points only ------------------


def distribution_list_point_ids(user: AnyUser | None) -> set[int] | None:
    """The distribution points whose lists (names, card tokens) the user may see; None: every point."""
    role = require(user, Right.VIEW_DISTRIBUTION_LISTS)
    if role in {Role.ADMIN, Role.REGISTRAR}:
        return None
    return scoped_site_ids(user, Right.VIEW_DISTRIBUTION_LISTS) or set()


def access_households(user: AnyUser | None) -> QuerySet[Any]:
    """Every household with its personal data: for roles that may see personal data."""
    from reliefops.households.models import Household

    require(user, Right.VIEW_PERSONAL_DATA)
    return Household.objects.select_related("origin_area", "origin_district", "current_site")


def access_household_by_id(user: AnyUser | None, household_id: int) -> Any:
    return _get(access_households(user), "household", pk=household_id)


def access_household_to_register(user: AnyUser | None, household_id: int) -> Any:
    """A household to change (reissue its card, merge it): for roles that register households."""
    from reliefops.households.models import Household

    require(user, Right.REGISTER_HOUSEHOLDS)
    return _get(Household.objects.all(), "household", pk=household_id)


def access_duplicate_pairs(user: AnyUser | None) -> QuerySet[Any]:
    from reliefops.households.models import DuplicatePair

    require(user, Right.REGISTER_HOUSEHOLDS)
    require(user, Right.VIEW_PERSONAL_DATA)
    return DuplicatePair.objects.select_related("first", "second", "decided_by", "survivor")


def access_duplicate_pair_by_id(user: AnyUser | None, pair_id: int) -> Any:
    return _get(access_duplicate_pairs(user), "duplicate pair", pk=pair_id)


def access_household_import_by_id(user: AnyUser | None, import_id: int) -> Any:
    from reliefops.households.models import HouseholdImport

    require(user, Right.REGISTER_HOUSEHOLDS)
    return _get(HouseholdImport.objects.all(), "household import", pk=import_id)


def access_rounds(user: AnyUser | None) -> QuerySet[Any]:
    """Distribution rounds (their package, points and figures hold no personal data)."""
    from reliefops.households.models import DistributionRound

    require(user, Right.VIEW_HOUSEHOLD_COUNTS)
    return DistributionRound.objects.all()


def access_round_by_id(
    user: AnyUser | None, round_id: int, right: Right = Right.VIEW_HOUSEHOLD_COUNTS
) -> Any:
    """A round, if the user holds `right` (MANAGE_ROUNDS to change it)."""
    require(user, right)
    return _get(access_rounds(user), "distribution round", pk=round_id)


def access_round_point(
    user: AnyUser | None, round_obj: Any, site: int | str, right: Right = Right.DISTRIBUTE
) -> Any:
    """A distribution point of the round (by id, or by code) where the user may use `right`."""
    from reliefops.places.models import Site

    require(user, right)
    found = _get(Site.objects.select_related("admin_area"), "site", **id_or_code(site))
    if not round_obj.points.filter(site=found).exists():
        raise NotFound(f"{found.name} is not a distribution point of round {round_obj.code}")
    if right == Right.VIEW_DISTRIBUTION_LISTS:
        allowed = distribution_list_point_ids(user)
    elif right == Right.DISTRIBUTE:
        allowed = scoped_site_ids(user, right)
    else:  # managing a round (MANAGE_ROUNDS) reaches every point of it
        allowed = None
    if allowed is not None and found.pk not in allowed:
        raise _may_not(right, found.name)
    return found


# --- cluster 4W: aggregates for VIEW_CLUSTER; rows and batches for REPORT_ACTIVITIES, a partner
# reporter's narrowed to its own organisation; periods, needs and boundaries for MANAGE_CLUSTER ----


def reporting_scope(user: AnyUser | None) -> Any:
    """The organisation whose 4W rows the user reports and sees; None means every organisation."""
    from reliefops.partners.models import Organisation

    role = require(user, Right.REPORT_ACTIVITIES)
    if role != Role.PARTNER_REPORTER:
        return None
    organisation_id = user_organisation_id(user)
    if organisation_id is None:
        raise AccessDenied(
            "your account belongs to no organisation; ask an admin to set it before reporting 4W rows"
        )
    return Organisation.objects.get(pk=organisation_id)


def access_reporting_organisation(user: AnyUser | None, organisation: int | str | None) -> Any:
    """The organisation an upload reports for: a partner reporter's own (naming another is refused);
    for a coordinator the one named (by id, name or acronym), or None to take each row's own."""
    from reliefops.partners.models import Organisation
    from reliefops.partners.selectors import organisation_find

    scope = reporting_scope(user)
    if organisation in (None, ""):
        return scope
    number = organisation if isinstance(organisation, int) else whole_id(organisation)
    if number is not None:
        found = _get(Organisation.objects.all(), "organisation", pk=number)
    else:
        matches = organisation_find(str(organisation))
        if len(matches) != 1:
            raise NotFound(f"no single organisation named {organisation!r}")
        found = matches[0]
    if scope is not None and found.pk != scope.pk:
        raise AccessDenied(f"you report for {scope} only")
    return found


def access_activity_rows(user: AnyUser | None) -> QuerySet[Any]:
    """The current versions of the 4W rows the user may see: a partner reporter its organisation's."""
    from reliefops.cluster.models import ActivityRow

    scope = reporting_scope(user)
    rows = ActivityRow.objects.filter(replaced_in__isnull=True)
    return rows if scope is None else rows.filter(reporting_org_id=scope.pk)


def access_activity_row_by_id(user: AnyUser | None, row_id: int) -> Any:
    return _get(access_activity_rows(user), "4W row", pk=row_id)


def access_import_batches(user: AnyUser | None) -> QuerySet[Any]:
    """The 4W upload batches the user may see and revert: a partner reporter its organisation's."""
    from reliefops.cluster.models import ImportBatch

    scope = reporting_scope(user)
    batches = ImportBatch.objects.all()
    return batches if scope is None else batches.filter(organisation_id=scope.pk)


def access_import_batch_by_id(user: AnyUser | None, batch_id: int) -> Any:
    from reliefops.cluster.models import ImportBatch

    scope = reporting_scope(user)
    batch = _get(ImportBatch.objects.select_related("organisation"), "import batch", pk=batch_id)
    if scope is not None and batch.organisation_id != scope.pk:
        if batch.organisation_id is None:
            raise AccessDenied(
                f"batch {batch.pk} holds the rows of several organisations, not {scope}'s alone; "
                "the cluster coordinator reverts it or sees its rows"
            )
        raise AccessDenied(f"batch {batch.pk} is not {scope}'s upload")
    return batch


def access_cluster_aggregates(user: AnyUser | None) -> None:
    """Gap analysis, 4W matrix, totals and needs: figures summed over rows, never the rows."""
    require(user, Right.VIEW_CLUSTER)


def access_cluster_management(user: AnyUser | None) -> None:
    """Locking reporting periods; loading needs baselines, activity types and boundaries."""
    require(user, Right.MANAGE_CLUSTER)


# --- background jobs: a user sees their own jobs, an admin every job; a job's result only with the
# right it was started under (a role changed since hides it) ----------------------------------------


def access_jobs(user: AnyUser | None) -> QuerySet[Any]:
    """The jobs the user may follow: their own; every user's for an admin."""
    from reliefops.core.models import Job

    role = user_role(user)
    if role is None:
        raise AccessDenied("sign in with an account that has a role")
    jobs = Job.objects.select_related("owner")
    return jobs if role == Role.ADMIN else jobs.filter(owner_id=_pk(user))


def access_job_by_id(user: AnyUser | None, job_id: int) -> Any:
    return _get(access_jobs(user), "job", pk=job_id)


def job_result_visible(user: AnyUser | None, job: Any) -> bool:
    """Whether the user may see the job's result: they hold the right it needs."""
    try:
        return has_right(user, Right(job.right))
    except ValueError:
        return False
