"""`reliefops stock ACTION`: post every stock operation, print the stock reports, verify the ledger.

Postings act as a user (`--as USERNAME`), whose rights and scope are checked in core.access exactly
as for the API. Reports without `--as` are the console operator's and cover every site.
`reliefops stock verify` recomputes every balance from the ledger and exits 1 on any fault.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from reliefops.core.access import (
    access_item_by_code,
    access_movement_by_id,
    access_stock_grant,
    access_stock_site,
    access_waybill_by_id,
    access_waybill_by_number,
    require,
    stock_visible_site_ids,
)
from reliefops.core.cli import ReliefopsCommand, service_errors
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.roles import Right
from reliefops.core.security import whole_id
from reliefops.core.text import counted
from reliefops.stock import selectors
from reliefops.stock.models import QUANTITY_MAX, Transport
from reliefops.stock.schemas import Refs, posting_message, scoped_key, today
from reliefops.stock.services import (
    UNRESOLVED,
    CountLine,
    DeliveryLine,
    LossReason,
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


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date: {text!r}; write it as YYYY-MM-DD") from exc


def _ref(text: str) -> int | str:
    """Digits name a record by id; anything else by its code."""
    number = whole_id(text)
    return number if number is not None else text


# A whole number, its thousands separated by commas or not: 1500, 1,500, -3; never 1,5 or 15,00.
_WHOLE_NUMBER = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)")


def _number(text: str, row: int, field: str, problems: list[Problem], *, instead: int = 1) -> int:
    """The whole number written, or else a problem and `instead`: a number the service takes without
    a problem of its own (see `refuse`), such as 1 for a quantity."""
    if not _WHOLE_NUMBER.fullmatch(text.strip()):
        hint = "; a comma may only separate thousands, as in 1,500" if "," in text else ""
        problems.append(Problem(row, field, f"not a whole number: {text!r}{hint}"))
        return instead
    number = int(text.strip().replace(",", ""))
    if number > QUANTITY_MAX:
        problems.append(Problem(row, field, f"must be at most {QUANTITY_MAX:,}, not {text.strip()}"))
        return instead
    return number


def _id(text: str) -> int:
    number = whole_id(text)
    if number is None:
        raise argparse.ArgumentTypeError(f"not an id: {text!r}")
    return number


def _pairs(values: Sequence[str], what: str) -> list[tuple[int, str, str]]:
    """`ITEM=VALUE` options as (line, item, value); a malformed one fails the command."""
    out = []
    for row, value in enumerate(values, start=1):
        item, sep, rest = value.partition("=")
        if not sep or not item.strip() or not rest.strip():
            raise CommandError(f"{what} {value!r}: write ITEM=VALUE, e.g. BLANKET=200")
        out.append((row, item.strip(), rest.strip()))
    return out


class Command(ReliefopsCommand):
    help = "The stock ledger: post receipts, waybills, distributions, counts ...; print reports; verify."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        def posting(name: str, help_text: str, *, site: bool = True) -> CommandParser:
            sub: CommandParser = actions.add_parser(name, help=help_text)
            sub.add_argument("--as", dest="username", required=True, metavar="USERNAME", help="who posts it")
            if site:
                sub.add_argument("--site", required=True, metavar="SITE", help="site code (or id)")
            sub.add_argument("--on", type=_date, metavar="YYYY-MM-DD", help="the day it happened (today)")
            sub.add_argument(
                "--key", metavar="KEY", help="idempotency key: running again with the same key posts nothing"
            )
            return sub

        line_help = "ITEM=QUANTITY, or ITEM=QUANTITY@GRANT to name the grant (else oldest stock first)"

        receive = posting("receive", "receive goods from a donor or supplier against a grant")
        receive.add_argument("--grant", required=True, metavar="GRANT", help="grant reference")
        receive.add_argument("--grn", required=True, metavar="NUMBER", help="goods received note number")
        receive.add_argument("--pledge", type=_id, metavar="ID", help="the pledge it fulfils")
        receive.add_argument("--note", default="")
        receive.add_argument(
            "--line", action="append", required=True, metavar="LINE", help="ITEM=QUANTITY or ITEM=PACKS:PACK"
        )

        dispatch = posting("dispatch", "dispatch a consignment under a waybill", site=False)
        dispatch.add_argument("--from", dest="from_site", required=True, metavar="SITE")
        dispatch.add_argument("--to", dest="to_site", required=True, metavar="SITE")
        dispatch.add_argument("--line", action="append", required=True, metavar="LINE", help=line_help)
        dispatch.add_argument("--expected", type=_date, metavar="YYYY-MM-DD", help="expected arrival")
        dispatch.add_argument("--transport", choices=Transport.values, default=Transport.TRUCK)
        dispatch.add_argument("--vehicle", default="", help="registration or sortie number")
        dispatch.add_argument("--driver", default="")
        dispatch.add_argument("--number", help="waybill number (WB-0000123 when left out)")

        confirm = posting("confirm", "confirm a waybill's delivery at the receiving site", site=False)
        confirm.add_argument("waybill", metavar="WAYBILL", help="waybill number (or id)")
        confirm.add_argument(
            "--received", action="append", default=[], metavar="ITEM=N", help="received in good condition"
        )
        confirm.add_argument("--damaged", action="append", default=[], metavar="ITEM=N")
        confirm.add_argument("--damage-reason", action="append", default=[], metavar="ITEM=TEXT")
        confirm.add_argument("--short-reason", action="append", default=[], metavar="ITEM=TEXT")
        confirm.add_argument("--excess-reason", default="", metavar="TEXT", help="why more arrived than sent")

        distribute = posting("distribute", "report a bulk distribution to people at a distribution point")
        distribute.add_argument("--line", action="append", required=True, metavar="LINE", help=line_help)
        distribute.add_argument("--reference", default="", help="distribution report number")
        distribute.add_argument("--note", default="")

        handover = posting("handover", "hand stock over to a partner organisation")
        handover.add_argument("--partner", required=True, metavar="ORG", help="name or acronym (or id)")
        handover.add_argument("--line", action="append", required=True, metavar="LINE", help=line_help)
        handover.add_argument("--reference", default="", help="hand-over note number")
        handover.add_argument("--note", default="")

        loss = posting("loss", "write off stock lost or damaged at a site")
        loss.add_argument("--reason", required=True, choices=LossReason.ALL)
        loss.add_argument("--line", action="append", required=True, metavar="LINE", help=line_help)
        loss.add_argument("--note", default="", help="what happened")

        count = posting("count", "record a physical count; the differences are posted as adjustments")
        count.add_argument(
            "--line",
            action="append",
            required=True,
            metavar="LINE",
            help="ITEM=COUNTED, or ITEM=COUNTED@GRANT: the grant a surplus goes to",
        )
        count.add_argument("--note", default="")

        for name, verb in (("assemble", "assemble kits from their components"), ("break", "break kits up")):
            kits = posting(name, verb)
            kits.add_argument("--kit", required=True, metavar="KIT", help="the kit item's code")
            kits.add_argument("--quantity", type=int, required=True)
            kits.add_argument("--grant", metavar="GRANT", help="the grant the kits are charged to")

        reverse = posting("reverse", "reverse a posted movement (post its exact opposite)", site=False)
        reverse.add_argument("movement", type=_id, metavar="MOVEMENT_ID")
        reverse.add_argument("--reason", required=True)

        cancel = actions.add_parser(
            "cancel-pledge", help="cancel an open pledge the donor will not send (or not the rest of it)"
        )
        cancel.add_argument("--as", dest="username", required=True, metavar="USERNAME", help="who cancels it")
        cancel.add_argument("pledge", type=_id, metavar="PLEDGE_ID")
        cancel.add_argument("--reason", required=True, help="what the donor said will not come, and why")

        report = actions.add_parser("report", help="print a stock report")
        which = report.add_mutually_exclusive_group(required=True)
        which.add_argument("--on-hand", action="store_true", help="stock on hand by site and item")
        which.add_argument(
            "--distributed", action="store_true", help="items distributed, under the published figures' keys"
        )
        which.add_argument("--donor", metavar="GRANT", help="donor report of a grant")
        which.add_argument("--pipeline", action="store_true", help="pledges, waybills in transit, overdue")
        which.add_argument(
            "--card", nargs=2, metavar=("SITE", "ITEM"), help="stock card of an item at a site"
        )
        report.add_argument("--site", metavar="SITE", help="with --on-hand: only this site")
        report.add_argument("--item", metavar="ITEM", help="with --on-hand: only this item")
        report.add_argument("--by-grant", action="store_true", help="with --on-hand: one row per grant")
        report.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD", help="with --card")
        report.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD", help="with --card")
        report.add_argument("--format", choices=["table", "json"], default="table")
        report.add_argument("--as", dest="username", metavar="USERNAME", help="see what this user may see")

        actions.add_parser("verify", help="recompute every balance from the ledger; exit 1 on any fault")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "verify":
            self._verify()
            return
        handler: Callable[[Any, dict[str, Any]], Any] = getattr(self, f"_{action.replace('-', '_')}")
        user = self._user(options.get("username"))
        with service_errors(self, reads=action == "report"):
            result = handler(user, options)
        if action == "cancel-pledge":
            self.stdout.write(self.style.SUCCESS(pledge_cancelled_message(result)))
        elif action != "report":
            self.stdout.write(self.style.SUCCESS(posting_message(result)))

    # --- who acts -------------------------------------------------------------------------------

    def _user(self, username: str | None) -> Any:
        model = get_user_model()
        if username is None:
            # The console operator: reports cover every site (as for an admin).
            return model(username="console", is_superuser=True, is_active=True)
        try:
            return model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist as exc:
            raise CommandError(f"no user {username!r}") from exc

    @staticmethod
    def _key(user: Any, options: dict[str, Any]) -> str | None:
        return scoped_key(user, options.get("key"), field="--key")

    # --- postings --------------------------------------------------------------------------------

    @staticmethod
    def _stock_lines(refs: Refs, values: Sequence[str]) -> list[StockLine]:
        lines = []
        for row, item, rest in _pairs(values, "--line"):
            quantity, _, grant = rest.partition("@")
            lines.append(
                StockLine(
                    item_id=refs.item(item, row),
                    quantity=_number(quantity, row, "quantity", refs.problems),
                    grant_id=refs.grant(grant.strip() or None, row),
                )
            )
        return lines

    def _receive(self, user: Any, o: dict[str, Any]) -> Any:
        refs = Refs(user, Right.POST_STOCK)
        site_id = refs.site_id(_ref(o["site"]))
        grant_id = refs.grant(o["grant"]) or 0
        lines = []
        for row, item, rest in _pairs(o["line"], "--line"):
            amount, _, pack = rest.partition(":")
            item_id = refs.item(item, row)
            number = _number(amount, row, "packs" if pack else "quantity", refs.problems)
            lines.append(
                ReceiptLine(
                    item_id=item_id,
                    quantity=None if pack else number,
                    packs=number if pack else None,
                    pack=pack.strip(),
                )
            )
        return stock_receive(
            actor=user,
            site_id=site_id,
            grant_id=grant_id,
            lines=lines,
            grn_number=o["grn"],
            received_on=o["on"] or today(),
            pledge_id=o["pledge"],
            note=o["note"],
            idempotency_key=self._key(user, o),
            caller_problems=refs.problems,
        )

    def _dispatch(self, user: Any, o: dict[str, Any]) -> Any:
        refs = Refs(user, Right.POST_STOCK)
        from_site_id = refs.site_id(_ref(o["from_site"]), "from_site")
        to_site_id = refs.site_id(_ref(o["to_site"]), "to_site", scoped=False)
        lines = self._stock_lines(refs, o["line"])
        return waybill_dispatch(
            actor=user,
            from_site_id=from_site_id,
            to_site_id=to_site_id,
            lines=lines,
            dispatched_on=o["on"] or today(),
            expected_on=o["expected"],
            transport=o["transport"],
            vehicle=o["vehicle"],
            driver=o["driver"],
            number=o["number"],
            idempotency_key=self._key(user, o),
            caller_problems=refs.problems,
        )

    def _confirm(self, user: Any, o: dict[str, Any]) -> Any:
        ref = _ref(o["waybill"])
        if isinstance(ref, int):
            waybill = access_waybill_by_id(user, ref, Right.POST_STOCK)
        elif (found := selectors.waybill_id_by_number(ref)) is not None:
            # The number as compared: " blk/2005/0412" is waybill BLK/2005/0412.
            waybill = access_waybill_by_id(user, found, Right.POST_STOCK)
        else:
            waybill = access_waybill_by_number(user, ref, Right.POST_STOCK)
        problems: list[Problem] = []
        # Unless told otherwise, what was sent arrived (less what is reported damaged).
        sent: dict[int, int] = {}
        for line in selectors.waybill_lines(waybill_id=waybill.pk):
            sent[line.item_id] = sent.get(line.item_id, 0) + line.quantity
        # The delivery's lines: the waybill's items, then each other item named, in the order named
        # (an unknown one by its name). A problem is told on the line of its item, as the service
        # tells its own.
        given: dict[int | str, dict[str, str]] = {item_id: {} for item_id in sent}
        unknown: dict[str, str] = {}
        lookup = Refs(user, Right.POST_STOCK)
        for option in ("received", "damaged", "damage_reason", "short_reason"):
            for _, item, value in _pairs(o[option], f"--{option.replace('_', '-')}"):
                item_id = lookup.item(item)
                if item_id == UNRESOLVED:
                    unknown[item] = lookup.problems[-1].reason
                given.setdefault(item_id or item, {})[option] = value
        lines = []
        for row, (key, values) in enumerate(given.items(), start=1):
            if isinstance(key, str):
                problems.append(Problem(row, "item", unknown[key]))
            damaged = _number(values.get("damaged", "0"), row, "damaged", problems, instead=0)
            default = max(sent.get(key, 0) - damaged, 0) if isinstance(key, int) else 0
            received = values.get("received")
            lines.append(
                DeliveryLine(
                    item_id=key if isinstance(key, int) else UNRESOLVED,
                    received=default
                    if received is None
                    else _number(received, row, "received", problems, instead=default),
                    damaged=damaged,
                    damage_reason=values.get("damage_reason", ""),
                    short_reason=values.get("short_reason", ""),
                )
            )
        return waybill_confirm_delivery(
            actor=user,
            waybill_id=waybill.pk,
            delivered_on=o["on"] or today(),
            lines=lines,
            excess_reason=o["excess_reason"],
            idempotency_key=self._key(user, o),
            caller_problems=problems,
        )

    def _distribute(self, user: Any, o: dict[str, Any]) -> Any:
        refs = Refs(user, Right.DISTRIBUTE)
        site_id = refs.site_id(_ref(o["site"]))
        lines = self._stock_lines(refs, o["line"])
        return stock_distribute(
            actor=user,
            site_id=site_id,
            lines=lines,
            distributed_on=o["on"] or today(),
            reference=o["reference"],
            note=o["note"],
            idempotency_key=self._key(user, o),
            caller_problems=refs.problems,
        )

    def _handover(self, user: Any, o: dict[str, Any]) -> Any:
        refs = Refs(user, Right.DISTRIBUTE)
        site_id = refs.site_id(_ref(o["site"]))
        organisation_id = refs.organisation(_ref(o["partner"]), "partner")
        lines = self._stock_lines(refs, o["line"])
        return stock_handover_to_partner(
            actor=user,
            site_id=site_id,
            organisation_id=organisation_id,
            lines=lines,
            handed_on=o["on"] or today(),
            reference=o["reference"],
            note=o["note"],
            idempotency_key=self._key(user, o),
            caller_problems=refs.problems,
        )

    def _loss(self, user: Any, o: dict[str, Any]) -> Any:
        refs = Refs(user, Right.POST_STOCK)
        site_id = refs.site_id(_ref(o["site"]))
        lines = self._stock_lines(refs, o["line"])
        return stock_report_loss(
            actor=user,
            site_id=site_id,
            lines=lines,
            reason=o["reason"],
            occurred_on=o["on"] or today(),
            note=o["note"],
            idempotency_key=self._key(user, o),
            caller_problems=refs.problems,
        )

    def _count(self, user: Any, o: dict[str, Any]) -> Any:
        refs = Refs(user, Right.POST_STOCK)
        site_id = refs.site_id(_ref(o["site"]))
        counts = []
        for row, item, rest in _pairs(o["line"], "--line"):
            counted, _, grant = rest.partition("@")
            counts.append(
                CountLine(
                    item_id=refs.item(item, row),
                    counted=_number(counted, row, "counted", refs.problems, instead=0),
                    surplus_grant_id=refs.grant(grant.strip() or None, row, "surplus_grant"),
                )
            )
        return stock_count(
            actor=user,
            site_id=site_id,
            counts=counts,
            counted_on=o["on"] or today(),
            note=o["note"],
            idempotency_key=self._key(user, o),
            caller_problems=refs.problems,
        )

    def _kitting(self, user: Any, o: dict[str, Any], service: Callable[..., Any], day: str) -> Any:
        refs = Refs(user, Right.POST_STOCK)
        site_id = refs.site_id(_ref(o["site"]))
        kit_id = refs.kit(o["kit"])
        grant_id = refs.grant(o["grant"])
        return service(
            actor=user,
            site_id=site_id,
            kit_item_id=kit_id,
            quantity=o["quantity"],
            grant_id=grant_id,
            idempotency_key=self._key(user, o),
            **{day: o["on"] or today()},
            caller_problems=refs.problems,
        )

    def _assemble(self, user: Any, o: dict[str, Any]) -> Any:
        return self._kitting(user, o, kits_assemble, "assembled_on")

    def _break(self, user: Any, o: dict[str, Any]) -> Any:
        return self._kitting(user, o, kits_break, "broken_on")

    def _cancel_pledge(self, user: Any, o: dict[str, Any]) -> Any:
        require(user, Right.POST_STOCK)
        return pledge_cancel(actor=user, pledge_id=o["pledge"], reason=o["reason"])

    def _reverse(self, user: Any, o: dict[str, Any]) -> Any:
        movement = access_movement_by_id(user, o["movement"], Right.POST_STOCK)
        return movement_reverse(
            actor=user,
            movement_id=movement.pk,
            reason=o["reason"],
            reversed_on=o["on"] or today(),
            idempotency_key=self._key(user, o),
        )

    # --- reports ---------------------------------------------------------------------------------

    def _report(self, user: Any, o: dict[str, Any]) -> None:
        as_json = o["format"] == "json"
        if o["distributed"]:
            require(user, Right.VIEW_STOCK)
            totals = selectors.distributed_totals(stock_visible_site_ids(user))
            if as_json:
                self.stdout.write(json.dumps({"iom_distributed": totals}))
            else:
                self._table(["item", "distributed"], [[key, value] for key, value in totals.items()])
        elif o["on_hand"]:
            self._report_on_hand(user, o, as_json)
        elif o["donor"]:
            grant = access_stock_grant(user, o["donor"])
            report = selectors.donor_report(grant_id=grant.pk)
            rows = report.rows
            columns = [
                "received",
                "distributed",
                "handed_to_partners",
                "lost",
                "in_transit",
                "on_hand",
                "other",
            ]
            if as_json:
                as_of = timezone.localtime(report.as_of).replace(second=0, microsecond=0)
                shown = {"grant": grant.reference, "as_of": as_of.isoformat(), "when": report.when}
                self.stdout.write(json.dumps({**shown, "rows": [vars(r) for r in rows]}, indent=2))
                return
            self.stdout.write(f"Donor report of grant {grant.reference} ({grant.donor.name})")
            self.stdout.write(report.when)
            self._table(
                ["item", *(c.replace("_", " ") for c in columns)],
                [[r.item_code, *(getattr(r, c) for c in columns)] for r in rows],
            )
        elif o["pipeline"]:
            self._report_pipeline(user, as_json)
        else:
            self._report_card(user, o, as_json)

    def _report_on_hand(self, user: Any, o: dict[str, Any], as_json: bool) -> None:
        refs = Refs(user, Right.VIEW_STOCK)
        site_ids = stock_visible_site_ids(user)
        if o["site"]:
            site_ids = {refs.site_id(_ref(o["site"]))}
        item_ids = {refs.item(o["item"])} if o["item"] else None
        refs.check()
        rows = selectors.stock_on_hand(site_ids=site_ids, item_ids=item_ids, by_grant=o["by_grant"])
        if as_json:
            self.stdout.write(json.dumps([vars(r) for r in rows], indent=2))
            return
        header = ["site", "item", *(["grant"] if o["by_grant"] else []), "quantity"]
        self._table(
            header,
            [
                [r.site_name, r.item_code, *([r.grant_reference] if o["by_grant"] else []), r.quantity]
                for r in rows
            ],
        )

    def _report_pipeline(self, user: Any, as_json: bool) -> None:
        found = selectors.pipeline(today=today(), site_ids=stock_visible_site_ids(user))
        pledges = [
            [
                p.grant.reference,
                p.item.code,
                p.quantity,
                p.received_quantity,
                p.destination.name,
                p.expected_on,
            ]
            for p in found.pledges
        ]
        overdue = {w.pk: days for w, days in found.overdue}
        waybills = [
            [w.number, w.from_site.name, w.to_site.name, w.dispatched_on, w.expected_on, overdue.get(w.pk, 0)]
            for w in found.in_transit
        ]
        if as_json:
            keys_p = ["grant", "item", "quantity", "received", "destination", "expected_on"]
            keys_w = ["waybill", "from", "to", "dispatched_on", "expected_on", "days_overdue"]
            self.stdout.write(
                json.dumps(
                    {
                        "pledges": [dict(zip(keys_p, p, strict=True)) for p in pledges],
                        "in_transit": [dict(zip(keys_w, w, strict=True)) for w in waybills],
                    },
                    default=str,
                    indent=2,
                )
            )
            return
        self.stdout.write(f"Open pledges: {len(pledges)}")
        self._table(["grant", "item", "quantity", "received", "destination", "expected"], pledges)
        self.stdout.write(f"\nWaybills in transit: {len(waybills)}, overdue: {len(overdue)}")
        self._table(["waybill", "from", "to", "dispatched", "expected", "days overdue"], waybills)

    def _report_card(self, user: Any, o: dict[str, Any], as_json: bool) -> None:
        site_ref, item_code = o["card"]
        site = access_stock_site(user, _ref(site_ref), Right.VIEW_STOCK)
        item = access_item_by_code(user, item_code)
        end = o["end"] or today()
        start = o["start"] or end.replace(day=1)
        if start > end:
            raise InvalidInput([Problem(None, "--from", "the period starts after it ends")])
        card = selectors.stock_card(site_id=site.pk, item_id=item.pk, start=start, end=end)
        if as_json:
            body = {
                "site": site.code,
                "item": item.code,
                "start": start,
                "end": end,
                "opening": card.opening,
                "total_in": card.total_in,
                "total_out": card.total_out,
                "closing": card.closing,
                "lines": [vars(line) for line in card.lines],
            }
            self.stdout.write(json.dumps(body, default=str, indent=2))
            return
        self.stdout.write(f"Stock card: {item.name} ({item.code}) at {site.name}, {start} to {end}")
        self.stdout.write(f"Opening balance: {card.opening:,}")
        self._table(
            ["date", "movement", "kind", "reference", "from/to", "in", "out", "balance"],
            [
                [
                    line.occurred_on,
                    f"#{line.movement_id}",
                    line.kind,
                    line.reference,
                    line.counterpart,
                    line.quantity_in or "",
                    line.quantity_out or "",
                    line.balance,
                ]
                for line in card.lines
            ],
        )
        self.stdout.write(f"In {card.total_in:,}, out {card.total_out:,}, closing balance {card.closing:,}")

    def _table(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Columns padded to their widest cell; numbers right-aligned with thousands separators."""
        text = [[f"{c:,}" if isinstance(c, int) else str(c) for c in row] for row in rows]
        numeric = [
            any(isinstance(row[i], int) for row in rows)
            and all(isinstance(row[i], int) or row[i] == "" for row in rows)
            for i in range(len(header))
        ]
        widths = [max([len(h), *(len(row[i]) for row in text)]) for i, h in enumerate(header)]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(
                cell.rjust(widths[i]) if numeric[i] else cell.ljust(widths[i]) for i, cell in enumerate(cells)
            ).rstrip()

        self.stdout.write(line(header))
        self.stdout.write("  ".join("-" * w for w in widths))
        for row in text:
            self.stdout.write(line(row))
        if not rows:
            self.stdout.write("(none)")

    # --- verify ----------------------------------------------------------------------------------

    def _verify(self) -> None:
        result = selectors.ledger_verify()
        self.stdout.write(f"checked {result.lines:,} ledger lines and {result.balances:,} balances")
        names = selectors.ledger_names(
            location_ids={d.location_id for d in result.drifts} | {n[0] for n in result.negative_physical},
            item_ids={d.item_id for d in result.drifts}
            | {u[0] for u in result.unbalanced}
            | {n[1] for n in result.negative_physical},
            grant_ids={d.grant_id for d in result.drifts}
            | {u[1] for u in result.unbalanced}
            | {n[2] for n in result.negative_physical},
        )

        def key(location: int | None, item: int, grant: int) -> str:
            where = f"{names.location(location)}, " if location is not None else ""
            return f"{where}{names.item(item)}, grant {names.grant(grant)}"

        for d in result.drifts:
            self.stdout.write(
                f"DRIFT      {key(d.location_id, d.item_id, d.grant_id)}: "
                f"the balance table holds {d.kept:,}, the ledger gives {d.recomputed:,}"
            )
        for item, grant, total in result.unbalanced:
            self.stdout.write(
                f"UNBALANCED {key(None, item, grant)}: all locations add up to {total:,}, not 0"
            )
        for location, item, grant, quantity in result.negative_physical:
            self.stdout.write(f"NEGATIVE   {key(location, item, grant)}: {quantity:,}")
        if not result.ok:
            raise CommandError(
                f"the ledger is not sound: {counted(len(result.drifts), 'drift')}, "
                f"{len(result.unbalanced)} unbalanced (item, grant), "
                f"{counted(len(result.negative_physical), 'negative physical balance')}",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS("the ledger is sound: every balance matches the ledger"))
