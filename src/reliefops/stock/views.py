"""Pages of the stock ledger: stock on hand, stock cards, pipeline, waybills, movements, donor
reports; one form per stock operation; printable waybills and goods received notes.

Each view checks access through core.access, calls one service or selector, and renders. A posting
form answers a refusal with its problems beside the fields they name (422, 400 or 409) and a
success with a redirect to what was posted (or, for a user who may not see stock, to the posting
menu, with the message naming what was posted), so reloading the page never posts again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from reliefops.core.access import (
    AnyUser,
    access_grants,
    access_items,
    access_movement_by_id,
    access_stock_everywhere,
    access_stock_grant,
    access_stock_site,
    access_waybill_by_id,
    has_right,
    require,
    scoped_site_ids,
    stock_sites,
    stock_visible_site_ids,
)
from reliefops.core.errors import AccessDenied, InvalidInput, ServiceError
from reliefops.core.roles import Right
from reliefops.core.security import whole_id
from reliefops.stock import exports, forms, selectors
from reliefops.stock.models import EXCESS_PREFIX, LocationKind, MovementKind, PledgeStatus, WaybillStatus
from reliefops.stock.schemas import posting_message, today
from reliefops.stock.services import (
    CountLine,
    DeliveryLine,
    DispatchResult,
    ReceiptLine,
    StockLine,
    kits_assemble,
    kits_break,
    movement_reverse,
    pledge_cancel,
    pledge_cancelled_message,
    stock_count,
    stock_distribute,
    stock_handover_to_partner,
    stock_receive,
    stock_report_loss,
    waybill_confirm_delivery,
    waybill_dispatch,
)
from reliefops.web.exports import download, export_links
from reliefops.web.pages import filters_refused, page, render_list

# The movements whose goods arrive at a site, and so have a goods received note.
GRN_KINDS = {MovementKind.RECEIPT, MovementKind.DELIVERY}


def _may(check: Callable[[], Any]) -> bool:
    try:
        check()
    except AccessDenied:
        return False
    return True


def _operations(user: AnyUser) -> list[dict[str, str]]:
    """The postings the user may make, for the section's menus."""
    post, distribute = has_right(user, Right.POST_STOCK), has_right(user, Right.DISTRIBUTE)
    table = [
        (post, "Receive goods", "stock:post-receipt", "Goods from a donor or supplier, with a GRN number"),
        (post, "Dispatch a waybill", "stock:waybill-dispatch", "Send a consignment to another site"),
        (distribute, "Report a distribution", "stock:post-distribution", "Items handed out to people"),
        (
            distribute,
            "Hand over to a partner",
            "stock:post-handover",
            "Stock another organisation distributes",
        ),
        (post, "Report a loss", "stock:post-loss", "Theft, weather, spoilage or damage"),
        (post, "Count stock", "stock:post-count", "A physical count; differences are adjusted"),
        (post, "Assemble or break kits", "stock:post-kitting", "Kits from components, or back"),
    ]
    return [{"label": label, "url": reverse(name), "help": text} for ok, label, name, text in table if ok]


def _section(user: AnyUser) -> dict[str, Any]:
    """What the stock section's sub-navigation shows this user."""
    sees_all = has_right(user, Right.VIEW_STOCK) and _may(lambda: access_stock_everywhere(user))
    return {
        "can_view_stock": has_right(user, Right.VIEW_STOCK),
        "can_post": has_right(user, Right.DISTRIBUTE),
        "sees_every_site": sees_all,
    }


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, template, {"section": _section(request.user), **context}, status=status)


# --- reports ---------------------------------------------------------------------------------------


