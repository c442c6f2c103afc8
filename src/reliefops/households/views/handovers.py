"""The handover at a distribution point: a household found by its card or by name, its package
handed over as one movement of the stock ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from reliefops.core.access import access_round_by_id, access_round_point, require
from reliefops.core.errors import AccessDenied, InvalidInput, ServiceError
from reliefops.core.roles import Right
from reliefops.core.security import whole_id
from reliefops.households import forms, selectors
from reliefops.households.cards import printed
from reliefops.households.identity import ascii_digits
from reliefops.households.models import DistributionRound, Handover, RoundStatus
from reliefops.households.services import HandoverRefused, handover_record
from reliefops.households.views.rounds import allowed_points
from reliefops.households.views.section import render_page, viewed
from reliefops.stock.schemas import scoped_key
from reliefops.web.pages import page
from reliefops.web.searches import kept_search, search_redirect


def _another_household(
    round_obj: DistributionRound, form: forms.HandoverForm, initial: dict[str, Any]
) -> str:
    """The handover page at the same point and day, with no household chosen."""
    day = initial.get("handed_on")
    query = {"point": form["point"].value() or initial.get("point", "")}
    if isinstance(day, dt.date):
        query["on"] = day.isoformat()
    return f"{reverse('households:handover', args=[round_obj.pk])}?{urlencode(query)}"


def _served_on(round_obj: DistributionRound, row: selectors.ListRow) -> dt.date | None:
    """The last day a listed household received goods in the round, if it did."""
    return (
        Handover.objects.filter(round=round_obj, household=row.household, double_receipt=False)
        .values_list("deliveries__delivered_on", flat=True)
        .order_by("-deliveries__delivered_on")
        .first()
    )


def _day_of_round(text: str, round_obj: Any, today: dt.date) -> dt.date | None:
    """The day `text` names (YYYY-MM-DD) when it is a day of the round and not after today."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if round_obj.starts_on <= day <= min(round_obj.ends_on, today) else None


@page
def handover(request: HttpRequest, round_id: int) -> HttpResponse:
    require(request.user, Right.DISTRIBUTE)
    round_obj = access_round_by_id(request.user, round_id, Right.DISTRIBUTE)
    points = allowed_points(request, round_obj, Right.DISTRIBUTE)
    if not points:
        raise AccessDenied(f"none of the distribution points of round {round_obj.code} is yours")
    if request.method == "GET":
        # A name typed into the address (an old bookmark) is moved out of it, as a posted search is.
        moved = search_redirect(request)
        if moved is not None:
            return moved
    search = kept_search(request)
    choices = [(p.code, p.name) for p in points]
    initial: dict[str, Any] = {"point": request.GET.get("point") or points[0].code}
    # Today, while the round runs. Before or after it no day is proposed: a list entered from paper
    # after the round carries the day of each handover, which only the person typing it knows; the
    # day of the handover just recorded is kept for the next (?on=), as a paper list runs by day.
    today = timezone.localdate()
    kept = _day_of_round(request.GET.get("on", ""), round_obj, today)
    if kept is not None:
        initial["handed_on"] = kept
    elif round_obj.starts_on <= today <= round_obj.ends_on:
        initial["handed_on"] = today
    asked_for = whole_id(request.GET.get("household", ""))
    if asked_for is not None:
        initial["household"] = asked_for
    form = forms.HandoverForm(
        request.POST or None, points=choices, days=(round_obj.starts_on, round_obj.ends_on), initial=initial
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            point = access_round_point(request.user, round_obj, d["point"], Right.DISTRIBUTE)
            try:
                result = handover_record(
                    actor=request.user,
                    round_id=round_obj.pk,
                    point_site_id=point.pk,
                    card_token=d["card"] or None,
                    household_id=None if d["card"] else d["household"],
                    collected_by=d["collected_by"],
                    handed_on=d["handed_on"],
                    allow_partial=d["partial"],
                    idempotency_key=scoped_key(request.user, d["idempotency_key"]),
                )
            except InvalidInput as exc:
                form.show_problems(exc.problems)
                status = exc.status
            except HandoverRefused as exc:
                # A refused card or day goes beside its field; other refusals concern the whole form.
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status
            except ServiceError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                (messages.info if result.replayed else messages.success)(request, result.message)
                return redirect(
                    f"{reverse('households:handover', args=[round_obj.pk])}?point={point.code}"
                    f"&on={d['handed_on'].isoformat()}"
                )
        else:
            status = 422
        form.forget_malformed_card()
    chosen = None
    chosen_id = whole_id(form["household"].value() or "")
    if chosen_id is not None:
        rows = selectors.distribution_list(round_obj, point_ids={p.pk for p in points})
        chosen = next((r for r in rows if r.household.pk == chosen_id), None)
    q = (search.data.get("q") or "").strip()
    found: list[dict[str, Any]] = []
    if q:
        rows = selectors.distribution_list(round_obj, point_ids={p.pk for p in points})
        text = q.lower()
        number = whole_id(ascii_digits(q))  # a household number typed in Urdu digits too
        found = [
            {"row": r, "token": printed(r.card_token) if r.card_token else ""}
            for r in rows
            if text in r.household.head_name.lower()
            or text in r.household.father_or_husband_name.lower()
            or text in r.household.origin_village.lower()
            or number == r.household.pk
        ][:30]
    shown = [f["row"].household for f in found] + ([chosen.household] if chosen else [])
    viewed(request, shown, f"handover {round_obj.code}")
    return render_page(
        request,
        "households/handover.html",
        {
            "round": round_obj,
            "form": form,
            "q": q,
            "found": found,
            "chosen": chosen,
            "chosen_token": printed(chosen.card_token) if chosen and chosen.card_token else "",
            # A household asked for that is not on the list at the user's points, or that has
            # received its whole package: nothing to record for it, and the form is not offered.
            "not_listed": chosen_id if chosen_id is not None and chosen is None else None,
            "another": _another_household(round_obj, form, initial),
            "served_in_full": chosen is not None and chosen.status == "served",
            "served_on": _served_on(round_obj, chosen) if chosen is not None else None,
            "codes": dict(round_obj.package.values_list("item_id", "item__code")),
            "is_open": round_obj.status == RoundStatus.OPEN,
            # The day kept from the last handover, carried through a search and a choice by name.
            "kept_day": kept.isoformat() if kept is not None else "",
            "search_stale": search.stale_message,
        },
        status=status,
    )


@page
def handover_find(request: HttpRequest, round_id: int) -> HttpResponse:
    """The handover page's search by name, posted here: sealed into the handle of the handover
    page's address (?s=, with its point and day), never written in it."""
    require(request.user, Right.DISTRIBUTE)
    round_obj = access_round_by_id(request.user, round_id, Right.DISTRIBUTE)
    handover_page = reverse("households:handover", args=[round_obj.pk])
    if request.method != "POST":
        return redirect(handover_page)
    moved = search_redirect(request, page=handover_page)
    return moved if moved is not None else redirect(handover_page)
