"""Importing a registration file in two steps: check and preview, then import all or nothing.

The preview checks every row (each bad value is reported with its line, field and reason) and lists
the likely duplicates — rows of the file against each other and against the registry. Nothing is
registered until the person who looked at the preview commits it; the commit checks the file again
(the registry may have changed since) and registers every household or none. A file with the same
content as one imported before (its SHA-256 digest) is not imported again: rows without an
identity document would otherwise be registered twice. The same file checked again by the same
person while its check still waits to be imported (a second click, the command run twice) keeps no
second copy: that check is made again and answered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from reliefops.core.errors import Conflict, InvalidInput, NotFound, Problem
from reliefops.core.locks import transaction_lock
from reliefops.core.services import audit_record, stored_user
from reliefops.core.text import counted, moment_text
from reliefops.households.importers import parse_households
from reliefops.households.models import HouseholdImport, ImportStatus
from reliefops.households.selectors import waiting_checks
from reliefops.households.services.registration import (
    Draft,
    Lookups,
    document_holder,
    document_key,
    file_matches,
    household_check,
    households_register_many,
)

MAX_ROWS = 20_000
MAX_BYTES = 20 * 1024 * 1024
# A refused file keeps (and its job and page show) its first problems by line, then how many more:
# a file of 20,000 bad rows has hundreds of thousands, which no page or answer can carry.
PROBLEMS_KEPT = 1000
# (stage, done, total), as core.jobs reports it; None reports nothing.
Progress = Callable[[str, int, int], None] | None


def problems_kept(problems: list[Problem]) -> list[Problem]:
    """The first PROBLEMS_KEPT problems (sorted by line), then one saying how many more there are."""
    if len(problems) <= PROBLEMS_KEPT:
        return problems
    rest = len(problems) - PROBLEMS_KEPT
    return [*problems[:PROBLEMS_KEPT], Problem(None, "file", f"… and {rest:,} more problems")]


def _check_file(
    data: bytes, filename: str, progress: Progress = None
) -> tuple[list[tuple[int, Draft]], list[Problem]]:
    if progress:
        progress("reading the file", 0, 0)
    try:
        rows, problems = parse_households(data, filename)
    except InvalidInput as exc:
        return [], list(exc.problems)
    if len(rows) > MAX_ROWS:
        return [], [
            Problem(None, "file", f"{len(rows)} rows; split the file into parts of at most {MAX_ROWS}")
        ]
    lookups = Lookups.load()
    drafts: list[tuple[int, Draft]] = []
    bad_lines = {p.row for p in problems}
    seen: dict[tuple[str, str], int] = {}
    for done, (line, data_row) in enumerate(rows):
        if progress:
            progress("checking rows", done, len(rows))
        draft, row_problems = household_check(data_row, lookups=lookups, row=line)
        # The identity document is checked whatever else is wrong with the row: every problem of a
        # file is listed at once, so that one correction of the file is enough.
        key = document_key(data_row)
        if key is not None:
            first = seen.setdefault(key, line)
            if first != line:
                row_problems.append(
                    Problem(line, "document_number", f"the same identity document as line {first}")
                )
            holder = document_holder(*key)
            if holder is not None:
                row_problems.append(
                    Problem(line, "document_number", f"already registered to household {holder}")
                )
        problems += row_problems
        if draft is not None and not row_problems and line not in bad_lines:
            drafts.append((line, draft))
    if progress:
        progress("checking rows", len(rows), len(rows))
    problems.sort(key=lambda p: (p.row or 0, p.field))
    return drafts, problems


def _duplicates(drafts: list[tuple[int, Draft]], progress: Progress = None) -> list[dict[str, Any]]:
    """Likely duplicates of the file's rows, as the commit seeks them: against the registry (the
    three likeliest of each row), and against other rows."""
    matches = file_matches(drafts, progress, limit=3)
    found: list[dict[str, Any]] = []
    for (line, _), registry in zip(drafts, matches.registry, strict=True):
        for match in registry:
            found.append(
                {
                    "line": line,
                    "household": match.second_id,
                    "score": match.score,
                    "reasons": list(match.reasons),
                }
            )
    for one, other, match in matches.within:
        first, second = sorted((drafts[one][0], drafts[other][0]))
        found.append(
            {"line": second, "other_line": first, "score": match.score, "reasons": list(match.reasons)}
        )
    found.sort(key=lambda d: (d["line"], -d["score"]))
    return found


def same_file_imported(batch: HouseholdImport) -> HouseholdImport | None:
    """The earlier import of a file with the same content, if one was imported (committed)."""
    if not batch.digest:
        return None
    return _first_imported(batch.digest, besides=batch.pk)


def _first_imported(digest: str, besides: int | None = None) -> HouseholdImport | None:
    """The first committed import of the file with this digest (other than import `besides`)."""
    imports = HouseholdImport.objects.filter(digest=digest, status=ImportStatus.COMMITTED)
    if besides is not None:
        imports = imports.exclude(pk=besides)
    return imports.order_by("committed_at", "pk").first()


def same_file_message(batch: HouseholdImport, earlier: HouseholdImport, *, committing: bool = False) -> str:
    """What a file imported before is told: which import, when; and that nothing is imported again."""
    when = ""
    if earlier.committed_at:
        when = moment_text(earlier.committed_at)
    then = "nothing was imported again" if committing else "importing it again changes nothing"
    return (
        f"{batch.filename} is the same file as import {earlier.pk} ({earlier.filename}), imported on "
        f"{when} ({counted(earlier.created, 'household')}): {then}."
    )


@dataclass(frozen=True)
class ImportResult:
    batch: HouseholdImport
    replayed: bool = False
    same_as: HouseholdImport | None = None  # an earlier import of the same file
    # A preview answered with the same person's check of the same file, waiting to be imported.
    repeated: bool = False

    @property
    def message(self) -> str:
        """What the preview or commit says, each count with its noun as it reads ("1 household is
        ready", "2 households are")."""
        batch = self.batch
        if self.same_as is not None and batch.status != ImportStatus.COMMITTED:
            return same_file_message(batch, self.same_as, committing=self.replayed)
        if batch.status == ImportStatus.REFUSED:
            return f"{counted(batch.problem_count, 'problem')} in {batch.filename}; nothing was imported."
        households = counted(batch.created, "household")
        if batch.status == ImportStatus.COMMITTED:
            if self.replayed:
                return f"{batch.filename} was imported already ({households}): nothing changed."
            return f"Imported {households} from {batch.filename}."
        ready = "is" if batch.rows == 1 else "are"
        waiting = ""
        if self.repeated:
            waiting = f"This file waits to be imported already, as import {batch.pk}; checked again: "
        return (
            f"{waiting}{counted(batch.rows, 'household')} in {batch.filename} {ready} ready to import; "
            f"{counted(len(batch.duplicates), 'likely duplicate')} to look at first."
        )


def household_import_preview(
    *,
    actor: Any,
    filename: str,
    content: bytes,
    progress: Progress = None,
    before_commit: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Check a registration file and keep it for import; a file with any problem is refused whole.
    `before_commit(result)`, if given, is called inside the transaction that records the check,
    just before its commit (a job's end goes in with it)."""
    name = (filename or "households.csv").strip()[:200]
    if len(content) > MAX_BYTES:
        raise InvalidInput([Problem(None, "file", f"larger than {MAX_BYTES // 1024 // 1024} MB; split it")])
    digest = hashlib.sha256(content).hexdigest()
    earlier = _first_imported(digest)
    # The households of a file imported before are registered already: the file is not checked again
    # (its rows would be refused as, or look like, themselves) and cannot be imported.
    drafts, problems = _check_file(content, name, progress) if earlier is None else ([], [])
    duplicates = _duplicates(drafts, progress) if not problems and earlier is None else []
    with transaction.atomic():
        staged = _staged_by(actor, digest) if not problems and earlier is None else None
        if staged is not None:
            # The same person's check of this file still waits to be imported: it is answered, with
            # the likely duplicates as they are now, rather than a second copy of the file kept.
            staged.rows = len(drafts)
            staged.duplicates = duplicates
            staged.save(update_fields=["rows", "duplicates"])
            audit_record(
                actor=actor,
                action="household.import_preview",
                object_type="household_import",
                object_id=staged.pk,
                after={
                    "status": staged.status,
                    "rows": staged.rows,
                    "problems": 0,
                    "duplicates": len(duplicates),
                    "repeated": True,
                },
            )
            result = ImportResult(staged, repeated=True)
            if before_commit is not None:
                before_commit(result)
            return result
        batch = HouseholdImport.objects.create(
            created_by=stored_user(actor),
            filename=name,
            digest=digest,
            # A refused file is not kept: it holds personal data and cannot be imported; nor is one
            # imported before.
            content=b"" if problems or earlier is not None else content,
            status=ImportStatus.REFUSED if problems else ImportStatus.PREVIEWED,
            rows=len(drafts) if not problems else 0,
            problems=[{"row": p.row, "field": p.field, "reason": p.reason} for p in problems_kept(problems)],
            problem_count=len(problems),
            duplicates=duplicates,
        )
        audit_record(
            actor=actor,
            action="household.import_preview",
            object_type="household_import",
            object_id=batch.pk,
            after={
                "status": batch.status,
                "rows": batch.rows,
                "problems": len(problems),
                "duplicates": len(duplicates),
                "same_file_as": earlier.pk if earlier is not None else None,
            },
        )
        result = ImportResult(batch, same_as=earlier)
        if before_commit is not None:
            before_commit(result)
    return result


def _staged_by(actor: Any, digest: str) -> HouseholdImport | None:
    """The actor's own check of the file with this digest that waits to be imported (previewed, its
    content kept), locked for this transaction; None for an actor who is not a signed-in user."""
    user = stored_user(actor)
    if user is None:
        return None
    # Two checks of one file by one person at the same moment (two clicks, two requests) follow one
    # another, so that the second finds the first's (PostgreSQL; SQLite's write lock does this).
    transaction_lock(f"households.import:{user.pk}:{digest}")
    return waiting_checks(digest).select_for_update().filter(created_by=user).first()


def household_import_commit(
    *,
    actor: Any,
    import_id: int,
    progress: Progress = None,
    before_commit: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Register every household of a previewed file, or none; a second commit changes nothing, and
    neither does the commit of a file whose content was imported before. `before_commit(result)`,
    if given, is called with the households written, inside their transaction, just before the
    commit (a job's end goes in with them).

    The file is checked again and its likely duplicates sought before the transaction that writes
    the households: both only read, and take most of the time (about 10 ms a household). On SQLite,
    whose write lock stops every other writer, the lock is then held only while the households are
    written; the identity documents are checked again under it, and households registered
    meanwhile are sought among the file's (see `households_register_many`)."""
    batch = HouseholdImport.objects.filter(pk=import_id).first()
    if batch is None:
        raise NotFound(f"no household import {import_id}")
    ready = _commit_answer(batch)
    if ready is not None:
        return ready
    drafts, problems = _check_file(bytes(batch.content), batch.filename, progress)
    if problems:
        raise InvalidInput(
            problems_kept(problems), summary=f"{counted(len(problems), 'problem')} now; nothing was imported"
        )
    matches = file_matches(drafts, progress)
    if progress:
        # Told before the transaction: a job's progress is written by its own connection only once
        # this one lets it (on SQLite, when the write lock is free), and the writing takes a while.
        progress("registering the households", 0, 0)
    with transaction.atomic():
        digest = HouseholdImport.objects.filter(pk=import_id).values_list("digest", flat=True).first()
        if digest:
            # Every upload of the same content, in one order: two commits of one file run one by one.
            list(
                HouseholdImport.objects.select_for_update().filter(digest=digest).order_by("pk").values("pk")
            )
        batch = HouseholdImport.objects.select_for_update().filter(pk=import_id).first()
        if batch is None:
            raise NotFound(f"no household import {import_id}")
        # Committed by another request, or cleared, while this one checked the file (the content
        # of a preview is never rewritten, only cleared).
        ready = _commit_answer(batch)
        if ready is not None:
            return ready
        households = households_register_many(
            actor=actor, drafts=drafts, import_batch_id=batch.pk, matches=matches
        )
        batch.status = ImportStatus.COMMITTED
        batch.committed_at = timezone.now()
        batch.created = len(households)
        batch.content = b""
        batch.save(update_fields=["status", "committed_at", "created", "content"])
        result = ImportResult(batch)
        if before_commit is not None:
            before_commit(result)
    return result


def _commit_answer(batch: HouseholdImport) -> ImportResult | None:
    """What a commit of this import answers without importing anything (a replay), or None when
    it is to be imported; Conflict when it cannot be."""
    if batch.status == ImportStatus.COMMITTED:
        return ImportResult(batch, replayed=True)
    if batch.status == ImportStatus.REFUSED:
        raise Conflict(f"{batch.filename} was refused for its problems; correct the file and upload it again")
    earlier = same_file_imported(batch)
    if earlier is not None:
        return ImportResult(batch, replayed=True, same_as=earlier)
    if not batch.content:
        raise Conflict(f"{batch.filename} was not imported in time and has been cleared; upload it again")
    return None