@page
def onhand_list(request: HttpRequest) -> HttpResponse:
    visible = stock_visible_site_ids(request.user)
    items = access_items(request.user)
    form = forms.OnHandFilter(
        request.GET,
        sites=stock_sites(request.user, Right.VIEW_STOCK, closed=True),
        items=items.order_by("code"),
    )
    c = form.criteria()
    site_ids = {c["site"].pk} if c["site"] else visible
    item_ids = None
    if c["q"]:
        matching = items.filter(Q(code__icontains=c["q"]) | Q(name__icontains=c["q"]))
        item_ids = set(matching.values_list("pk", flat=True))
    if c.get("item"):
        item_ids = {c["item"].pk} if item_ids is None else item_ids & {c["item"].pk}
    rows = selectors.stock_on_hand(site_ids=site_ids, item_ids=item_ids, by_grant=bool(c["by_grant"]))
    return render_list(
        request,
        template="stock/onhand_list.html",
        results_template="stock/_onhand_results.html",
        queryset=cast(Any, rows),
        form=form,
        context={"by_grant": bool(c["by_grant"]), "section": _section(request.user)},
        export=exports.ON_HAND_BY_GRANT if c["by_grant"] else exports.ON_HAND,
    )


@page
def onhand_card(request: HttpRequest) -> HttpResponse:
    sites = stock_sites(request.user, Right.VIEW_STOCK, closed=True)
    items = access_items(request.user).order_by("code")
    card = site = item = None
    status = 200
    form = forms.StockCardForm(sites=sites, items=items, initial=_card_period())
    if "site" in request.GET or "item" in request.GET:
        data = request.GET.copy()
        for name, value in _card_period(end=data.get("end", "")).items():
            if not data.get(name):
                data[name] = value.isoformat()
        form = forms.StockCardForm(data, sites=sites, items=items)
        if form.is_valid():
            d = form.cleaned_data
            site = access_stock_site(request.user, d["site"].pk, Right.VIEW_STOCK)
            item = d["item"]
            card = selectors.stock_card(site_id=site.pk, item_id=item.pk, start=d["start"], end=d["end"])
            table = exports.stock_card_table(site=site, item=item, card=card)
            file = download(request, table, exports.stock_card_rows(card))
            if file is not None:
                return cast(HttpResponse, file)
        else:
            # a filter that cannot be read shows no card and makes no file, and says why (422)
            status = 422
    links = export_links(request) if card is not None else []
    return _render(
        request,
        "stock/card.html",
        {
            "form": form,
            "card": card,
            "site": site,
            "item": item,
            "export_links": links,
            "refused": status == 422,
        },
        status=status,
    )


def _card_period(*, end: str = "") -> dict[str, Any]:
    """The stock card's period when none is given: this month so far. With an end day alone, the
    month of that day up to it, as the command line and the API take it."""
    try:
        last = dt.date.fromisoformat(end.strip()) if end.strip() else today()
    except ValueError:  # the form says what is wrong with it
        last = today()
    return {"start": last.replace(day=1), "end": last}


@page
def pipeline(request: HttpRequest) -> HttpResponse:
    found = selectors.pipeline(today=today(), site_ids=stock_visible_site_ids(request.user))
    overdue = {waybill.pk: days for waybill, days in found.overdue}
    in_transit = [(waybill, overdue.get(waybill.pk, 0)) for waybill in found.in_transit]
    received = selectors.pledges_received(site_ids=stock_visible_site_ids(request.user))
    file = (
        download(request, exports.IN_TRANSIT, in_transit, part="transit")
        or download(request, exports.PLEDGES, found.pledges, part="pledges")
        or download(request, exports.PLEDGES_RECEIVED, received, part="received")
    )
    if file is not None:
        return cast(HttpResponse, file)
    # The pledges received in full or more are listed when asked for (they only grow); how many there
    # are, and how many brought more than was pledged, is always said.
    n_received, n_over = selectors.pledges_received_counts(received)
    show_received = request.GET.get("pledges") == "received"
    may_cancel = _pledge_cancel_site_ids(request.user)
    return _render(
        request,
        "stock/pipeline.html",
        {
            "pledges": [(p, may_cancel is None or p.destination_id in may_cancel) for p in found.pledges],
            "may_cancel_any": may_cancel is None or bool(may_cancel),
            "in_transit": in_transit,
            "overdue": found.overdue,
            "today": today(),
            "transit_links": export_links(request, "transit"),
            "pledge_links": export_links(request, "pledges"),
            "received": list(received) if show_received else None,
            "n_received": n_received,
            "n_over": n_over,
            "received_links": export_links(request, "received"),
        },
    )


