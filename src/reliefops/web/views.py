"""Pages of the web shell: the overview and the reference data (places, partners, catalogue).

Each view parses the request, calls one selector or fetcher of core.access, and renders.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from reliefops.core.access import (
    access_admin_area_by_pcode,
    access_item_by_code,
    access_kit_by_code,
    access_organisation_by_id,
    access_site_by_id,
    user_role,
)
from reliefops.web import exports, forms, selectors
from reliefops.web.context import role_phrases
from reliefops.web.pages import page, render_list

# How many children or sites a detail page shows before it links to the full list.
DETAIL_LIMIT = 50


class SignOutView(auth_views.LogoutView):
    """Sign out (POST only) and say so on the sign-in page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            messages.info(request, "You have signed out.")
        return response


@page
def home(request: HttpRequest) -> HttpResponse:
    overview = selectors.reference_overview(request.user)
    rights = role_phrases(user_role(request.user))
    return render(request, "web/home.html", {"overview": overview, "rights": rights})


# --- places ---------------------------------------------------------------------------------------


@page
def adminarea_list(request: HttpRequest) -> HttpResponse:
    form = forms.AdminAreaFilter(
        request.GET, parent_choices=selectors.admin_area_parent_choices(request.user)
    )
    c = form.criteria()
    areas = selectors.admin_area_search(request.user, q=c["q"], level=c["level"], parent=c["parent"])
    return render_list(
        request,
        template="web/places/adminarea_list.html",
        results_template="web/places/_adminarea_results.html",
        queryset=areas,
        form=form,
        export=exports.ADMIN_AREAS,
    )


@page
def adminarea_detail(request: HttpRequest, pcode: str) -> HttpResponse:
    area = access_admin_area_by_pcode(request.user, pcode)
    children = selectors.admin_area_children(request.user, area)
    sites = selectors.sites_in_area(request.user, area)
    return render(
        request,
        "web/places/adminarea_detail.html",
        {
            "area": area,
            "ancestors": selectors.admin_area_ancestors(area),
            "children": children[:DETAIL_LIMIT],
            "n_children": children.count(),
            "sites": sites[:DETAIL_LIMIT],
            "n_sites": sites.count(),
            "limit": DETAIL_LIMIT,
        },
    )


@page
def site_list(request: HttpRequest) -> HttpResponse:
    form = forms.SiteFilter(request.GET, area_choices=selectors.admin_area_with_sites_choices(request.user))
    c = form.criteria()
    sites = selectors.site_search(request.user, q=c["q"], kind=c["kind"], area=c["area"])
    return render_list(
        request,
        template="web/places/site_list.html",
        results_template="web/places/_site_results.html",
        queryset=sites,
        form=form,
        export=exports.SITES,
    )


@page
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access_site_by_id(request.user, site_id)
    return render(
        request,
        "web/places/site_detail.html",
        {
            "site": site,
            "ancestors": selectors.admin_area_ancestors(site.admin_area),
            "served": selectors.site_served(request.user, site),
        },
    )


# --- partners -------------------------------------------------------------------------------------


@page
def organisation_list(request: HttpRequest) -> HttpResponse:
    form = forms.OrganisationFilter(request.GET)
    c = form.criteria()
    organisations = selectors.organisation_search(request.user, q=c["q"], org_type=c["type"])
    return render_list(
        request,
        template="web/partners/organisation_list.html",
        results_template="web/partners/_organisation_results.html",
        queryset=organisations,
        form=form,
        export=exports.ORGANISATIONS,
    )


@page
def organisation_detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = access_organisation_by_id(request.user, organisation_id)
    return render(
        request,
        "web/partners/organisation_detail.html",
        {
            "organisation": organisation,
            "grants": selectors.organisation_grants(request.user, organisation),
        },
    )


# --- catalogue ------------------------------------------------------------------------------------


@page
def item_list(request: HttpRequest) -> HttpResponse:
    form = forms.ItemFilter(request.GET)
    c = form.criteria()
    items = selectors.item_search(request.user, q=c["q"], category=c["category"])
    return render_list(
        request,
        template="web/catalog/item_list.html",
        results_template="web/catalog/_item_results.html",
        queryset=items,
        form=form,
        export=exports.ITEMS,
    )


@page
def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    item = access_item_by_code(request.user, code)
    return render(
        request,
        "web/catalog/item_detail.html",
        {
            "item": item,
            "pack_sizes": item.pack_sizes.order_by("quantity", "name"),
            "kits_using": selectors.item_kits_using(request.user, item),
            "is_kit": item.is_kit,
        },
    )


@page
def kit_list(request: HttpRequest) -> HttpResponse:
    form = forms.KitFilter(request.GET)
    c = form.criteria()
    kits = selectors.kit_search(request.user, q=c["q"])
    return render_list(
        request,
        template="web/catalog/kit_list.html",
        results_template="web/catalog/_kit_results.html",
        queryset=kits,
        form=form,
        export=exports.KITS,
        export_rows=selectors.kit_components,
    )


@page
def kit_detail(request: HttpRequest, code: str) -> HttpResponse:
    kit = access_kit_by_code(request.user, code)
    return render(request, "web/catalog/kit_detail.html", {"kit": kit})
