"""Pages of households and distributions, under /households/.

Counts are for everyone; the registry, a household's page and the duplicate queue are for roles
that may see personal data, and every page that shows it records an audit event; distribution
lists and the handover page show names and card tokens of the user's own points only. Each view
checks access through core.access, calls one service or selector, and renders; a form that a
service refuses is shown again with the problems beside the fields, and a success redirects.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from reliefops.core.access import (
    AnyUser,
    access_duplicate_pair_by_id,
    access_duplicate_pairs,
    access_household_by_id,
    access_household_import_by_id,
    access_household_to_register,
    access_households,
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
from reliefops.core.errors import AccessDenied, InvalidInput, ServiceError
from reliefops.core.exports import export_response, iterate
from reliefops.core.roles import Right
from reliefops.core.security import whole_id
from reliefops.core.text import counted
from reliefops.households import exports, forms, jobs, selectors
from reliefops.households.cards import printed, qr_svg
from reliefops.households.identity import ascii_digits, format_document
from reliefops.households.matching import LIKELY_DUPLICATE
from reliefops.households.models import (
    MEMBER_NAMES,
    DistributionRound,
    DuplicatePair,
    DuplicateRun,
    Handover,
    Household,
    HouseholdCard,
    HouseholdImport,
    HouseholdStatus,
    RoundStatus,
)
from reliefops.households.services import (
    DuplicatesFound,
    HandoverRefused,
    card_reissue,
    cards_issue,
    entitlement_cancel,
    export_recorded,
    handover_record,
    household_register,
    household_update,
    households_export,
    households_export_start,
    pair_decide,
    personal_data_viewed,
    round_check,
    round_make_list,
    round_plan,
    round_status_change,
)
from reliefops.households.services.corrections import LABELS
from reliefops.households.services.imports import same_file_message
from reliefops.places.models import AdminArea, AdminLevel, Site, SiteKind
from reliefops.stock.schemas import scoped_key
from reliefops.web.exports import download, export_links, requested_format
from reliefops.web.pages import PAGE_SIZE, filters_refused, page, render_list

CARDS_PER_PAGE = 48
LIST_PER_PAGE = 100


def _section(user: AnyUser) -> dict[str, bool]:
    """What the section's tabs show this user."""
    return {
        "personal": has_right(user, Right.VIEW_PERSONAL_DATA),
        "registry": any(
            has_right(user, r) for r in (Right.VIEW_PERSONAL_DATA, Right.VIEW_DISTRIBUTION_LISTS)
        ),
        "register": has_right(user, Right.REGISTER_HOUSEHOLDS),
        "rounds": has_right(user, Right.VIEW_HOUSEHOLD_COUNTS),
        "manage_rounds": has_right(user, Right.MANAGE_ROUNDS),
        "lists": has_right(user, Right.VIEW_DISTRIBUTION_LISTS),
        "distribute": has_right(user, Right.DISTRIBUTE),
    }


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, template, {"section": _section(request.user), **context}, status=status)


def _viewed(request: HttpRequest, households: Any, where: str) -> None:
    personal_data_viewed(actor=request.user, household_ids=[h.pk for h in households], where=where)


# --- overview, registry, one household -------------------------------------------------------------


@page
def overview(request: HttpRequest) -> HttpResponse:
    require(request.user, Right.VIEW_HOUSEHOLD_COUNTS)
    rounds = selectors.rounds_with_counts()[:10]
    return _render(
        request, "households/overview.html", {"counts": selectors.household_counts(), "rounds": rounds}
    )