def _pledge_cancel_site_ids(user: AnyUser) -> set[int] | None:
    """The sites whose pledges the user may cancel (POST_STOCK there, as the ledger asks); None: all."""
    if not has_right(user, Right.POST_STOCK):
        return set()
    return scoped_site_ids(user, Right.POST_STOCK)


@page
def pledge_cancel_new(request: HttpRequest, pledge_id: int) -> HttpResponse:
    """Cancel a pledge the donor will not send (or not the rest of it), for a reason: the page shows
    the pledge and asks why; posting it cancels the pledge, and posting it again changes nothing."""
    user = request.user
    pledge = selectors.pledge_visible(pledge_id=pledge_id, site_ids=stock_visible_site_ids(user))
    access_stock_site(user, pledge.destination_id, Right.POST_STOCK)
    form = forms.PledgeCancelForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            result = pledge_cancel(actor=user, pledge_id=pledge.pk, reason=form.cleaned_data["reason"])
        except InvalidInput as exc:
            form.show_problems(exc.problems)
            status = exc.status
        except AccessDenied:
            raise
        except ServiceError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            notify = messages.info if getattr(result, "replayed", False) else messages.success
            notify(request, pledge_cancelled_message(result))
            return redirect("stock:pipeline")
        pledge = selectors.pledge_visible(pledge_id=pledge.pk, site_ids=None)
    return _render(
        request,
        "stock/pledge_cancel.html",
        {"pledge": pledge, "form": form, "open": pledge.status == PledgeStatus.OPEN, "today": today()},
        status=status,
    )


@page
def donor_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Right.VIEW_STOCK)
    access_stock_everywhere(request.user)
    grants = access_grants(request.user).order_by("reference")
    file = download(request, exports.GRANTS, grants)
    if file is not None:
        return cast(HttpResponse, file)
    links = export_links(request)
    return _render(request, "stock/donor_list.html", {"grants": grants, "export_links": links})


