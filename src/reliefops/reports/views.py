"""Pages of the reports: the dashboard (`/`), its map data, the distributions behind a figure, the
sitrep (page, Markdown and HTML) and the donor reports (page and printable report).

Each view parses the period, checks the user's rights through core.access, calls the selectors
and renders. The dashboard shows only the sections the user's role may see, scoped to the user's
sites where the role is; it never shows a household's personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from reliefops.cluster import maps as coverage
from reliefops.core.access import (
    access_cluster_aggregates,
    access_grants,
    access_stock_everywhere,
    access_stock_grant,
    has_right,
    require,
    stock_visible_site_ids,
    user_role,
)
from reliefops.core.errors import InvalidInput
from reliefops.core.exports import Column, Table
from reliefops.core.roles import Right
from reliefops.core.security import STANDALONE_DOCUMENT_POLICY
from reliefops.reports import charts, maps, selectors
from reliefops.reports.forms import DistributedForm, PeriodForm
from reliefops.reports.periods import Period
from reliefops.reports.sitrep import build_sitrep
from reliefops.scenarios.selectors import ScenarioData, scenario_data
from reliefops.web.context import role_phrases
from reliefops.web.exports import download, export_links
from reliefops.web.pages import page

# The dashboard draws a weekly chart for this many items (the most handed over first).
CHARTED_ITEMS = 8


def _quantity_of(item_id: int) -> Callable[[tuple[Any, dict[int, int]]], int]:
    """A by-site row's quantity of one item."""
    return lambda row: row[1].get(item_id, 0)


def _by_site_table(items: list[selectors.ItemFigure]) -> Table:
    """The Distributed page's table as a file: a site per row, an item per column (its code as the
    HXL attribute), as on the page."""
    return Table(
        "distributed-by-site",
        (
            Column("Site code", "#loc+code", lambda row: row[0].code, 12),
            Column("Site", "#loc+name", lambda row: row[0].name, 26),
            *(
                Column(
                    figure.name,
                    "#output+" + re.sub(r"[^a-z0-9]+", "_", figure.code.lower()).strip("_"),
                    _quantity_of(figure.item_id),
                    12,
                )
                for figure in items
            ),
        ),
        sheet="Distributed by site",
    )


def _refused(request: HttpRequest, template: str, form: PeriodForm, error: InvalidInput) -> HttpResponse:
    form.show_problems(error)
    return render(request, template, {"form": form, "refused": True}, status=422)


def _stock_context(user: Any, period: Period) -> dict[str, Any]:
    site_ids = stock_visible_site_ids(user)
    today = timezone.localdate()
    distributions = selectors.distributions(period=period, site_ids=site_ids)
    series = selectors.weekly(distributions)
    charted = sorted(distributions.items, key=lambda f: -f.total)[:CHARTED_ITEMS]
    return {
        "scoped": site_ids is not None,
        "distributions": distributions,
        "weekly": series,
        "charts": [
            charts.Chart(
                item_code=figure.code,
                title=f"{figure.name}: handed over per week",
                svg=charts.weekly_bars(
                    ident=f"chart-{n}",
                    title=f"{figure.name}: handed over per week",
                    weeks=series.weeks,
                    values=series.values[figure.item_id],
                ),
            )
            for n, figure in enumerate(charted)
        ],
        # a period that ended in the past shows the stock held at the end of its last day, the day
        # its weekly rate ends on, and the trucks on the road, and overdue, on that day
        "supply": selectors.supply(site_ids=site_ids, series=series, on=selectors.past_day(period, today)),
        "waybills": selectors.waybills(today=today, as_of=period.end, site_ids=site_ids),
        "today": today,
        "rate_weeks": selectors.RATE_WEEKS,
        "long_overdue": selectors.LONG_OVERDUE_DAYS,
    }


def _sees_every_sites_stock(user: Any) -> bool:
    """Whether the user may see the stock of every site: the hubs' part of the sitrep and the donor
    reports add up every hub."""
    return has_right(user, Right.VIEW_STOCK) and stock_visible_site_ids(user) is None


def _joined(*parts: str) -> str:
    """Query strings (without '?') joined, the empty ones left out."""
    return "&".join(part for part in parts if part)