@page
def registry(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not has_right(user, Right.VIEW_PERSONAL_DATA) and has_right(user, Right.VIEW_DISTRIBUTION_LISTS):
        return _registry_at_points(request)
    access_households(user)
    form = forms.RegistryFilter(request.GET)
    c = form.criteria()
    households = selectors.households_search(q=c["q"], status=c["status"])
    refused = filters_refused(form)  # nothing listed, downloaded or recorded as seen
    fmt = requested_format(request)
    if fmt is not None and not refused:
        personal = can_export_personal_data(request.user) and request.GET.get("personal") != "0"
        started = households_export_start(
            actor=request.user, households=households, with_personal_data=personal, where=f"registry {fmt}"
        )
        return cast(HttpResponse, export_response(started.table, started.rows, fmt))
    if not refused:
        shown = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
        _viewed(request, shown.object_list, "registry")
    return render_list(
        request,
        template="households/registry.html",
        results_template="households/_registry_results.html",
        queryset=households,
        form=form,
        context={
            "section": _section(request.user),
            "can_export": can_export_personal_data(request.user),
            "export_links": export_links(request),
        },
    )


def _registry_at_points(request: HttpRequest) -> HttpResponse:
    """The registry as a distributor sees it: the households listed at their own points in rounds
    not yet closed, with names and card tokens; never an identity number or a phone."""
    point_ids = distribution_list_point_ids(request.user)
    form = forms.PointRegistryFilter(request.GET)
    households = selectors.households_listed_at(point_ids, q=form.criteria()["q"])
    if not filters_refused(form):  # a refused filter lists nothing: nothing is recorded as seen
        shown = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
        _viewed(request, shown.object_list, "registry at own points")
    points = Site.objects.filter(pk__in=point_ids or []).order_by("name") if point_ids is not None else None
    return render_list(
        request,
        template="households/registry_points.html",
        results_template="households/_registry_points_results.html",
        queryset=households,
        form=form,
        context={"section": _section(request.user), "points": points},
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
    if request.method == "POST":
        access_household_to_register(request.user, household.pk)
        if reissue.is_valid():
            try:
                issued = card_reissue(
                    actor=request.user,
                    household_id=household.pk,
                    reason=reissue.cleaned_data["reason"],
                    idempotency_key=scoped_key(request.user, reissue.cleaned_data["idempotency_key"]),
                )
            except ServiceError as exc:
                reissue.add_error(None, exc.message)
            else:
                notify = messages.info if issued.replayed else messages.success
                notify(request, issued.message)
                return redirect("households:detail", household.pk)
    _viewed(request, [household], "household page")
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
    return _render(
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
    )


def _correction_initial(household: Household) -> dict[str, Any]:
    simple = (
        "head_name",
        "father_or_husband_name",
        "head_sex",
        "document_type",
        "origin_village",
        "house_damage",
        "elevation_band",
        "elderly_headed",
        "disabled_member",
        "landless",
        "other_vulnerability",
        *MEMBER_NAMES,
    )
    return {
        **{name: getattr(household, name) for name in simple},
        "document_number": format_document(household.document_type, household.document_number),
        "phone": household.phone,
        "origin": household.origin_area.pcode,
        "current_site": household.current_site.code if household.current_site else "",
    }


def _camps_for(household: Household) -> list[tuple[str, str]]:
    """The open camps, and the household's own camp if it has closed since."""
    camps = _camps()
    site = household.current_site
    if site is not None and site.code not in dict(camps):
        camps.append((site.code, f"{site.name} (closed)"))
    return camps


@page
def household_correct(request: HttpRequest, household_id: int) -> HttpResponse:
    access_household_to_register(request.user, household_id)
    household = access_household_by_id(request.user, household_id)
    camps = _camps_for(household)
    form = forms.CorrectionForm(request.POST or None, camps=camps, initial=_correction_initial(household))
    duplicates: list[dict[str, Any]] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = household_update(
                    actor=request.user,
                    household_id=household.pk,
                    changes=form.changes(),
                    reason=form.cleaned_data["reason"],
                    duplicates_seen=form.seen(),
                    idempotency_key=scoped_key(request.user, form.cleaned_data["idempotency_key"]),
                )
            except DuplicatesFound as exc:
                duplicates = _duplicates_shown(request, exc)
                data = request.POST.copy()
                seen = {*form.seen(), *(d["household"].pk for d in duplicates)}
                data["duplicates_seen"] = ",".join(str(i) for i in sorted(seen))
                form = forms.CorrectionForm(data, camps=camps)
                form.is_valid()
                status = 409
            except InvalidInput as exc:
                form.show_problems(exc.problems)
                status = exc.status
            except ServiceError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                notify = messages.success if result.fields and not result.replayed else messages.info
                notify(request, result.message)
                return redirect("households:detail", household.pk)
        else:
            status = 422
    _viewed(request, [household], "correction form")
    return _render(
        request,
        "households/correct.html",
        {
            "household": household,
            "form": form,
            "duplicates": duplicates,
            "correctable": household.status == HouseholdStatus.ACTIVE and household.anonymised_at is None,
        },
        status=status,
    )


# --- registration and imports ------------------------------------------------------------------------


def _camps() -> list[tuple[str, str]]:
    return [
        (s.code, s.name) for s in Site.objects.filter(kind=SiteKind.CAMP, is_active=True).order_by("name")
    ]


@page
def register(request: HttpRequest) -> HttpResponse:
    require(request.user, Right.REGISTER_HOUSEHOLDS)
    require(request.user, Right.VIEW_PERSONAL_DATA)
    form = forms.RegistrationForm(request.POST or None, camps=_camps())
    duplicates: list[dict[str, Any]] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = household_register(
                    actor=request.user,
                    data=form.to_input(),
                    duplicates_seen=form.seen(),
                    idempotency_key=scoped_key(request.user, form.cleaned_data["idempotency_key"]),
                )
            except DuplicatesFound as exc:
                duplicates = _duplicates_shown(request, exc)
                data = request.POST.copy()
                seen = {*form.seen(), *(d["household"].pk for d in duplicates)}
                data["duplicates_seen"] = ",".join(str(i) for i in sorted(seen))
                form = forms.RegistrationForm(data, camps=_camps())
                form.is_valid()
                status = 409
            except InvalidInput as exc:
                form.show_problems(exc.problems)
                status = exc.status
            except ServiceError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                notify = messages.info if result.replayed else messages.success
                notify(request, result.message)
                return redirect("households:detail", result.household.pk)
        else:
            status = 422
    return _render(
        request, "households/register.html", {"form": form, "duplicates": duplicates}, status=status
    )


def _duplicates_shown(request: HttpRequest, exc: DuplicatesFound) -> list[dict[str, Any]]:
    ids = [m.second_id if m.first_id == 0 else m.first_id for m in exc.matches]
    households = {
        h.pk: h for h in Household.objects.select_related("origin_area", "current_site").filter(pk__in=ids)
    }
    _viewed(request, households.values(), "registration: likely duplicates")
    return [
        {
            "household": households[i],
            "document": format_document(households[i].document_type, households[i].document_number),
            "score": m.score,
            "reasons": m.reasons,
        }
        for i, m in zip(ids, exc.matches, strict=True)
        if i in households
    ]


@page
def import_upload(request: HttpRequest) -> HttpResponse:
    require(request.user, Right.REGISTER_HOUSEHOLDS)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # Checking a large file takes a while: the worker does it, the job's page shows how far it is.
        try:
            content = upload.read()
            started = jobs.import_preview_start(owner=request.user, filename=upload.name, content=content)
        except InvalidInput as exc:
            form.add_error("file", "; ".join(p.reason for p in exc.problems))
        else:
            return redirect("jobs:job-detail", started.job.pk)
    recent = list(HouseholdImport.objects.defer("content").order_by("-created_at")[:10])
    states = selectors.import_states(recent)
    status = 422 if form.is_bound and form.errors else 200
    return _render(
        request,
        "households/import_upload.html",
        {"form": form, "recent": [{"batch": b, "state": states[b.pk]} for b in recent]},
        status,
    )


@page
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    batch = access_household_import_by_id(request.user, import_id)
    if request.method == "POST":
        started = jobs.import_commit_start(owner=request.user, import_id=batch.pk, filename=batch.filename)
        if started.replayed:
            messages.info(request, "This file's import was asked for already: here is that job.")
        return redirect("jobs:job-detail", started.job.pk)
    state = selectors.import_states([batch])[batch.pk]
    earlier = state.same_file_as
    return _render(
        request,
        "households/import_detail.html",
        {
            "batch": batch,
            "state": state,
            "can_commit": state.importable,
            "same_file": same_file_message(batch, earlier) if earlier is not None else "",
            "earlier": earlier,
        },
    )


# --- duplicates ------------------------------------------------------------------------------------------


@page
def duplicates(request: HttpRequest) -> HttpResponse:
    access_duplicate_pairs(request.user)
    if request.method == "POST" and request.POST.get("search") == "registry":
        started = jobs.duplicates_run_start(owner=request.user, threshold=LIKELY_DUPLICATE)
        if started.replayed:
            messages.info(request, "Your search of the registry is running already: here it is.")
        return redirect("jobs:job-detail", started.job.pk)
    if request.method == "POST":
        pair_id = request.POST.get("pair", "")
        decision = request.POST.get("decision", "")
        pair = access_duplicate_pair_by_id(request.user, whole_id(pair_id) or 0)
        try:
            if decision == "different":
                result = pair_decide(actor=request.user, pair_id=pair.pk, same=False)
            else:
                survivor = whole_id(decision)
                result = pair_decide(actor=request.user, pair_id=pair.pk, same=True, survivor_id=survivor)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, result.message)
        return redirect(request.get_full_path())
    queue = selectors.duplicate_queue()
    shown = Paginator(queue, 20).get_page(request.GET.get("page"))
    ids = [h for p in shown.object_list for h in (p.first, p.second)]
    _viewed(request, ids, "duplicate queue")
    rows = [
        {
            "pair": p,
            "sides": [(h, format_document(h.document_type, h.document_number)) for h in (p.first, p.second)],
        }
        for p in shown.object_list
    ]
    runs = DuplicateRun.objects.order_by("-started_at")[:5]
    return _render(request, "households/duplicates.html", {"rows": rows, "page_obj": shown, "runs": runs})


# --- rounds ------------------------------------------------------------------------------------------------


@page
def round_list(request: HttpRequest) -> HttpResponse:
    access_rounds(request.user)
    rounds = selectors.rounds_with_counts()
    fmt = requested_format(request)
    if fmt is not None:
        return cast(HttpResponse, export_response(exports.ROUNDS, iterate(rounds), fmt))
    return _render(
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
    return _render(request, "households/round_form.html", {"form": form}, status=status)


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
    return _render(
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
        and bool(_allowed_points(request, round_obj, Right.DISTRIBUTE))
    )


def _allowed_points(request: HttpRequest, round_obj: DistributionRound, right: Right) -> list[Site]:
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
    shown = Paginator(rows, max(len(rows), 1) if printing else LIST_PER_PAGE).get_page(
        None if printing else request.GET.get("page")
    )
    where = f"distribution list {round_obj.code}" + (" printed" if printing else "")
    _viewed(request, [r.household for r in shown.object_list], where)
    return _render(
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
            "points": _allowed_points(request, round_obj, Right.VIEW_DISTRIBUTION_LISTS),
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
    point_code = request.GET.get("point", "")
    point_ids = None
    if point_code:
        point_ids = {access_round_point(request.user, round_obj, point_code, Right.MANAGE_ROUNDS).pk}
    rows = [r for r in selectors.distribution_list(round_obj, point_ids=point_ids) if r.card_token]
    shown = Paginator(rows, CARDS_PER_PAGE).get_page(request.GET.get("page"))
    _viewed(request, [r.household for r in shown.object_list], f"cards of {round_obj.code}")
    return _render(
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
            "point_code": point_code,
            "printed_on": timezone.localdate(),
        },
    )


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
    points = _allowed_points(request, round_obj, Right.DISTRIBUTE)
    if not points:
        raise AccessDenied(f"none of the distribution points of round {round_obj.code} is yours")
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
    q = request.GET.get("q", "").strip()
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
    _viewed(request, shown, f"handover {round_obj.code}")
    return _render(
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
        },
        status=status,
    )