@page
def donor_report(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = access_stock_grant(request.user, grant_id)
    report = selectors.donor_report(grant_id=grant.pk)
    file = download(request, exports.donor_report_table(grant, report), report.rows)
    if file is not None:
        return cast(HttpResponse, file)
    # Item by item: no row adds different items' figures together.
    return _render(
        request,
        "stock/donor_report.html",
        {"grant": grant, "rows": report.rows, "when": report.when, "export_links": export_links(request)},
    )


# --- waybills and movements ------------------------------------------------------------------------


@page
def waybill_list(request: HttpRequest) -> HttpResponse:
    visible = stock_visible_site_ids(request.user)
    form = forms.WaybillFilter(
        request.GET,
        sites=stock_sites(request.user, Right.VIEW_STOCK, closed=True),
        items=access_items(request.user).order_by("code"),
    )
    c = form.criteria()
    item = c["item"] or None
    waybills = selectors.waybill_list(
        site_ids=visible,
        site_id=c["site"].pk if c["site"] else None,
        number=c["q"],
        status=c["status"],
        overdue_on=today() if c["overdue"] else None,
        item_id=item.pk if item else None,
    )
    # A waybill's items are given one by one, never added into one figure: the page names each
    # item's quantity, and the download has a row per waybill and item.
    if not filters_refused(form):
        rows = selectors.waybill_item_rows(waybills, item_id=item.pk if item else None)
        file = download(request, exports.WAYBILL_ITEMS, rows)
        if file is not None:
            return cast(HttpResponse, file)
    return render_list(
        request,
        template="stock/waybill_list.html",
        results_template="stock/_waybill_results.html",
        queryset=cast(Any, selectors.WaybillPages(waybills)),
        form=form,
        context={
            "today": today(),
            "section": _section(request.user),
            "item": item,
            "export_links": export_links(request),
        },
    )


@page
def waybill_detail(request: HttpRequest, waybill_id: int) -> HttpResponse:
    waybill = access_waybill_by_id(request.user, waybill_id, Right.VIEW_STOCK)
    lines = selectors.waybill_lines(waybill_id=waybill.pk)
    can_confirm = waybill.status == WaybillStatus.IN_TRANSIT and _may(
        lambda: access_waybill_by_id(request.user, waybill.pk, Right.POST_STOCK)
    )
    return _render(
        request,
        "stock/waybill_detail.html",
        {
            "waybill": waybill,
            "lines": lines,
            "totals": _totals(lines),
            "movements": selectors.movement_list(waybill_id=waybill.pk).order_by("id"),
            "days_overdue": _days_overdue(waybill),
            "can_confirm": can_confirm,
        },
    )


def _days_overdue(waybill: Any) -> int:
    if waybill.status != WaybillStatus.IN_TRANSIT:
        return 0
    return max((today() - waybill.expected_on).days, 0)


def _totals(lines: list[selectors.DocumentLine]) -> dict[str, Any]:
    """The foot of a document's lines: the weight of them all (kilograms add up), and a quantity only
    when every line is of one item (500 blankets and 200 quilts are not 700 of anything)."""
    weights = [line.weight_kg for line in lines]
    known = [w for w in weights if w is not None]
    one_item = len({line.item_id for line in lines}) == 1
    return {
        "quantity": sum(line.quantity for line in lines) if one_item else None,
        "unit": lines[0].base_unit if one_item else "",
        "weight_kg": round(Decimal(sum(known)), 1) if known else None,
        "weight_partial": bool(known) and len(known) < len(weights),
    }


@page
def waybill_print(request: HttpRequest, waybill_id: int) -> HttpResponse:
    waybill = access_waybill_by_id(request.user, waybill_id, Right.VIEW_STOCK)
    lines = selectors.waybill_lines(waybill_id=waybill.pk)
    return render(
        request, "stock/waybill_print.html", {"waybill": waybill, "lines": lines, "totals": _totals(lines)}
    )


@page
def movement_list(request: HttpRequest) -> HttpResponse:
    visible = stock_visible_site_ids(request.user)
    form = forms.MovementFilter(
        request.GET,
        sites=stock_sites(request.user, Right.VIEW_STOCK, closed=True),
        items=access_items(request.user).order_by("code"),
    )
    c = form.criteria()
    item = c["item"] or None
    movements = selectors.movement_list(
        site_ids=visible,
        site_id=c["site"].pk if c["site"] else None,
        kind=c["kind"],
        reference=c["q"],
        start=c["start"] or None,
        end=c["end"] or None,
        item_id=item.pk if item else None,
    )
    # A quantity is shown only of one item: a movement's lines of different items are not added up.
    return render_list(
        request,
        template="stock/movement_list.html",
        results_template="stock/_movement_results.html",
        queryset=movements,
        form=form,
        context={"section": _section(request.user), "item": item},
        export=exports.MOVEMENTS_OF_ITEM if item else exports.MOVEMENTS,
    )


@page
def movement_detail(request: HttpRequest, movement_id: int) -> HttpResponse:
    movement = access_movement_by_id(request.user, movement_id, Right.VIEW_STOCK)
    return _movement_page(request, movement, forms.ReversalForm(user=request.user))


def _can_reverse(user: AnyUser, movement: Any) -> bool:
    if movement.kind == MovementKind.REVERSAL or getattr(movement, "reversed_by", None) is not None:
        return False
    return _may(lambda: access_movement_by_id(user, movement.pk, Right.POST_STOCK))


def _movement_page(request: HttpRequest, movement: Any, form: Any, status: int = 200) -> HttpResponse:
    lines = selectors.movement_lines(movement_id=movement.pk)
    return _render(
        request,
        "stock/movement_detail.html",
        {
            "movement": movement,
            "lines": lines,
            "totals": _totals(lines),
            "has_grn": movement.kind in GRN_KINDS,
            # A delivery's excess enters from the count adjustment location: the page says why.
            "excess_on_arrival": movement.kind == MovementKind.DELIVERY
            and any(line.from_kind == LocationKind.COUNT_ADJUSTMENT for line in lines),
            "can_reverse": _can_reverse(request.user, movement),
            "form": form,
        },
        status=status,
    )


@page
def movement_grn(request: HttpRequest, movement_id: int) -> HttpResponse:
    movement = access_movement_by_id(request.user, movement_id, Right.VIEW_STOCK)
    if movement.kind not in GRN_KINDS:
        raise Http404("only receipts and delivery confirmations have a goods received note")
    lines = selectors.movement_lines(movement_id=movement.pk)
    site_name = movement.site.name if movement.site else ""
    arrived = [line for line in lines if line.to_name == site_name]
    written_off = [line for line in lines if line.to_name != site_name]
    # A delivery's accepted excess enters from the count adjustment location: it is no line of the
    # waybill, and is listed apart, against what the waybill dispatched of its item.
    received = [line for line in arrived if line.from_kind != LocationKind.COUNT_ADJUSTMENT]
    excess = [line for line in arrived if line.from_kind == LocationKind.COUNT_ADJUSTMENT]
    dispatched: dict[int, int] = {}
    if excess and movement.waybill_id is not None:
        for line in selectors.waybill_lines(waybill_id=movement.waybill_id):
            dispatched[line.item_id] = dispatched.get(line.item_id, 0) + line.quantity
    # A reversed delivery's note is marked void, and names the delivery of the waybill that stands.
    standing = None
    if getattr(movement, "reversed_by", None) is not None and movement.waybill_id is not None:
        standing = selectors.standing_delivery(movement.waybill_id)
    return render(
        request,
        "stock/grn_print.html",
        {
            "movement": movement,
            "received": received,
            "excess": [
                {
                    "line": line,
                    "dispatched": dispatched.get(line.item_id, 0),
                    "reason": line.reason.removeprefix(EXCESS_PREFIX),
                }
                for line in excess
            ],
            "written_off": written_off,
            "totals": _totals(received),
            "standing": standing,
        },
    )


# --- postings --------------------------------------------------------------------------------------


def _data(request: HttpRequest) -> Any:
    """The posted data (with more empty lines when the user asked for them), or None for GET."""
    if request.method != "POST":
        return None
    if "more_lines" in request.POST:
        return forms.PostingForm.with_more_lines(request.POST)
    return request.POST


def _posting(
    request: HttpRequest,
    form: forms.PostingForm,
    submit: Callable[[Any], Any],
    *,
    title: str,
    intro: str,
    submit_label: str,
    template: str = "stock/post_form.html",
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """Render a posting form, or post it: a success redirects with a message (see `_posted`).

    A form that could not read some fields of its lines still asks the ledger what else is wrong
    (`PostingForm.stand_ins`), so that it shows every problem the API would list for the request.
    """
    status = 200
    if request.method == "POST" and "more_lines" not in request.POST:
        if form.is_valid() or form.stand_ins():
            try:
                result = submit(form.cleaned_data)
            except InvalidInput as exc:
                form.show_problems([p for p in exc.problems if p not in form.caller_problems])
                status = exc.status
            except AccessDenied:
                raise
            except ServiceError as exc:
                _show_refusal(form, exc)
                status = exc.status
            else:
                return _posted(request, result)
        else:
            status = 422
    return _render(
        request,
        template,
        {
            "form": form,
            "title": title,
            "intro": intro,
            "submit_label": submit_label,
            "quiet": "more_lines" in request.POST,
            **(context or {}),
        },
        status=status,
    )


def _posted(request: HttpRequest, result: Any) -> HttpResponse:
    """After a posting (or its repeat): the message naming what was posted, and a page the user may
    open. That is what was posted (the waybill of a dispatch) for a user who may see it; a user who
    may post but not see stock (a distributor) goes back to the posting menu, which the message tops:
    a 403 after a posting that succeeded would read as a failure, and invite posting it again."""
    user = request.user
    if result.movement is None:
        # Nothing was posted (a count that found what the site held): say so, back to the menu.
        messages.info(request, posting_message(result))
        return redirect("stock:post-menu")
    notify = messages.info if result.replayed else messages.success
    notify(request, posting_message(result))
    if isinstance(result, DispatchResult) and _may(
        lambda: access_waybill_by_id(user, result.waybill.pk, Right.VIEW_STOCK)
    ):
        return redirect("stock:waybill-detail", result.waybill.pk)
    if _may(lambda: access_movement_by_id(user, result.movement.pk, Right.VIEW_STOCK)):
        return redirect("stock:movement-detail", result.movement.pk)
    return redirect("stock:post-menu")


def _show_refusal(form: forms.PostingForm, exc: ServiceError) -> None:
    """A service's refusal that names no field: at the top of the form. (An overdraw is a problem of
    the line that asks for too much, and is shown beside it with the other problems.)"""
    form.add_error(None, exc.message)


def _stock_lines(form: forms.PostingForm) -> list[StockLine]:
    return [
        StockLine(
            item_id=line.cleaned_data["item"].pk,
            quantity=line.cleaned_data["quantity"],
            grant_id=line.cleaned_data["grant"].pk if line.cleaned_data.get("grant") else None,
        )
        for _, line in form.filled_lines()
    ]


def _site(user: AnyUser, site: Any, right: Right) -> int:
    """The chosen site's id, once more checked against the user's scope."""
    return int(access_stock_site(user, site.pk, right).pk)


@page
def receipt_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Right.POST_STOCK)
    pledges = selectors.pipeline(today=today(), site_ids=stock_visible_site_ids(user)).pledges
    # A pledge as the messages and the pipeline name it (its number and the donor's reference, on
    # the donor's paper), with what is still to come of it.
    choices = [
        (
            p.pk,
            f"Pledge {p.pk}{f' ({p.reference})' if p.reference else ''} · {p.grant.reference}: "
            f"{p.quantity - p.received_quantity:,} {p.item.code} to {p.destination.name}",
        )
        for p in pledges
    ]
    form = forms.ReceiptForm(_data(request), user=user, pledges=choices)

    def submit(d: dict[str, Any]) -> Any:
        return stock_receive(
            actor=user,
            site_id=_site(user, d["site"], Right.POST_STOCK),
            grant_id=d["grant"].pk,
            lines=[
                ReceiptLine(
                    item_id=line.cleaned_data["item"].pk,
                    quantity=line.cleaned_data["quantity"],
                    packs=line.cleaned_data["packs"],
                    pack=line.cleaned_data["pack"],
                )
                for _, line in form.filled_lines()
            ],
            grn_number=d["grn_number"],
            received_on=d["received_on"],
            pledge_id=d["pledge"],
            note=d["note"],
            idempotency_key=form.idempotency(),
            caller_problems=form.caller_problems,
        )

    return _posting(
        request,
        form,
        submit,
        title="Receive goods",
        intro="Goods that arrived from a donor or supplier against a grant. Give each line's quantity "
        "in base units, or a number of packs and the pack.",
        submit_label="Post the receipt",
    )


@page
def waybill_dispatch_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Right.POST_STOCK)
    form = forms.DispatchForm(_data(request), user=user)

    def submit(d: dict[str, Any]) -> Any:
        return waybill_dispatch(
            actor=user,
            from_site_id=_site(user, d["from_site"], Right.POST_STOCK),
            to_site_id=d["to_site"].pk,
            lines=_stock_lines(form),
            dispatched_on=d["dispatched_on"],
            expected_on=d["expected_on"],
            transport=d["transport"],
            vehicle=d["vehicle"],
            driver=d["driver"],
            number=d["number"] or None,
            idempotency_key=form.idempotency(),
            caller_problems=form.caller_problems,
        )

    return _posting(
        request,
        form,
        submit,
        title="Dispatch a waybill",
        intro="The consignment leaves the site and is in transit until the receiving site confirms "
        "what arrived. Leave a line's grant empty to send the oldest stock first.",
        submit_label="Dispatch",
    )


