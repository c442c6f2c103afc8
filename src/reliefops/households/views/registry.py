"""The section's overview, the registry (a distributor's: the households listed at their points),
its export, and one household's page."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from reliefops.core.access import (
    access_household_by_id,
    access_household_to_register,
    access_households,
    can_export_personal_data,
    distribution_list_point_ids,
    has_right,
    require,
)
from reliefops.core.errors import AccessDenied, InvalidInput, ServiceError
from reliefops.core.exports import export_response
from reliefops.core.roles import Right
from reliefops.households import forms, selectors
from reliefops.households.cards import printed, qr_svg
from reliefops.households.identity import format_document
from reliefops.households.models import DuplicatePair, Handover, Household, HouseholdCard
from reliefops.households.services import card_reissue, households_export, households_export_start
from reliefops.households.services.corrections import LABELS
from reliefops.households.views.section import render_page, section_tabs, viewed
from reliefops.places.models import Site
from reliefops.stock.schemas import scoped_key
from reliefops.web.exports import export_links, requested_format
from reliefops.web.pages import PAGE_SIZE, filters_refused, page, refuse_download, render_list
from reliefops.web.searches import STALE, KeptSearch, kept_search, search_redirect


@page
def overview(request: HttpRequest) -> HttpResponse:
    require(request.user, Right.VIEW_HOUSEHOLD_COUNTS)
    rounds = selectors.rounds_with_counts()[:10]
    return render_page(
        request, "households/overview.html", {"counts": selectors.household_counts(), "rounds": rounds}
    )


@page
def registry(request: HttpRequest) -> HttpResponse:
    user = request.user
    at_points = not has_right(user, Right.VIEW_PERSONAL_DATA) and has_right(
        user, Right.VIEW_DISTRIBUTION_LISTS
    )
    if not at_points:
        access_households(user)
    # A search by a name or an identity number is posted, and kept out of the address (?s=).
    moved = search_redirect(request)
    if moved is not None:
        return moved
    search = kept_search(request)
    if at_points:
        return _registry_at_points(request, search)
    form = forms.RegistryFilter(search.data)
    c = form.criteria()
    households = selectors.households_search(q=c["q"], status=c["status"])
    refused = filters_refused(form)  # nothing listed, downloaded or recorded as seen
    fmt = requested_format(request)
    # A search no longer kept downloads nothing: the whole registry is not what was asked for.
    if fmt is not None and search.stale:
        return refuse_download(STALE)
    if fmt is not None and not refused:
        personal = can_export_personal_data(request.user) and request.GET.get("personal") != "0"
        started = households_export_start(
            actor=request.user, households=households, with_personal_data=personal, where=f"registry {fmt}"
        )
        return cast(HttpResponse, export_response(started.table, started.rows, fmt))
    if not refused:
        shown = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
        viewed(request, shown.object_list, "registry")
    return render_list(
        request,
        template="households/registry.html",
        results_template="households/_registry_results.html",
        queryset=households,
        form=form,
        context={
            "section": section_tabs(request.user),
            "can_export": can_export_personal_data(request.user),
            "export_links": export_links(request),
            "private_search": True,
            "search_stale": search.stale_message,
        },
    )


def _registry_at_points(request: HttpRequest, search: KeptSearch) -> HttpResponse:
    """The registry as a distributor sees it: the households listed at their own points in rounds
    not yet closed, with names and card tokens; never an identity number or a phone."""
    point_ids = distribution_list_point_ids(request.user)
    form = forms.PointRegistryFilter(search.data)
    households = selectors.households_listed_at(point_ids, q=form.criteria()["q"])
    if not filters_refused(form):  # a refused filter lists nothing: nothing is recorded as seen
        shown = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
        viewed(request, shown.object_list, "registry at own points")
    points = Site.objects.filter(pk__in=point_ids or []).order_by("name") if point_ids is not None else None
    return render_list(
        request,
        template="households/registry_points.html",
        results_template="households/_registry_points_results.html",
        queryset=households,
        form=form,
        context={
            "section": section_tabs(request.user),
            "points": points,
            "private_search": True,
            "search_stale": search.stale_message,
        },
    )


@page
def registry_export(request: HttpRequest) -> HttpResponse:
    access_households(request.user)
    personal = request.GET.get("personal") == "1"
    if personal and not can_export_personal_data(request.user):
        raise AccessDenied("exporting personal data is a right granted per user; you do not hold it")
    export = households_export(
        actor=request.user,
        households=Household.objects.all(),
        with_personal_data=personal,
        where="web export",
    )
    response = HttpResponse(export.content, content_type="text/csv; charset=utf-8")
    name = "households-personal.csv" if personal else "households.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@page
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    household = access_household_by_id(request.user, household_id)
    reissue = forms.CardReissueForm(request.POST or None)
    status = 200
    if request.method == "POST":
        access_household_to_register(request.user, household.pk)
        # A refused reissue answers as a refused registration or correction does: 422 for what was
        # sent, 409 for a household that can no longer be given a card.
        status = 422
        if reissue.is_valid():
            try:
                issued = card_reissue(
                    actor=request.user,
                    household_id=household.pk,
                    reason=reissue.cleaned_data["reason"],
                    idempotency_key=scoped_key(request.user, reissue.cleaned_data["idempotency_key"]),
                )
            except InvalidInput as exc:
                reissue.show_problems(exc.problems)
                status = exc.status
            except ServiceError as exc:
                reissue.add_error(None, exc.message)
                status = exc.status
            else:
                notify = messages.info if issued.replayed else messages.success
                notify(request, issued.message)
                return redirect("households:detail", household.pk)
    viewed(request, [household], "household page")
    # Its own handovers, and those it received before it was merged into another household (they
    # count for that one now): a merged registration was served all the same.
    handovers = (
        Handover.objects.filter(Q(household=household) | Q(received_by_household=household))
        .select_related("round", "point", "received_by_household")
        .prefetch_related("deliveries__lines__item")
        .order_by("round__starts_on", "pk")
    )
    pairs = DuplicatePair.objects.filter(first=household) | DuplicatePair.objects.filter(second=household)
    card = HouseholdCard.objects.filter(household=household, voided_at__isnull=True).first()
    return render_page(
        request,
        "households/household_detail.html",
        {
            "household": household,
            "document": format_document(household.document_type, household.document_number),
            "card": card,
            "card_token": printed(card.token) if card else "",
            "card_svg": qr_svg(card.token) if card else "",
            "old_cards": household.cards.filter(voided_at__isnull=False),
            "handovers": handovers,
            "pairs": pairs.order_by("-score"),
            "merged_from": household.merged_households.all(),
            "reissue": reissue,
            "can_reissue": has_right(request.user, Right.REGISTER_HOUSEHOLDS),
            "corrections": [
                {"correction": c, "fields": [LABELS.get(f, f) for f in c.fields]}
                for c in household.corrections.select_related("corrected_by")
            ],
            "can_view_stock": has_right(request.user, Right.VIEW_STOCK),
        },
        status=status,
    )
