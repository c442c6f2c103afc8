"""Distribution rounds: their list, planning one, a round's page (its list made, cards issued,
opened and closed), its distribution list on screen and on paper, and its printed cards."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from reliefops.core.access import (
    access_items,
    access_round_by_id,
    access_round_point,
    access_rounds,
    can_export_personal_data,
    distribution_list_point_ids,
    has_right,
    require,
    scoped_site_ids,
)
from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.core.exports import export_response, iterate
from reliefops.core.roles import Right
from reliefops.core.security import whole_id
from reliefops.core.text import counted
from reliefops.households import (
    exports,
    forms,
    selectors,
    views,  # the package: its page sizes, read at each request
)
from reliefops.households.cards import printed, qr_svg
from reliefops.households.models import DistributionRound, HouseholdCard, RoundStatus
from reliefops.households.services import (
    cards_issue,
    entitlement_cancel,
    export_recorded,
    round_check,
    round_make_list,
    round_plan,
    round_status_change,
)
from reliefops.households.views.section import render_page, viewed
from reliefops.places.models import AdminArea, AdminLevel, Site, SiteKind
from reliefops.stock.schemas import scoped_key
from reliefops.web.exports import download, export_links, requested_format
from reliefops.web.pages import page


@page
def round_list(request: HttpRequest) -> HttpResponse:
    access_rounds(request.user)
    rounds = selectors.rounds_with_counts()
    fmt = requested_format(request)
    if fmt is not None:
        return cast(HttpResponse, export_response(exports.ROUNDS, iterate(rounds), fmt))
    return render_page(
        request, "households/round_list.html", {"rounds": rounds, "export_links": export_links(request)}
    )


def _round_form(request: HttpRequest) -> forms.RoundForm:
    user = request.user
    points = [
        (str(s.pk), f"{s.name} ({s.code})", s.code)
        for s in Site.objects.filter(
            kind__in=[SiteKind.DISTRIBUTION_POINT, SiteKind.HUB, SiteKind.WAREHOUSE], is_active=True
        ).order_by("name")
    ]
    areas = [
        (str(a.pk), f"{a.name} ({a.pcode})", a.pcode)
        for a in AdminArea.objects.filter(
            level__in=[AdminLevel.PROVINCE, AdminLevel.DISTRICT, AdminLevel.TEHSIL, AdminLevel.UNION_COUNCIL]
        ).order_by("pcode")
    ]
    items = [
        (str(i.pk), f"{i.name} ({i.code})")
        for i in access_items(user).filter(is_active=True).order_by("code")
    ]
    rounds = [(str(r.pk), f"{r.code} {r.name}") for r in DistributionRound.objects.order_by("-starts_on")]
    camps = [(str(s.pk), s.name) for s in Site.objects.filter(kind=SiteKind.CAMP).order_by("name")]
    return forms.RoundForm(
        request.POST or None, points=points, areas=areas, items=items, rounds=rounds, camps=camps
    )


@page
def round_new(request: HttpRequest) -> HttpResponse:
    require(request.user, Right.MANAGE_ROUNDS)
    form = _round_form(request)
    status = 200
    if request.method == "POST":
        valid = form.is_valid()
        round_input = form.round_input()
        if not valid:
            # The fields that could be read are checked as the round would be: every problem shows
            # at once, not the round's own only after the form's are mended.
            form.show_problems(round_check(round_input=round_input))
            status = 422
        else:
            try:
                planned = round_plan(
                    actor=request.user,
                    round_input=round_input,
                    note=form.cleaned_data["note"],
                    idempotency_key=scoped_key(request.user, form.cleaned_data["idempotency_key"]),
                )
            except InvalidInput as exc:
                form.show_problems(exc.problems)
                status = exc.status
            except ServiceError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                (messages.info if planned.replayed else messages.success)(request, planned.message)
                return redirect("households:round-detail", planned.round.pk)
    return render_page(request, "households/round_form.html", {"form": form}, status=status)


@page
def round_detail(request: HttpRequest, round_id: int) -> HttpResponse:
    round_obj = access_round_by_id(request.user, round_id)
    if request.method == "POST":
        access_round_by_id(request.user, round_id, Right.MANAGE_ROUNDS)
        action = request.POST.get("action", "")
        try:
            if action == "list":
                messages.success(request, round_make_list(actor=request.user, round_id=round_obj.pk).message)
            elif action == "cards":
                issued = cards_issue(actor=request.user, round_id=round_obj.pk)
                messages.success(request, f"{counted(issued, 'card')} issued.")
            elif (
                action == RoundStatus.CLOSED
                and round_obj.status != RoundStatus.CLOSED
                and (request.POST.get("confirm") != "yes")
            ):
                # Closing is final: it is done only when the person says they know it.
                messages.error(
                    request,
                    f"Round {round_obj.code} was not closed: tick “I understand closing is final” "
                    "to close it.",
                )
            elif action in {RoundStatus.OPEN, RoundStatus.CLOSED}:
                changed = round_status_change(actor=request.user, round_id=round_obj.pk, status=action)
                (messages.success if changed.changed else messages.info)(request, changed.message)
            else:
                messages.error(request, "Unknown action.")
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect("households:round-detail", round_obj.pk)
    report = selectors.round_reconciliation(round_obj)
    items, points = exports.reconciliation_tables(round_obj)
    file = download(request, items, report.items, part="items") or download(
        request, points, report.by_point, part="points"
    )
    if file is not None:
        return cast(HttpResponse, file)
    return render_page(
        request,
        "households/round_detail.html",
        {
            "round": round_obj,
            "report": report,
            "package": round_obj.package.select_related("item"),
            "points": round_obj.points.select_related("site", "serves_area"),
            "areas": round_obj.areas.order_by("pcode"),
            "camps": round_obj.sites.order_by("name"),
            "earlier": round_obj.not_served_in.all(),
            "cards_without": _cards_missing(round_obj),
            "can_hand_over": _can_hand_over(request, round_obj),
            "item_links": export_links(request, "items"),
            "point_links": export_links(request, "points"),
        },
    )


def _cards_missing(round_obj: DistributionRound) -> int:
    listed = round_obj.entitlements.filter(cancelled_at__isnull=True).values("household_id")
    with_card = HouseholdCard.objects.filter(household_id__in=listed, voided_at__isnull=True).count()
    return round_obj.entitlements.filter(cancelled_at__isnull=True).count() - with_card


def _can_hand_over(request: HttpRequest, round_obj: DistributionRound) -> bool:
    """Whether the user may record handovers in the round now: it is open and one of its
    distribution points is theirs."""
    return (
        round_obj.status == RoundStatus.OPEN
        and has_right(request.user, Right.DISTRIBUTE)
        and bool(allowed_points(request, round_obj, Right.DISTRIBUTE))
    )


def allowed_points(request: HttpRequest, round_obj: DistributionRound, right: Right) -> list[Site]:
    """The round's distribution points at which the user holds the right (by name): the points of
    its list pages and of its handover page."""
    points = list(round_obj.points.select_related("site").order_by("site__name"))
    if right == Right.VIEW_DISTRIBUTION_LISTS:
        allowed = distribution_list_point_ids(request.user)
    else:
        allowed = scoped_site_ids(request.user, right)
    return [p.site for p in points if allowed is None or p.site_id in allowed]


def _unlist(request: HttpRequest, round_obj: DistributionRound) -> tuple[forms.UnlistForm | None, int]:
    """A manager's request to take a household off the round's list: None when done (say so and
    redirect), else the form with its problems to show again, and the answer's status."""
    access_round_by_id(request.user, round_obj.pk, Right.MANAGE_ROUNDS)
    form = forms.UnlistForm(request.POST)
    if not form.is_valid():
        return form, 422
    try:
        result = entitlement_cancel(
            actor=request.user,
            round_id=round_obj.pk,
            household_id=form.cleaned_data["household"],
            reason=form.cleaned_data["reason"],
        )
    except InvalidInput as exc:
        for problem in exc.problems:
            form.add_error(problem.field if problem.field in form.fields else None, problem.reason)
        return form, exc.status
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return form, exc.status
    (messages.info if result.replayed else messages.success)(request, result.message)
    return None, 302