@page
def waybill_confirm(request: HttpRequest, waybill_id: int) -> HttpResponse:
    user = request.user
    waybill = access_waybill_by_id(user, waybill_id, Right.POST_STOCK)
    sent: dict[int, dict[str, Any]] = {}
    for line in selectors.waybill_lines(waybill_id=waybill.pk):
        entry = sent.setdefault(
            line.item_id,
            {"item": line.item_id, "label": f"{line.item_code} · {line.item_name}", "sent": 0, "damaged": 0},
        )
        entry["sent"] += line.quantity
        entry["received"] = entry["sent"]
    form = forms.DeliveryForm(_data(request), user=user, initial_lines=list(sent.values()))

    def submit(d: dict[str, Any]) -> Any:
        return waybill_confirm_delivery(
            actor=user,
            waybill_id=waybill.pk,
            delivered_on=d["delivered_on"],
            lines=[
                DeliveryLine(
                    item_id=line.cleaned_data["item"],
                    received=line.cleaned_data["received"],
                    damaged=line.cleaned_data["damaged"],
                    damage_reason=line.cleaned_data["damage_reason"],
                    short_reason=line.cleaned_data["short_reason"],
                )
                for _, line in form.filled_lines()
            ],
            excess_reason=d["excess_reason"],
            idempotency_key=form.idempotency(),
            caller_problems=form.caller_problems,
        )

    intro = (
        f"From {waybill.from_site.name} to {waybill.to_site.name}, dispatched on "
        f"{waybill.dispatched_on.day} {waybill.dispatched_on:%b %Y}."
    )
    # A waybill no longer in transit shows what became of it, and no form to confirm it again.
    open_for_delivery = waybill.status == WaybillStatus.IN_TRANSIT
    delivery = None if open_for_delivery else selectors.standing_delivery(waybill.pk)
    if open_for_delivery:
        intro += (
            " Each line is prefilled with what was sent: say how many arrived in good condition and how "
            "many damaged. Damaged and missing goods go to loss/damage with the reason you give."
        )
    return _posting(
        request,
        form,
        submit,
        title=f"Confirm delivery of waybill {waybill.number}",
        intro=intro,
        submit_label="Confirm the delivery",
        template="stock/confirm_form.html",
        context={"waybill": waybill, "open_for_delivery": open_for_delivery, "delivery": delivery},
    )