def _own_pages(user: Any) -> list[dict[str, str]]:
    """The pages of the user's own work that their rights open (households, rounds, posting), for
    the dashboard's "Your pages": a registrar's or a distributor's way in, who sees no figure there."""
    personal = has_right(user, Right.VIEW_PERSONAL_DATA)
    lists = has_right(user, Right.VIEW_DISTRIBUTION_LISTS)
    table = [
        (Right.REGISTER_HOUSEHOLDS, "Register a household", "households:register", "one at a time"),
        (Right.REGISTER_HOUSEHOLDS, "Import households", "households:import", "from a CSV or XLSX file"),
        (
            Right.REGISTER_HOUSEHOLDS,
            "Likely duplicates",
            "households:duplicates",
            "merge them or mark them different",
        ),
        (
            Right.VIEW_PERSONAL_DATA if personal else Right.VIEW_DISTRIBUTION_LISTS,
            "Registry",
            "households:registry",
            "every registered household" if personal or not lists else "the households listed at your points",
        ),
        (
            Right.VIEW_HOUSEHOLD_COUNTS,
            "Households",
            "households:overview",
            "how many are registered and served",
        ),
        (
            Right.VIEW_HOUSEHOLD_COUNTS,
            "Distribution rounds",
            "households:round-list",
            "their lists, household cards and handovers",
        ),
        (
            Right.DISTRIBUTE,
            "Post stock",
            "stock:post-menu",
            "report a distribution or hand stock to a partner",
        ),
        (Right.VIEW_REFERENCE, "My jobs", "jobs:job-list", "the imports and searches you started"),
    ]
    return [
        {"label": label, "url": reverse(name), "help": words}
        for right, label, name, words in table
        if has_right(user, right)
    ]


@page
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Right.VIEW_REFERENCE)  # every role: each section then asks for its own right
    sees_stock, sees_cluster = has_right(user, Right.VIEW_STOCK), has_right(user, Right.VIEW_CLUSTER)
    # the activity chooses the cluster's figures: offered only to a role that sees them
    form = PeriodForm(request.GET, with_activity=sees_cluster)
    try:
        # a period that ends after today shows, and says, the figures up to today
        period = form.period().up_to(timezone.localdate())
        form.check_activity()
        context: dict[str, Any] = {
            "form": form,
            "period": period,
            "organisation": selectors.operating_organisation(),
            "rights": role_phrases(user_role(user)),
            "sees_stock": sees_stock,
            "sees_cluster": sees_cluster,
            "sees_donor_reports": _sees_every_sites_stock(user),
            "own_pages": _own_pages(user),
        }
        if sees_stock or sees_cluster:
            # the scenario's illustrative parts among the sections shown (none for an operation's own)
            found = scenario_data()
            context["scenario"] = ScenarioData(
                stock_history=found.stock_history and sees_stock,
                cluster_reports=found.cluster_reports and sees_cluster,
            )
        if sees_stock:
            context.update(_stock_context(user, period))
        if sees_cluster:
            chosen = form.chosen_activity()
            picture = selectors.cluster_picture(period=period, activity=chosen)
            activity = f"activity={picture.activity.code}" if picture.activity else ""
            context.update(
                cluster=picture,
                map_url=reverse("reports:map-data") + "?" + _joined(period.query(), activity),
                coverage_classes=coverage.CLASSES,
                # the sitrep of the same period, and of the activity when one was chosen
                sitrep_query=_joined(period.query(), activity if chosen else ""),
            )
    except InvalidInput as error:
        return _refused(request, "reports/dashboard.html", form, error)
    return render(request, "reports/dashboard.html", context)


@page
def map_data(request: HttpRequest) -> JsonResponse:
    """The dashboard map's GeoJSON: district outlines with coverage, and the sites."""
    access_cluster_aggregates(request.user)
    form = PeriodForm(request.GET)
    try:
        picture = selectors.cluster_picture(period=form.period(), activity=form.chosen_activity())
    except InvalidInput as error:
        problems = [{"row": p.row, "field": p.field, "reason": p.reason} for p in error.problems]
        return JsonResponse({"problems": problems}, status=422)
    return JsonResponse(maps.map_data(picture))


