"""What a 4W import reads a file into and answers with: the rows, the parsed report, the changes a
preview lists, the stored state a preview saw, the result; and the refusal of a file's problems."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Max
from django.utils import timezone

from reliefops.cluster.models import ImportBatch
from reliefops.cluster.services import bulk
from reliefops.cluster.sheets import RowProblem
from reliefops.core.errors import InvalidInput, Problem

Actor = AbstractBaseUser | AnonymousUser | None
UPSERT, UPDATE, DELETE = "upsert", "update", "delete"  # as values.read_action reads them
PROBLEMS_SHOWN = 1000
CHANGES_SHOWN = 200


class ReportRow(NamedTuple):
    """One row of a 4W file, its names resolved: what the import compares and stores."""

    line: int
    action: str  # "upsert" (new or correct), "update" (correct a stored row only) or "delete"
    reporting_org_id: int
    row_id: str
    programming_org_id: int | None
    implementing_org_id: int | None
    funding_org_id: int | None
    recipient_org_id: int | None
    activity_id: int | None
    admin_area_id: int | None
    adm1: str
    adm2: str
    adm3: str
    site_id: int | None
    location: str
    status: str
    start_date: dt.date | None
    end_date: dt.date | None
    period: dt.date | None
    quantity: int | None
    households: int | None
    people_female: int | None
    people_male: int | None
    extra: dict[str, str] | None
    digest: str


@dataclass
class ParsedReport:
    """A 4W file read and its names resolved, with every problem found on the way."""

    filename: str
    digest: str
    size_bytes: int
    rows: list[ReportRow]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kept_aside: list[str] = field(default_factory=list)
    sheet: str = ""
    rows_read: int = 0
    labels: dict[str, str] = field(default_factory=dict)  # field -> the column as the file names it
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step of the reading
    # The organisation chosen for the upload: the reporting organisation of the rows that name none.
    reporting_default: int | None = None
    # Rows of the file written ahead into side files, for a faster insert (see bulk.SideRows).
    sides: list[bulk.SideRows] = field(default_factory=list, compare=False, repr=False)
    # The values the file has no column for at all (keys of KEPT_AS_STORED): a row it updates keeps
    # them as stored. Decided once for the file; empty (the usual file) costs nothing.
    absent: tuple[str, ...] = ()
    # The distinct values of each foreign key column of `rows` (column -> values), gathered while
    # the rows were read by two processes, each of its own part: what checking the keys the rows
    # write looks up, without a pass over a million rows. None: not gathered.
    key_values: dict[str, set[Any]] | None = field(default=None, compare=False, repr=False)

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def close(self) -> None:
        """Let go of the side files, if any (once the import is over, committed or not)."""
        for side in self.sides:
            side.discard()
        self.sides = []


@dataclass(frozen=True)
class RowChange:
    """What an upload does to one row (the first ones are listed in a preview)."""

    line: int
    reporting_org_id: int
    row_id: str
    kind: str  # "add", "update", "withdraw"
    fields: tuple[tuple[str, str, str], ...] = ()  # (field, before, after) of an update
    # An added row's values as read, to look at before applying ("TENTS at PK52201, completed,
    # 2006-03-01 to 2006-03-20, quantity 120, 120 households"); a withdrawn row's as stored.
    values: str = ""

    def described(self, arrow: str = "→", empty: str = "—") -> str:
        """An added or withdrawn row's values, or an update's changes with readable field names
        ("funding organisation: NRC → UNHCR; women reached: 200 → —")."""
        if self.values:
            return self.values
        return "; ".join(
            f"{FIELD_LABELS.get(name, name)}: {before or empty} {arrow} {after or empty}"
            for name, before, after in self.fields
        )


# What the previews call the fields an update changes (the API keeps the keys: `funding_org`).
FIELD_LABELS = {
    "programming_org": "programming organisation",
    "implementing_org": "implementing organisation",
    "funding_org": "funding organisation",
    "recipient_org": "handed to partner",
    "activity": "activity",
    "admin_area": "admin area",
    "site": "site",
    "location": "place or site",
    "status": "status",
    "start_date": "start date",
    "end_date": "end date",
    "quantity": "quantity",
    "households": "households",
    "people_female": "women reached",
    "people_male": "men reached",
    "extra": "columns kept aside",
}

# The values a file may have no column for, by the reader's name of the column (or "extra": no
# column kept aside), with the fields of a row they hold: a row the file updates keeps them as
# stored. (The activity, the place and the status are columns every file must have.)
KEPT_AS_STORED: dict[str, tuple[str, ...]] = {
    "programming": ("programming_org_id",),
    "implementing": ("implementing_org_id",),
    "funding": ("funding_org_id",),
    "recipient": ("recipient_org_id",),
    "location": ("location", "site_id"),
    "start": ("start_date",),
    "end": ("end_date",),
    "quantity": ("quantity",),
    "households": ("households",),
    "people_female": ("people_female",),
    "people_male": ("people_male",),
    "extra": ("extra",),
}


def row_fingerprint(row: ReportRow) -> str:
    """The fingerprint of a row's values, to see a stored row unchanged: equal values, equal
    fingerprint. (The reader makes the same text faster, row by row; see the importer's finish().)"""
    orgs = (row.programming_org_id, row.implementing_org_id, row.funding_org_id, row.recipient_org_id)
    values = (
        orgs, row.activity_id, row.admin_area_id, row.site_id, row.location, row.status,
        row.start_date.isoformat() if row.start_date else "",
        row.end_date.isoformat() if row.end_date else "",
        row.quantity, row.households, row.people_female, row.people_male,
        tuple(sorted(row.extra.items())) if row.extra else None,
    )  # fmt: skip
    return hashlib.blake2b(repr(values).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class StoredState:
    """The stored rows as a preview compared the file with: the latest batch and the latest revert
    then, and when. Its apply is refused when a batch touching the same organisations' rows was
    committed or reverted since (the preview would no longer say what the apply does)."""

    last_batch_id: int
    at: dt.datetime
    # None for a preview recorded before reverts were numbered: its apply compares clock times.
    last_revert: int | None = None

    @classmethod
    def now(cls) -> StoredState:
        latest = ImportBatch.objects.aggregate(batch=Max("id"), revert=Max("revert_number"))
        return cls(last_batch_id=latest["batch"] or 0, at=timezone.now(), last_revert=latest["revert"] or 0)

    def as_params(self) -> dict[str, Any]:
        return {
            "seen_batch": self.last_batch_id,
            "seen_at": self.at.isoformat(),
            "seen_revert": self.last_revert,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> StoredState | None:
        if "seen_batch" not in params or "seen_at" not in params:
            return None
        revert = params.get("seen_revert")
        return cls(
            last_batch_id=int(params["seen_batch"]),
            at=dt.datetime.fromisoformat(params["seen_at"]),
            last_revert=int(revert) if revert is not None else None,
        )


@dataclass
class ReportImportResult:
    preview: bool
    filename: str
    digest: str
    sheet: str
    rows_read: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    batch_id: int | None = None
    previous_batch_id: int | None = None  # an earlier batch of the very same file
    changes: list[RowChange] = field(default_factory=list)
    kept_aside: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Rows of the upload (added or updated) that the programming / implementing partner rule sets
    # aside once it is applied: each counted in its implementing partner's own row.
    set_aside: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for the curious
    # The stored rows as a preview saw them: its apply checks that no batch changed them since.
    seen: StoredState | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.withdrawn)

    def counts(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.withdrawn} withdrawn, "
            f"{self.unchanged} unchanged"
        )

    def set_aside_note(self) -> str:
        """What the double-counting rule made of the upload's rows, when it set any aside."""
        count, written = self.set_aside, self.added + self.updated
        if not count:
            return ""
        if count == written:
            which = "the row" if count == 1 else f"all {count:,} rows"
        else:
            which = f"{count:,} of the {written:,} rows"
        verb, pronoun = ("is", "it") if count == 1 else ("are", "each")
        return (
            f"{which} this upload added or updated {verb} set aside: {pronoun} is counted in its "
            "implementing partner's own row (the double-counting rule)"
        )

    def summary(self) -> str:
        """One sentence on what the upload did (or would do)."""
        if not self.changed:
            earlier = (
                f" (this file was imported as batch {self.previous_batch_id})"
                if self.previous_batch_id
                else ""
            )
            return f"Nothing to change: every row of the file is as stored{earlier}. Nothing was written."
        if self.preview:
            return f"Preview: {self.counts()}. Nothing is written until the upload is committed."
        return f"Batch {self.batch_id}: {self.counts()}."


def _sorted(problems: Sequence[Problem]) -> list[Problem]:
    ordered = sorted(problems, key=lambda p: p.row if p.row is not None else 0)
    if len(ordered) > PROBLEMS_SHOWN:
        rest = len(ordered) - PROBLEMS_SHOWN
        ordered = [*ordered[:PROBLEMS_SHOWN], RowProblem(None, "file", f"… and {rest:,} more problems")]
    return ordered


def refuse(problems: Sequence[Problem]) -> None:
    if problems:
        count = len(problems)
        raise InvalidInput(
            _sorted(problems), summary=f"{count:,} problem{'s' if count != 1 else ''}; nothing was written"
        )


def month_label(month: dt.date) -> str:
    return f"{month:%Y-%m}"