@page
def distribution_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Right.DISTRIBUTE)
    form = forms.DistributionForm(_data(request), user=user)

    def submit(d: dict[str, Any]) -> Any:
        return stock_distribute(
            actor=user,
            site_id=_site(user, d["site"], Right.DISTRIBUTE),
            lines=_stock_lines(form),
            distributed_on=d["distributed_on"],
            reference=d["reference"],
            note=d["note"],
            idempotency_key=form.idempotency(),
            caller_problems=form.caller_problems,
        )

    return _posting(
        request,
        form,
        submit,
        title="Report a distribution",
        intro="Items a distribution point handed out to people without household registration "
        "(a blanket distribution). They leave stock for good.",
        submit_label="Post the distribution",
    )


@page
def handover_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Right.DISTRIBUTE)
    form = forms.HandoverForm(_data(request), user=user)

    def submit(d: dict[str, Any]) -> Any:
        return stock_handover_to_partner(
            actor=user,
            site_id=_site(user, d["site"], Right.DISTRIBUTE),
            organisation_id=d["organisation"].pk,
            lines=_stock_lines(form),
            handed_on=d["handed_on"],
            reference=d["reference"],
            note=d["note"],
            idempotency_key=form.idempotency(),
            caller_problems=form.caller_problems,
        )

    return _posting(
        request,
        form,
        submit,
        title="Hand over to a partner",
        intro="Stock handed to another organisation to distribute (the Army, an NGO). It is reported "
        "apart from distributions to households.",
        submit_label="Post the hand-over",
    )


