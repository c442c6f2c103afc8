"""`reliefops households ACTION`: import registration files, correct a household, take one off a
round's list, search the registry for duplicates, anonymise past retention, and print counts and a
round's reconciliation.

`import`, `correct` and `unlist` act as a user (`--as USERNAME`) whose rights are checked in
core.access as for the API.
`dedupe` and `anonymise` are the server operator's (having a shell on the server is the right):
they run in the foreground with their progress on stderr, and are what cron runs. The printed
figures carry no personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from reliefops.core.access import access_household_to_register, access_round_by_id, require
from reliefops.core.cli import ReliefopsCommand, read_input_file, service_errors
from reliefops.core.errors import Problem
from reliefops.core.jobs import command_progress
from reliefops.core.roles import Right
from reliefops.core.security import whole_id
from reliefops.core.text import counted, moment_text
from reliefops.env import env
from reliefops.households import selectors
from reliefops.households.matching import LIKELY_DUPLICATE
from reliefops.households.models import MEMBER_NAMES, DistributionRound, HouseholdImport, ImportStatus
from reliefops.households.services import (
    DuplicatesFound,
    duplicates_run,
    entitlement_cancel,
    household_import_commit,
    household_import_preview,
    household_keys_rebuild,
    household_update,
    households_anonymise,
)
from reliefops.households.services.corrections import CORRECTABLE
from reliefops.stock.schemas import scoped_key

SIGNED_WHOLE = re.compile(r"[-+]?[0-9]{1,6}")
FLAGS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def _changes(set_fields: list[str]) -> dict[str, Any]:
    """`--set FIELD=VALUE` options as the correction service takes them: member bands as numbers,
    vulnerability flags as yes or no; a value the service cannot read is passed on for it to refuse."""
    changes: dict[str, Any] = {}
    for setting in set_fields:
        name, sep, value = setting.partition("=")
        name = name.strip()
        if not sep or not name:
            # The value is not repeated: it may be a name or a number.
            raise CommandError("--set needs FIELD=VALUE (a field's name, '=' and its value)")
        if name in MEMBER_NAMES:
            # A count with its sign, so that the service says why -1 is refused (below 0), not that
            # it is no number.
            number = int(value.strip()) if SIGNED_WHOLE.fullmatch(value.strip()) else None
            changes.setdefault("members", {})[name] = number if number is not None else value
        elif name in {"elderly_headed", "disabled_member", "landless"}:
            changes[name] = FLAGS.get(value.strip().lower(), value)
        else:
            changes[name] = value
    return changes


@contextmanager
def _refusals_of_household(command: ReliefopsCommand, household_id: int) -> Iterator[None]:
    """A service's refusal as a CommandError naming the household it is about, unless the refusal
    names it first itself ("household 12 received its package ...", not "household 12: household 12
    received ...")."""
    source = f"household {household_id}"
    try:
        with service_errors(command, source):
            yield
    except CommandError as exc:
        text = str(exc)
        if text.startswith(f"{source}: {source} "):
            raise CommandError(text.removeprefix(f"{source}: ")) from exc
        raise


def _staged_preview(user: Any, content: bytes) -> HouseholdImport | None:
    """The check of a file with this content that waits to be imported (previewed, not yet cleared):
    the user's own latest one, else anyone's; None when there is none."""
    staged = selectors.waiting_checks(hashlib.sha256(content).hexdigest())
    return staged.filter(created_by=user).first() or staged.first()


def _round_by_code(code: str) -> DistributionRound:
    """The round of a code as typed: exactly, else in any case when only one round has it so
    (`camp-2006` is CAMP-2006), as the pages read codes."""
    text = code.strip()
    found = DistributionRound.objects.filter(code=text).first()
    if found is None:
        alike = list(DistributionRound.objects.filter(code__iexact=text)[:2])
        found = alike[0] if len(alike) == 1 else None
    if found is None:
        raise CommandError(f"no round {text}")
    return found


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date: {text!r}; write it as YYYY-MM-DD") from exc


class Command(ReliefopsCommand):
    help = "Households: import files, find duplicates, anonymise past retention, print counts and rounds."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        load = actions.add_parser(
            "import", help="check a CSV or XLSX registration file, and import it with --commit"
        )
        load.add_argument("file", help="CSV (UTF-8) or XLSX, one household per row")
        load.add_argument(
            "--as", dest="username", required=True, metavar="USERNAME", help="who registers them"
        )
        load.add_argument("--commit", action="store_true", help="import it when the check finds no problem")
        load.add_argument("--quiet", action="store_true", help="no progress on stderr")

        correct = actions.add_parser(
            "correct", help="correct a registered household (the fields given), with a reason"
        )
        correct.add_argument("household", type=int, help="the household's number")
        correct.add_argument(
            "--as", dest="username", required=True, metavar="USERNAME", help="who corrects it"
        )
        correct.add_argument("--reason", required=True, help="why: what was wrong, not the old value")
        correct.add_argument(
            "--set",
            dest="set_fields",  # not "settings": Django reads that one as its own --settings
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help=f"a field and its corrected value, as many as needed; the fields: {', '.join(CORRECTABLE)} "
            "(members by band: females_0_5=1 ...)",
        )
        correct.add_argument(
            "--seen",
            default="",
            metavar="IDS",
            help="the likely duplicates shown before, judged other households (comma-separated numbers)",
        )
        correct.add_argument("--key", help="an idempotency key: the same key again changes nothing")

        unlist = actions.add_parser(
            "unlist", help="take a household off a round's distribution list, with the reason"
        )
        unlist.add_argument("round", help="the round's code")
        unlist.add_argument("household", type=int, help="the household's number")
        unlist.add_argument(
            "--as",
            dest="username",
            required=True,
            metavar="USERNAME",
            help="who takes it off",
        )
        unlist.add_argument("--reason", required=True, help="why: kept with the list and in the audit trail")

        dedupe = actions.add_parser("dedupe", help="search the whole registry for likely duplicates")
        dedupe.add_argument(
            "--threshold",
            type=int,
            default=LIKELY_DUPLICATE,
            help=f"lowest score queued (default {LIKELY_DUPLICATE})",
        )
        dedupe.add_argument("--quiet", action="store_true", help="no progress on stderr")

        anonymise = actions.add_parser("anonymise", help="remove personal data past the retention period")
        anonymise.add_argument(
            "--days",
            type=int,
            default=None,
            help="retention in days (default RELIEFOPS_HOUSEHOLD_RETENTION_DAYS, now "
            f"{env('RELIEFOPS_HOUSEHOLD_RETENTION_DAYS')})",
        )
        anonymise.add_argument(
            "--today", type=_date, help="count from this day instead of today (YYYY-MM-DD)"
        )
        anonymise.add_argument(
            "--dry-run", action="store_true", help="say what would be anonymised, change nothing"
        )

        actions.add_parser("counts", help="how many households, people, female-headed, by district and camp")
        actions.add_parser("rounds", help="the distribution rounds with their figures")
        reconcile = actions.add_parser(
            "reconcile", help="a round's figures: entitled, handed over, stock moved, shortfall"
        )
        reconcile.add_argument("round", help="the round's code")

        actions.add_parser("rebuild-keys", help="recompute the blocking keys of every active household")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    # --- writes ----------------------------------------------------------------------------------

    def _user(self, username: str) -> Any:
        model = get_user_model()
        try:
            return model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist as exc:
            raise CommandError(f"no user {username!r}") from exc

    def _import(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        with service_errors(self, options["file"]):
            require(user, Right.REGISTER_HOUSEHOLDS)
            data = read_input_file(options["file"])
            staged = _staged_preview(user, data) if options["commit"] else None
            if staged is not None:
                # The file was checked before and waits: import that check rather than stage
                # another copy of it; the commit checks the file again all the same.
                self._duplicates(staged)
                checked = moment_text(staged.created_at)
                self.stdout.write(
                    f"{options['file']} was checked as import {staged.pk} on {checked}: importing it "
                    "(it is checked again first)."
                )
                self._commit(user, staged, options)
                return
            with command_progress(self, quiet=options["quiet"]) as progress:
                preview = household_import_preview(
                    actor=user, filename=options["file"], content=data, progress=progress
                )
            batch = preview.batch
            if preview.same_as is not None:
                self.stdout.write(preview.message)
                return
            if batch.status == ImportStatus.REFUSED:
                for problem in batch.problems:
                    self.stderr.write(str(Problem(problem["row"], problem["field"], problem["reason"])))
                raise CommandError(
                    f"{options['file']}: {counted(batch.problem_count, 'problem')}; nothing was imported"
                )
            self._duplicates(batch)
            if not options["commit"]:
                self.stdout.write(f"{preview.message} Run again with --commit to import (import {batch.pk}).")
                return
            self._commit(user, batch, options)

    def _duplicates(self, batch: HouseholdImport) -> None:
        for duplicate in batch.duplicates:
            other = (
                f"household {duplicate['household']}"
                if "household" in duplicate
                else f"line {duplicate['other_line']}"
            )
            why = ", ".join(duplicate["reasons"])
            self.stdout.write(f"line {duplicate['line']}: likely {other} (score {duplicate['score']}: {why})")

    def _commit(self, user: Any, batch: HouseholdImport, options: dict[str, Any]) -> None:
        with command_progress(self, quiet=options["quiet"]) as progress:
            result = household_import_commit(actor=user, import_id=batch.pk, progress=progress)
        done = result.batch
        if done.status == ImportStatus.COMMITTED and not result.replayed:
            # The import's number is the one a later upload of the same file is told of.
            households = counted(done.created, "household")
            self.stdout.write(f"Imported {households} from {done.filename} as import {done.pk}.")
        else:
            self.stdout.write(result.message)

    def _correct(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        changes = _changes(options["set_fields"])
        if not changes:
            raise CommandError("give at least one --set FIELD=VALUE")
        seen = [n for n in map(whole_id, options["seen"].split(",")) if n is not None]
        with _refusals_of_household(self, options["household"]):
            household = access_household_to_register(user, options["household"])
            require(user, Right.VIEW_PERSONAL_DATA)
            try:
                result = household_update(
                    actor=user,
                    household_id=household.pk,
                    changes=changes,
                    reason=options["reason"],
                    duplicates_seen=seen,
                    idempotency_key=scoped_key(user, options["key"], field="--key"),
                )
            except DuplicatesFound as exc:
                for match in exc.matches:
                    why = ", ".join(match.reasons)
                    self.stderr.write(f"likely household {match.second_id} (score {match.score}: {why})")
                ids = ",".join(str(m.second_id) for m in exc.matches)
                them = "the household above" if len(exc.matches) == 1 else "the households above"
                which = (
                    "it; if it is another household"
                    if len(exc.matches) == 1
                    else "them; if they are other households"
                )
                raise CommandError(
                    f"household {household.pk} was not corrected: it now looks like {them}. "
                    f"Look at {which}, run again with --seen {ids}"
                ) from exc
        self.stdout.write(result.message)

    def _unlist(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        with _refusals_of_household(self, options["household"]):
            round_obj = _round_by_code(options["round"])
            access_round_by_id(user, round_obj.pk, Right.MANAGE_ROUNDS)
            result = entitlement_cancel(
                actor=user, round_id=round_obj.pk, household_id=options["household"], reason=options["reason"]
            )
        self.stdout.write(result.message)

    def _dedupe(self, options: dict[str, Any]) -> None:
        with service_errors(self), command_progress(self, quiet=options["quiet"]) as progress:
            result = duplicates_run(actor=None, threshold=options["threshold"], progress=progress)
        run, stats = result.run, result.stats
        self.stdout.write(
            f"{counted(stats.households, 'household')}, {counted(stats.compared, 'pair')} compared, "
            f"{counted(stats.found, 'likely pair')} not yet decided, {run.queued:,} new in the review queue "
            f"({run.seconds:.1f} s)."
        )
        if stats.oversized_blocks:
            were = "was" if stats.oversized_blocks == 1 else "were"
            self.stdout.write(
                f"{counted(stats.oversized_blocks, 'blocking key')} shared by too many households {were} not "
                "paired on (two common names in a large tehsil, a phone a whole camp uses)."
            )

    def _anonymise(self, options: dict[str, Any]) -> None:
        days = options["days"] if options["days"] is not None else env("RELIEFOPS_HOUSEHOLD_RETENTION_DAYS")
        with service_errors(self):
            result = households_anonymise(
                actor=None, retention_days=days, today=options["today"], dry_run=options["dry_run"]
            )
        self.stdout.write(result.message)

    def _rebuild_keys(self, options: dict[str, Any]) -> None:
        count = household_keys_rebuild()
        self.stdout.write(f"Blocking keys recomputed for {counted(count, 'active household')}.")

    # --- reports (counts only) ---------------------------------------------------------------------

    def _counts(self, options: dict[str, Any]) -> None:
        counts = selectors.household_counts()
        self.stdout.write(
            f"{counted(counts.active, 'household')} ({counted(counts.members, 'person', 'people')}), "
            f"{counts.female_headed:,} female-headed, {counts.in_camps:,} in camps; "
            f"{counts.merged:,} merged, {counts.anonymised:,} anonymised; "
            f"{counted(counts.pending_pairs, 'likely duplicate pair')} to review."
        )
        for row in counts.by_district:
            code, name = row["origin_district__pcode"], row["origin_district__name"]
            self.stdout.write(f"  {code:<8} {name:<24} {row['households']:>7,} {row['people']:>8,}")
        for row in counts.by_camp:
            self.stdout.write(
                f"  camp     {row['current_site__name']:<24} {row['households']:>7,} {row['people']:>8,}"
            )

    def _rounds(self, options: dict[str, Any]) -> None:
        for row in selectors.rounds_with_counts():
            listed, served = getattr(row, "listed", 0), getattr(row, "handed", 0)  # annotations
            self.stdout.write(
                f"{row.code:<12} {row.status:<8} {row.starts_on} - {row.ends_on}  "
                f"listed {listed:>6,}  served {served:>6,}  {row.name}"
            )

    def _reconcile(self, options: dict[str, Any]) -> None:
        round_obj = _round_by_code(options["round"])
        console = get_user_model()(username="console", is_superuser=True, is_active=True)
        access_round_by_id(console, round_obj.pk)
        report = selectors.round_reconciliation(round_obj)
        self.stdout.write(
            f"{round_obj.code} {round_obj.name}: {report.entitled_households:,} listed, "
            f"{report.served_households:,} served, {report.partly_served_households:,} partly served, "
            f"{report.unserved_households:,} not yet served, "
            f"{counted(len(report.double_receipts), 'double receipt')}."
        )
        self.stdout.write(f"  {'item':<14} {'entitled':>9} {'handed':>9} {'moved':>9} {'short':>7}")
        for item in report.items:
            figures = (
                f"{item.entitled:>9,} {item.handed_over:>9,} {item.stock_moved:>9,} {item.shortfall:>7,}"
            )
            self.stdout.write(f"  {item.item_code:<14} {figures}")
        for handover in report.double_receipts:
            note = handover.double_receipt_note
            self.stdout.write(
                f"  double receipt: handover {handover.pk}, household {handover.household_id}: {note}"
            )
        if not report.agrees_with_ledger:
            raise CommandError("the handovers and the ledger differ: a handover movement was reversed")
