"""The web permission matrix: every page (URL pattern) x every role, a user without a role, and anonymous.

The pages come from the URL resolver itself, so a new page is tested as soon as it is routed — and
fails until its access rule is declared in PAGE_RULES below. (The API's operations have their own
matrix, tests/api/test_permissions.py, generated from the API's route table; the Django admin is
declared here as one family of pages.)

To declare a page, add one line:

    "stock:waybill-detail": Page(Right.VIEW_STOCK, params=lambda c: {"waybill_id": c.waybill.pk}),

The expected answer to a GET is then: anonymous 302 to the sign-in page (200 if `right` is PUBLIC);
a user without a role 403; a role that lacks `right` 403; a role listed in `scoped` that status;
any other role `ok`. A page with `post=True` takes a form: a POST from a role that lacks the right
(or `post_right`) is refused (403) and changes nothing, a POST from anyone without the CSRF token is
refused (403), and a POST from anonymous goes to the sign-in page. Every HTML page a permitted
role gets is checked for inline code, which the content security policy would block.

Scoped test users work at `ref.hub` and `ref.point`, and a partner reporter for IOM (see
`scope_for` in tests/api/conftest.py); the small data set below (`World`) gives every page an
object to show.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from reliefops.cluster.models import ImportBatch
from reliefops.core.models import AuditEvent, Job
from reliefops.core.roles import Right, Role, role_has
from reliefops.households.models import DistributionRound, Household, HouseholdImport
from reliefops.stock.models import Movement, Pledge, Waybill
from reliefops.stock.services import ReceiptLine, StockLine, pledge_create, stock_receive, waybill_dispatch
from tests.api.conftest import ANONYMOUS, CALLERS, NO_ROLE, Reference, make_reference, user_for
from tests.cluster import permission_setup as cl
from tests.factories import make_user
from tests.households import permission_setup as hh
from tests.module_data import kept_for_the_module

PUBLIC = "public"  # a page anyone may open without signing in


@dataclass
class World:
    """The reference data plus one object of each kind a page shows, and a user of each caller, made
    once for the module (each test's own changes are rolled back after it, see tests/module_data.py)."""

    ref: Reference
    waybill: Waybill
    receipt: Movement
    pledge: Pledge
    household: Household
    round: DistributionRound
    household_import: HouseholdImport
    batch: ImportBatch
    users: dict[str, Any] = field(default_factory=dict)  # caller -> user (None: anonymous)


@dataclass
class Caller:
    world: World
    user: Any  # None for anonymous


Params = Callable[[Caller], dict[str, Any]]


def _no_params(caller: Caller) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Page:
    """The access rule of one page."""

    right: Right | str | None  # the right a GET needs; PUBLIC: no sign-in; None: any user with a role
    params: Params = _no_params  # URL arguments naming an object every test caller may reach
    ok: int = 200  # status of a permitted GET
    scoped: Mapping[Role, int] = field(default_factory=dict)  # roles that the scope shuts out
    post: bool = False  # the page takes a form (POST)
    post_right: Right | None = None  # the right a POST needs, when it is not `right`
    query: str = ""  # a query string the GET needs
    post_only: bool = False  # a GET is refused (405) before anything else is checked
    signed_in: int | None = None  # status of a GET by any signed-in caller, when the page says so


# --- the small data set -----------------------------------------------------------------------------

DAY = dt.date(2005, 10, 20)


def _world(ref: Reference) -> World:
    stock_receive(
        actor=None,
        site_id=ref.hub.pk,
        grant_id=ref.grant.pk,
        grn_number="GRN-HUB-1",
        received_on=DAY,
        lines=[ReceiptLine(item_id=ref.blanket.pk, quantity=100)],
    )
    stock_receive(
        actor=None,
        site_id=ref.other_hub.pk,
        grant_id=ref.grant.pk,
        grn_number="GRN-OTHER-1",
        received_on=DAY,
        lines=[ReceiptLine(item_id=ref.blanket.pk, quantity=100)],
    )
    waybill_dispatch(
        actor=None,
        from_site_id=ref.other_hub.pk,
        to_site_id=ref.hub.pk,
        lines=[StockLine(item_id=ref.blanket.pk, quantity=10)],
        dispatched_on=DAY,
    )
    pledge_create(
        actor=None,
        grant_id=ref.grant.pk,
        item_id=ref.blanket.pk,
        quantity=50,
        destination_site_id=ref.hub.pk,
        expected_on=DAY + dt.timedelta(days=10),
    )
    hh.an_open_round(ref)
    hh.a_preview(ref)
    cl.iom_batch(ref)
    return World(
        ref=ref,
        waybill=Waybill.objects.get(),
        receipt=Movement.objects.filter(site=ref.hub).order_by("pk").first(),
        pledge=Pledge.objects.get(),
        household=Household.objects.get(),
        round=DistributionRound.objects.get(),
        household_import=HouseholdImport.objects.get(),
        batch=ImportBatch.objects.get(),
    )


def _own_job(caller: Caller) -> dict[str, Any]:
    """A finished job of the caller's own (anonymous: of an admin's)."""
    owner = caller.user or make_user(Role.ADMIN)
    job = Job.objects.create(
        kind="household_import_preview",
        label="Check of households.csv",
        owner=owner,
        right=Right.REGISTER_HOUSEHOLDS.value,
        status="succeeded",
    )
    return {"job_id": job.pk}


_STOCK_SITES_ONLY = {Role.HUB_MANAGER: 403}  # reports that add up every site: not for one hub's manager

PAGE_RULES: dict[str, Page] = {
    # outside the pages: the health check, the sign-in and sign-out, the API's documents
    "healthz": Page(PUBLIC),
    "web:login": Page(PUBLIC, signed_in=302),  # a signed-in user is sent on to the dashboard
    "web:logout": Page(PUBLIC, ok=405),
    "web:password-change": Page(None, signed_in=200),  # any signed-in user: their own password
    "api:openapi-json": Page(PUBLIC),
    "api:openapi-view": Page(PUBLIC),
    "api:api-root": Page(PUBLIC, ok=404),
    # the dashboard and the reference data
    "web:home": Page(None),
    "web:reference": Page(None),
    "web:adminarea-list": Page(Right.VIEW_REFERENCE),
    "web:adminarea-detail": Page(Right.VIEW_REFERENCE, params=lambda c: {"pcode": c.world.ref.tehsil.pcode}),
    "web:site-list": Page(Right.VIEW_REFERENCE),
    "web:site-detail": Page(Right.VIEW_REFERENCE, params=lambda c: {"site_id": c.world.ref.hub.pk}),
    "web:organisation-list": Page(Right.VIEW_REFERENCE),
    "web:organisation-detail": Page(
        Right.VIEW_REFERENCE, params=lambda c: {"organisation_id": c.world.ref.iom.pk}
    ),
    "web:item-list": Page(Right.VIEW_REFERENCE),
    "web:item-detail": Page(Right.VIEW_REFERENCE, params=lambda c: {"code": c.world.ref.blanket.code}),
    "web:kit-list": Page(Right.VIEW_REFERENCE),
    "web:kit-detail": Page(Right.VIEW_REFERENCE, params=lambda c: {"code": c.world.ref.kit.item.code}),
    # background jobs: one's own (an admin's: everyone's)
    "jobs:job-list": Page(None),
    "jobs:job-detail": Page(None, params=_own_job),
    # stock (hub managers see their own hubs; the donor reports add up every site)
    "stock:onhand-list": Page(Right.VIEW_STOCK),
    "stock:onhand-card": Page(Right.VIEW_STOCK),
    "stock:pipeline": Page(Right.VIEW_STOCK),
    "stock:pledge-cancel": Page(
        Right.POST_STOCK, params=lambda c: {"pledge_id": c.world.pledge.pk}, post=True
    ),
    "stock:waybill-list": Page(Right.VIEW_STOCK),
    "stock:waybill-dispatch": Page(Right.POST_STOCK, post=True),
    "stock:waybill-detail": Page(Right.VIEW_STOCK, params=lambda c: {"waybill_id": c.world.waybill.pk}),
    "stock:waybill-print": Page(Right.VIEW_STOCK, params=lambda c: {"waybill_id": c.world.waybill.pk}),
    "stock:waybill-confirm": Page(
        Right.POST_STOCK, params=lambda c: {"waybill_id": c.world.waybill.pk}, post=True
    ),
    "stock:movement-list": Page(Right.VIEW_STOCK),
    "stock:movement-detail": Page(Right.VIEW_STOCK, params=lambda c: {"movement_id": c.world.receipt.pk}),
    "stock:movement-grn": Page(Right.VIEW_STOCK, params=lambda c: {"movement_id": c.world.receipt.pk}),
    "stock:movement-reverse": Page(  # a GET goes back to the movement, whose page holds the form
        Right.POST_STOCK, params=lambda c: {"movement_id": c.world.receipt.pk}, ok=302, post=True
    ),
    "stock:donor-list": Page(Right.VIEW_STOCK, scoped=_STOCK_SITES_ONLY),
    "stock:donor-report": Page(
        Right.VIEW_STOCK, params=lambda c: {"grant_id": c.world.ref.grant.pk}, scoped=_STOCK_SITES_ONLY
    ),
    "stock:post-menu": Page(Right.DISTRIBUTE),
    "stock:post-receipt": Page(Right.POST_STOCK, post=True),
    "stock:post-distribution": Page(Right.DISTRIBUTE, post=True),
    "stock:post-handover": Page(Right.DISTRIBUTE, post=True),
    "stock:post-loss": Page(Right.POST_STOCK, post=True),
    "stock:post-count": Page(Right.POST_STOCK, post=True),
    "stock:post-kitting": Page(Right.POST_STOCK, post=True),
    # households: counts for every role, personal data for registrars and admins
    "households:overview": Page(Right.VIEW_HOUSEHOLD_COUNTS),
    # (distributors and hub managers see their own points' households there: names and card tokens)
    "households:registry": Page(Right.VIEW_DISTRIBUTION_LISTS, post=True),
    "households:registry-export": Page(Right.VIEW_PERSONAL_DATA),
    "households:register": Page(Right.REGISTER_HOUSEHOLDS, post=True),
    "households:detail": Page(
        Right.VIEW_PERSONAL_DATA,
        params=lambda c: {"household_id": c.world.household.pk},
        post=True,
        post_right=Right.REGISTER_HOUSEHOLDS,
    ),
    "households:correct": Page(
        Right.REGISTER_HOUSEHOLDS, params=lambda c: {"household_id": c.world.household.pk}, post=True
    ),
    "households:import": Page(Right.REGISTER_HOUSEHOLDS, post=True),
    "households:import-detail": Page(
        Right.REGISTER_HOUSEHOLDS, params=lambda c: {"import_id": c.world.household_import.pk}, post=True
    ),
    "households:duplicates": Page(Right.REGISTER_HOUSEHOLDS, post=True),
    "households:round-list": Page(Right.VIEW_HOUSEHOLD_COUNTS),
    "households:round-new": Page(Right.MANAGE_ROUNDS, post=True),
    "households:round-detail": Page(
        Right.VIEW_HOUSEHOLD_COUNTS,
        params=lambda c: {"round_id": c.world.round.pk},
        post=True,
        post_right=Right.MANAGE_ROUNDS,
    ),
    "households:distribution-list": Page(
        Right.VIEW_DISTRIBUTION_LISTS, params=lambda c: {"round_id": c.world.round.pk}
    ),
    "households:cards": Page(Right.MANAGE_ROUNDS, params=lambda c: {"round_id": c.world.round.pk}),
    "households:handover": Page(Right.DISTRIBUTE, params=lambda c: {"round_id": c.world.round.pk}, post=True),
    # the handover page's search by name is posted there, and the page shown again (a GET goes back)
    "households:handover-find": Page(
        Right.DISTRIBUTE, params=lambda c: {"round_id": c.world.round.pk}, ok=302, post=True
    ),
    # cluster: aggregates for VIEW_CLUSTER; rows, uploads and batches for REPORT_ACTIVITIES
    "cluster:cluster-gaps": Page(Right.VIEW_CLUSTER),
    "cluster:cluster-matrix": Page(Right.VIEW_CLUSTER),
    "cluster:cluster-totals": Page(Right.VIEW_CLUSTER),
    "cluster:cluster-needs": Page(Right.VIEW_CLUSTER, post=True, post_right=Right.MANAGE_CLUSTER),
    "cluster:cluster-rows": Page(Right.REPORT_ACTIVITIES),
    "cluster:cluster-upload": Page(Right.REPORT_ACTIVITIES, post=True),
    "cluster:cluster-upload-commit": Page(Right.REPORT_ACTIVITIES, post_only=True, post=True),
    "cluster:cluster-template": Page(Right.REPORT_ACTIVITIES, params=lambda c: {"fmt": "csv"}),
    "cluster:cluster-batches": Page(Right.REPORT_ACTIVITIES),
    "cluster:cluster-batch": Page(Right.REPORT_ACTIVITIES, params=lambda c: {"batch_id": c.world.batch.pk}),
    "cluster:cluster-batch-revert": Page(
        Right.REPORT_ACTIVITIES, params=lambda c: {"batch_id": c.world.batch.pk}, post_only=True, post=True
    ),
    "cluster:cluster-periods": Page(Right.VIEW_CLUSTER, post=True, post_right=Right.MANAGE_CLUSTER),
    # reports
    "reports:map-data": Page(Right.VIEW_CLUSTER),
    "reports:distributed": Page(Right.VIEW_STOCK),
    "reports:sitrep": Page(Right.VIEW_CLUSTER),
    "reports:sitrep-download": Page(Right.VIEW_CLUSTER, params=lambda c: {"fmt": "md"}),
    "reports:donor-list": Page(Right.VIEW_STOCK, scoped=_STOCK_SITES_ONLY),
    "reports:donor-report": Page(
        Right.VIEW_STOCK, params=lambda c: {"grant_id": c.world.ref.grant.pk}, scoped=_STOCK_SITES_ONLY
    ),
}


# --- the URL table ------------------------------------------------------------------------------


def _walk(
    patterns: list[Any], namespace: str | None = None, prefix: str = ""
) -> Iterator[tuple[str, Any, str]]:
    """(name, pattern, full route) of every URL pattern; an unnamed one is named by its full route."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = entry.name or route
            yield (f"{namespace}:{name}" if namespace else name), entry, route


def _is_api_operation(pattern: URLPattern) -> bool:
    # The API's operations have their own matrix, made from the API's route table.
    return getattr(pattern.callback, "__module__", "") == "ninja.operation"


def _url_table() -> tuple[list[str], list[str]]:
    """(pages, admin pages): every routed URL name outside the API's operations."""
    pages: list[str] = []
    admin_pages: list[str] = []
    for name, pattern, _ in _walk(get_resolver().url_patterns):
        if _is_api_operation(pattern):
            continue
        (admin_pages if name.startswith("admin:") else pages).append(name)
    return sorted(set(pages)), sorted(set(admin_pages))


PAGES, ADMIN_PAGES = _url_table()


def _rule(name: str) -> Page:
    rule = PAGE_RULES.get(name)
    if rule is None:
        pytest.fail(f"declare the access rule of the page {name} in PAGE_RULES of {__name__}")
    return rule


def _expected(rule: Page, caller: str, *, method: str = "GET") -> int:
    right = rule.post_right or rule.right if method == "POST" else rule.right
    if rule.signed_in is not None and caller != ANONYMOUS and method == "GET":
        return rule.signed_in
    if right == PUBLIC:
        return rule.ok
    if caller == ANONYMOUS:
        return 302
    if rule.post_only and method == "GET":
        return 405
    if caller == NO_ROLE:
        return 403
    role = Role(caller)
    if isinstance(right, Right) and not role_has(role, right):
        return 403
    return rule.scoped.get(role, rule.ok)


def _user(caller: str, world: World) -> Any:
    return world.users[caller]


def _client(user: Any, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def _url(name: str, rule: Page, caller: Caller) -> str:
    url = reverse(name, kwargs=rule.params(caller) or None)
    return f"{url}?{rule.query}" if rule.query else url


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    with kept_for_the_module(django_db_blocker):
        world = _world(make_reference())
        world.users = {caller: user_for(caller, world.ref) for caller in CALLERS}
        yield world


@pytest.fixture
def world(db, module_world) -> World:
    return module_world


def test_every_page_declares_its_access_rule():
    undeclared = [name for name in PAGES if name not in PAGE_RULES]
    assert not undeclared, "declare the access rule of the pages " + ", ".join(undeclared)


def test_every_declared_rule_names_a_page():
    stale = sorted(set(PAGE_RULES) - set(PAGES))
    assert not stale, f"these rules name no routed page (renamed or removed?): {stale}"


def test_the_admin_is_routed():
    # The admin's pages are checked as one family below; make sure the family is not empty.
    assert "admin:index" in ADMIN_PAGES
    assert "admin:login" in ADMIN_PAGES


# Inline code the content security policy blocks: scripts without src (JSON data excepted), event
# handler attributes, style attributes and style elements.
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style\b", re.I), "<style> element"),
]


def inline_code(html: str) -> list[str]:
    """What in a page the content security policy would block, with a little context."""
    found = []
    for pattern, what in INLINE:
        for match in pattern.finditer(html):
            found.append(f"{what}: {match.group(0)[:120]}")
    return found


@pytest.mark.parametrize("name", PAGES)
def test_page_access_matrix(world, name):
    # given the page's declared rule and the small data set
    rule = _rule(name)
    wrong: list[str] = []
    for caller_name in CALLERS:
        caller = Caller(world, _user(caller_name, world))
        url = _url(name, rule, caller)
        # when each caller asks for the page
        response = _client(caller.user).get(url)
        # then the answer is the one the rule gives, and a sign-in redirect goes to the sign-in page
        expected = _expected(rule, caller_name)
        if response.status_code != expected:
            wrong.append(f"{caller_name}: GET {url} answered {response.status_code}, expected {expected}")
            continue
        if (
            caller_name == ANONYMOUS
            and expected == 302
            and not response.headers["Location"].startswith(reverse("web:login") + "?next=")
        ):
            wrong.append(f"{caller_name}: GET {url} redirected to {response.headers['Location']}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", PAGES)
def test_pages_carry_no_inline_code(world, name):
    # given a page as an admin sees it (anonymous for the public pages)
    rule = _rule(name)
    user = None if rule.right == PUBLIC else _user(Role.ADMIN.value, world)
    url = _url(name, rule, Caller(world, user))
    response = _client(user).get(url)
    # then it holds no script, handler or style that the content security policy would block
    if "text/html" not in response.headers.get("Content-Type", ""):
        return
    assert inline_code(response.content.decode()) == []


POST_PAGES = [name for name in PAGES if name in PAGE_RULES and PAGE_RULES[name].post]


@pytest.mark.parametrize("name", POST_PAGES)
def test_a_form_refuses_a_post_from_whoever_may_not_use_it(world, name):
    # given a page with a form, and the audit trail before anyone posts
    rule = _rule(name)
    wrong: list[str] = []
    for caller_name in CALLERS:
        expected = _expected(rule, caller_name, method="POST")
        if caller_name != ANONYMOUS and expected != 403:
            continue  # a caller who may post: the app's own tests post real forms
        caller = Caller(world, _user(caller_name, world))
        url = _url(name, rule, caller)
        events = AuditEvent.objects.count()
        # when a caller without the right posts to it
        response = _client(caller.user).post(url, {})
        # then the post is refused (anonymous: sent to sign in) and nothing is recorded or changed
        if response.status_code != expected:
            wrong.append(f"{caller_name}: POST {url} answered {response.status_code}, expected {expected}")
        if AuditEvent.objects.count() != events:
            wrong.append(f"{caller_name}: POST {url} recorded an audit event")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", [*POST_PAGES, "web:logout", "web:login"])
def test_a_form_refuses_a_post_without_its_csrf_token(world, name):
    # given a signed-in admin whose browser does not send the CSRF token
    rule = _rule(name)
    admin = _user(Role.ADMIN.value, world)
    caller = Caller(world, admin)
    client = _client(admin, csrf=True)
    # when it posts to the page
    response = client.post(_url(name, rule, caller), {})
    # then the post is refused before the page sees it
    assert response.status_code == 403
    assert b"CSRF" in response.content


# --- the data admin: one family of pages, read-only, for admins only ---------------------------------


_ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _admin_url(name: str) -> str | None:
    """A URL of an admin page, built from its route: object pages name an object that does not exist."""
    route = next(route for n, _, route in _walk(get_resolver().url_patterns) if n == name)
    values = {"object_id": "0", "app_label": "core", "url": "no-such-page/"}

    def value(match: re.Match[str]) -> str:
        return values.get(match.group(1) or match.group(2), "x")

    if "content_type_id" in route:
        return None
    return "/" + _ROUTE_PARAMETER.sub(value, route).replace("^", "").replace("$", "")


ADMIN_URLS = [(name, url) for name in ADMIN_PAGES if (url := _admin_url(name)) is not None]


# The admin lets a user in or not in one place (AdminSite.has_permission), so a few callers suffice.
ADMIN_CALLERS = [ANONYMOUS, NO_ROLE, Role.VIEWER.value, Role.COORDINATOR.value, Role.ADMIN.value]
_ADMIN_OWN_PAGES = {"admin:login", "admin:logout", "admin:jsi18n", "admin:password_change_done"}


@pytest.mark.parametrize("caller_name", ADMIN_CALLERS)
def test_the_data_admin_is_for_admins_only(world, caller_name):
    # given every page of the data admin (the shortcut to a content type's object is left out: it
    # names no page of its own) and a caller
    login = reverse("admin:login")
    user = _user(caller_name, world)
    client = _client(user)
    wrong: list[str] = []
    for name, url in ADMIN_URLS:
        # when the caller asks for the page
        response = client.get(url)
        status = response.status_code
        # then nobody but an admin gets past the admin's sign-in (its own pages excepted), and an
        # admin is never offered a form that adds a row
        if name in _ADMIN_OWN_PAGES:
            ok = status in {200, 302, 405}
        elif caller_name == Role.ADMIN.value:
            ok = status == 403 if name.endswith("_add") else status in {200, 302, 403, 404}
        elif name == "admin:password_change" and user is not None:
            ok = status in {302, 403}
        else:
            ok = status == 302 and response.headers["Location"].startswith(login)
        if not ok:
            wrong.append(f"{caller_name}: GET {url} answered {status}")
    assert not wrong, "\n".join(wrong)