@page
def loss_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Right.POST_STOCK)
    form = forms.LossForm(_data(request), user=user)

    def submit(d: dict[str, Any]) -> Any:
        return stock_report_loss(
            actor=user,
            site_id=_site(user, d["site"], Right.POST_STOCK),
            lines=_stock_lines(form),
            reason=d["reason"],
            occurred_on=d["occurred_on"],
            note=d["note"],
            idempotency_key=form.idempotency(),
            caller_problems=form.caller_problems,
        )

    return _posting(
        request,
        form,
        submit,
        title="Report a loss",
        intro="Stock lost or damaged at a site: it is written off to loss/damage with the reason.",
        submit_label="Post the loss",
    )


@page
def count_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Right.POST_STOCK)
    raw = request.POST.get("site") if request.method == "POST" else request.GET.get("site")
    if not raw:
        chooser = forms.CountSiteForm(user=user)
        return _render(request, "stock/count_site.html", {"form": chooser})
    site_id = whole_id(raw)
    if site_id is None:
        raise Http404("no such site")
    site = access_stock_site(user, site_id, Right.POST_STOCK)
    held = selectors.stock_on_hand(site_ids={site.pk})
    initial_lines = [{"item": row.item_id, "label": f"{row.item_code} · {row.item_name}"} for row in held]
    form = forms.CountForm(_data(request), user=user, initial={"site": site.pk}, initial_lines=initial_lines)

    def submit(d: dict[str, Any]) -> Any:
        return stock_count(
            actor=user,
            site_id=site.pk,
            counts=[
                CountLine(
                    item_id=line.cleaned_data["item"].pk,
                    counted=line.cleaned_data["counted"],
                    surplus_grant_id=(
                        line.cleaned_data["surplus_grant"].pk
                        if line.cleaned_data.get("surplus_grant")
                        else None
                    ),
                )
                for _, line in form.filled_lines()
            ],
            counted_on=d["counted_on"],
            note=d["note"],
            idempotency_key=form.idempotency(),
            caller_problems=form.caller_problems,
        )

    return _posting(
        request,
        form,
        submit,
        title=f"Count stock at {site.name}",
        intro="The sheet lists every item the site holds on record. Write what you counted; leave a line "
        "empty if you did not count that item. Add lines for items found that are not listed. "
        "Shortages and surpluses are posted as count adjustments: a shortage is taken from the oldest "
        "grants first; a surplus goes to the grant chosen on its line, else to UNATTRIBUTED (donor "
        "unknown).",
        submit_label="Post the count",
        context={"site": site},
    )