@page
def distributed(request: HttpRequest) -> HttpResponse:
    """What was handed over, per site and week, narrowed to an item, a hub or a district: the page
    that explains a figure of the dashboard."""
    user = request.user
    require(user, Right.VIEW_STOCK)
    form = DistributedForm(request.GET)
    try:
        period, narrowed = form.criteria()
    except InvalidInput as error:
        return _refused(request, "reports/distributed.html", form, error)
    site_ids = stock_visible_site_ids(user)
    found = selectors.distributions(
        period=period,
        site_ids=site_ids,
        item_code=narrowed.item.code if narrowed.item else None,
        hub_id=narrowed.hub.pk if narrowed.hub else None,
        district=narrowed.district.pcode if narrowed.district else None,
    )
    # ?format=csv or xlsx: the site-by-item table, with the same filters
    if (file := download(request, _by_site_table(found.items), found.by_site)) is not None:
        return cast(HttpResponse, file)
    return render(
        request,
        "reports/distributed.html",
        {
            "form": form,
            "period": period,
            "found": found,
            "weekly": selectors.weekly(found),
            "narrowed": narrowed.labels,
            "kept": form.kept,
            "export_links": export_links(request) if found.items else [],
            "scoped": site_ids is not None,
            "hub_share": found.by_hub[0].share if narrowed.hub and found.by_hub else None,
            # a hub none of whose sites is the user's: say so, not that nothing was handed over
            "hub_outside": narrowed.hub
            if narrowed.hub and not selectors.hub_reaches(narrowed.hub, site_ids)
            else None,
            # each site's movements of the same days (and item), so that they add up to its figures
            "movements_query": _joined(
                period.query(), urlencode({"item": narrowed.item.code}) if narrowed.item else ""
            ),
        },
    )


# --- sitrep ----------------------------------------------------------------------------------------


def _sitrep_access(user: Any) -> None:
    """The sitrep is what the operation publishes to the cluster's partners: totals only, no row of
    the ledger or of a partner's 4W, no personal data. Roles that see the cluster's figures read it."""
    access_cluster_aggregates(user)


def _build(form: PeriodForm, user: Any) -> Any:
    # What was distributed, the hubs' stock on hand, hand-overs and waybills are the stock ledger's,
    # of every site: a reader who may not see the stock of every site (a partner reporter) gets the
    # sitrep without them. The dashboard shows such a reader no stock figure either.
    today = timezone.localdate()
    return build_sitrep(
        period=form.period().up_to(today),
        today=today,
        activity=form.chosen_activity(),
        with_stock=_sees_every_sites_stock(user),
    )


@page
def sitrep(request: HttpRequest) -> HttpResponse:
    _sitrep_access(request.user)
    form = PeriodForm(request.GET)
    try:
        report = _build(form, request.user)
    except InvalidInput as error:
        return _refused(request, "reports/sitrep.html", form, error)
    query = request.GET.urlencode()
    return render(
        request,
        "reports/sitrep.html",
        {"form": form, "sitrep": report, "query": f"?{query}" if query else ""},
    )


@page
def sitrep_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The sitrep as a Markdown or standalone HTML file, from the same builder as the page."""
    _sitrep_access(request.user)
    form = PeriodForm(request.GET)
    try:
        report = _build(form, request.user)
    except InvalidInput as error:
        return _refused(request, "reports/sitrep.html", form, error)
    name = report.file_name(fmt)
    if fmt == "md":
        response = HttpResponse(report.markdown(), content_type="text/markdown; charset=utf-8")
    else:
        response = HttpResponse(report.html(), content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = STANDALONE_DOCUMENT_POLICY
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- donor reports ---------------------------------------------------------------------------------


@page
def donor_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Right.VIEW_STOCK)
    access_stock_everywhere(request.user)
    grants = access_grants(request.user).select_related("donor").order_by("reference")
    return render(request, "reports/donor_list.html", {"grants": grants})


@page
def donor_report(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = access_stock_grant(request.user, grant_id)
    report = selectors.grant_report(grant)
    return render(
        request,
        "reports/donor_report.html",
        {"report": report, "organisation": selectors.operating_organisation()},
    )