@page
def distribution_list(request: HttpRequest, round_id: int) -> HttpResponse:
    allowed = distribution_list_point_ids(request.user)
    round_obj = access_round_by_id(request.user, round_id, Right.VIEW_DISTRIBUTION_LISTS)
    unlist: forms.UnlistForm | None = None
    status = 200
    if request.method == "POST":
        unlist, status = _unlist(request, round_obj)
        if unlist is None:
            return redirect(request.get_full_path())
    can_unlist = has_right(request.user, Right.MANAGE_ROUNDS) and round_obj.status != RoundStatus.CLOSED
    if can_unlist and unlist is None:
        asked = whole_id(request.GET.get("unlist", ""))
        unlist = forms.UnlistForm(initial={"household": asked} if asked else None)
    point_code = request.GET.get("point", "")
    if point_code:
        allowed = {access_round_point(request.user, round_obj, point_code, Right.VIEW_DISTRIBUTION_LISTS).pk}
    rows = selectors.distribution_list(round_obj, point_ids=allowed)
    package = list(round_obj.package.select_related("item"))
    fmt = requested_format(request)
    if fmt is not None:
        started = export_recorded(
            actor=request.user,
            object_type="distribution_list",
            table=exports.distribution_list_table(round_obj, package),
            rows=rows,
            household_ids=[r.household.pk for r in rows],
            count=len(rows),
            with_personal_data=can_export_personal_data(request.user),
            where=f"distribution list {round_obj.code} {fmt}",
        )
        return cast(HttpResponse, export_response(started.table, started.rows, fmt))
    # ?print=1 is the printable list: every listed household on one page, for paper.
    printing = request.GET.get("print") == "1"
    shown = Paginator(rows, max(len(rows), 1) if printing else views.LIST_PER_PAGE).get_page(
        None if printing else request.GET.get("page")
    )
    where = f"distribution list {round_obj.code}" + (" printed" if printing else "")
    viewed(request, [r.household for r in shown.object_list], where)
    return render_page(
        request,
        "households/distribution_list.html",
        {
            "round": round_obj,
            "rows": [
                {
                    "row": r,
                    "token": printed(r.card_token) if r.card_token else "",
                    "cells": [
                        (r.entitled.get(line.item_id, 0), r.delivered.get(line.item_id, 0))
                        for line in package
                    ],
                }
                for r in shown.object_list
            ],
            "package": package,
            "page_obj": shown,
            "points": allowed_points(request, round_obj, Right.VIEW_DISTRIBUTION_LISTS),
            "point_code": point_code,
            "count": len(rows),
            "export_links": export_links(request),
            "printing": printing,
            "can_hand_over": _can_hand_over(request, round_obj),
            "printed_on": timezone.localdate(),
            "unlist": unlist if can_unlist else None,
        },
        status=status,
    )


@page
def cards_print(request: HttpRequest, round_id: int) -> HttpResponse:
    round_obj = access_round_by_id(request.user, round_id, Right.MANAGE_ROUNDS)
    asked = request.GET.get("point", "")
    point = access_round_point(request.user, round_obj, asked, Right.MANAGE_ROUNDS) if asked else None
    point_ids = {point.pk} if point is not None else None
    rows = [r for r in selectors.distribution_list(round_obj, point_ids=point_ids) if r.card_token]
    shown = Paginator(rows, views.CARDS_PER_PAGE).get_page(request.GET.get("page"))
    viewed(request, [r.household for r in shown.object_list], f"cards of {round_obj.code}")
    return render_page(
        request,
        "households/cards_print.html",
        {
            "round": round_obj,
            "cards": [
                {"row": r, "token": printed(r.card_token), "svg": qr_svg(r.card_token, scale=3)}
                for r in shown.object_list
            ],
            "page_obj": shown,
            "points": [p.site for p in round_obj.points.select_related("site")],
            "point": point,
            "printed_on": timezone.localdate(),
        },
    )