@page
def kitting_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Right.POST_STOCK)
    form = forms.KittingForm(_data(request), user=user)

    def submit(d: dict[str, Any]) -> Any:
        service: Callable[..., Any] = (
            kits_assemble if d["action"] == forms.KittingForm.ASSEMBLE else kits_break
        )
        day = "assembled_on" if d["action"] == forms.KittingForm.ASSEMBLE else "broken_on"
        return service(
            actor=user,
            site_id=_site(user, d["site"], Right.POST_STOCK),
            kit_item_id=d["kit"].pk,
            quantity=d["quantity"],
            grant_id=d["grant"].pk if d["grant"] else None,
            idempotency_key=form.idempotency(),
            caller_problems=form.caller_problems,
            **{day: d["on"]},
        )

    return _posting(
        request,
        form,
        submit,
        title="Assemble or break kits",
        intro="Assembling takes each kit's components from the site's stock and puts the kits in; "
        "breaking does the opposite. Kits carry their components' grant.",
        submit_label="Post",
    )


@page
def movement_reverse_new(request: HttpRequest, movement_id: int) -> HttpResponse:
    user = request.user
    movement = access_movement_by_id(user, movement_id, Right.POST_STOCK)
    form = forms.ReversalForm(_data(request), user=user)
    if request.method != "POST":
        return redirect("stock:movement-detail", movement.pk)
    if form.is_valid():
        try:
            result = movement_reverse(
                actor=user,
                movement_id=movement.pk,
                reason=form.cleaned_data["reason"],
                reversed_on=form.cleaned_data["reversed_on"],
                idempotency_key=form.idempotency(),
            )
        except InvalidInput as exc:
            form.show_problems(exc.problems)
            return _movement_page(request, movement, form, status=exc.status)
        except AccessDenied:
            raise
        except ServiceError as exc:
            form.add_error(None, exc.message)
            return _movement_page(request, movement, form, status=exc.status)
        return _posted(request, result)
    return _movement_page(request, movement, form, status=422)


@page
def post_menu(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Right.DISTRIBUTE)
    to_confirm = None
    if has_right(user, Right.POST_STOCK):
        mine = set(stock_sites(user, Right.POST_STOCK).values_list("pk", flat=True))
        to_confirm = selectors.carrying(
            selectors.waybill_list(
                site_ids=stock_visible_site_ids(user), to_site_ids=mine, status=WaybillStatus.IN_TRANSIT
            ).order_by("expected_on", "id")[:50]
        )
    return _render(
        request,
        "stock/post_menu.html",
        {"operations": _operations(user), "to_confirm": to_confirm, "today": today()},
    )
