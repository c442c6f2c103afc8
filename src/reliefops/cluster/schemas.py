"""API schemas of the cluster: uploads and their outcome, rows, batches, the gap table, the 4W
matrix, the totals, needs, activity types and reporting periods."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import field_validator, model_validator
from pydantic_core import PydanticCustomError

from reliefops.cluster.models import NOTE_MAX, ActivityRow, ActivityStatus, ImportBatch
from reliefops.cluster.services.report_types import CHANGES_SHOWN
from reliefops.cluster.values import STATUS_WORDS
from reliefops.core.api import BodyIn, IdOrText

MONTH = "A month, `2005-11`, or a day of it (`2005-11-20`)."
# Said as it is, not after pydantic's "Value error, ".
ONE_CONTENT = "send the file as `content_base64` or as `content`, one of the two"


class UploadIn(BodyIn):
    filename: str = Field(
        description="The file's name; its suffix tells CSV (`.csv`) from a workbook (`.xlsx`, `.ods` ...).",
        max_length=255,
    )
    content_base64: str | None = Field(None, description="The file's bytes, base64-encoded (any format).")
    content: str | None = Field(None, description="The file's text (CSV only), instead of `content_base64`.")
    reporting_organisation: IdOrText | None = Field(
        None,
        description="Whose report it is (name, acronym or id). A partner reporter's own organisation "
        "when left out. For a coordinator, the reporting organisation of the rows whose "
        "`#org+reporting` is empty (a row that names its own keeps it, the preview's notes say so, and a "
        "file whose every row names another is refused with 422); left out, each row's "
        "`#org+reporting`, else its programming organisation.",
    )
    preview: bool = Field(False, description="Check the file and say what would change; write nothing.")

    @model_validator(mode="after")
    def one_content(self) -> UploadIn:
        if (self.content_base64 is None) == (self.content is None):
            raise PydanticCustomError("content", ONE_CONTENT)
        return self

    def data(self) -> bytes:
        if self.content is not None:
            return self.content.encode("utf-8")
        try:
            return base64.b64decode(self.content_base64 or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("content_base64 is not base64") from exc


class RowChangeOut(Schema):
    row: int = Field(description="The row of the file.")
    row_id: str = Field(description="The partner's row id.")
    change: str = Field(description="`add`, `update` or `withdraw`.")
    fields: list[list[str]] = Field(
        description="For an update: [field, before, after] of each changed value."
    )
    values: str = Field(
        "",
        description=(
            "For an add: the row's values as read (activity at P-code, status, dates, quantity, "
            "households), to check before applying; for a withdrawal: the row's values as stored."
        ),
    )


class UploadOut(Schema):
    preview: bool = Field(description="True when nothing was written (a preview).")
    changed: bool = Field(description="Whether the upload changes (or changed) anything.")
    summary: str = Field(description="One sentence on what the upload did or would do.")
    batch_id: int | None = Field(
        description="The batch the upload was recorded as; null for a preview or no change."
    )
    previous_batch_id: int | None = Field(description="An earlier batch of the very same file, if any.")
    digest: str = Field(description="SHA-256 of the file.")
    sheet: str = Field(description="The worksheet read, for a workbook.")
    rows_read: int = Field(description="Data rows read from the file.")
    added: int = Field(description="Rows added.")
    updated: int = Field(description="Rows updated (a new version of each).")
    withdrawn: int = Field(description="Rows withdrawn (marked deleted).")
    unchanged: int = Field(description="Rows as stored, left alone.")
    set_aside: int = Field(
        description="Rows the upload added or updated that the double-counting rule sets aside, each "
        "counted in its implementing partner's own row; 0 for a preview."
    )
    kept_aside: list[str] = Field(description="Columns outside the 4W schema, kept with each row.")
    notes: list[str] = Field(
        description="How the file was read (sheet, encoding, day order of dates …), and the rows the "
        "double-counting rule set aside."
    )
    changes: list[RowChangeOut] = Field(
        description=f"The first changes, row by row: at most {CHANGES_SHOWN} (`changes_total` says how many "
        "there are)."
    )
    changes_total: int = Field(description="How many changes the upload makes: added + updated + withdrawn.")
    changes_truncated: bool = Field(description="True when `changes` lists only the first of them.")


def upload_out(result: Any) -> UploadOut:
    return UploadOut(
        preview=result.preview,
        changed=result.changed,
        summary=result.summary(),
        batch_id=result.batch_id,
        previous_batch_id=result.previous_batch_id,
        digest=result.digest,
        sheet=result.sheet,
        rows_read=result.rows_read,
        added=result.added,
        updated=result.updated,
        withdrawn=result.withdrawn,
        unchanged=result.unchanged,
        set_aside=result.set_aside,
        kept_aside=result.kept_aside,
        notes=result.notes,
        changes=[
            RowChangeOut(
                row=c.line,
                row_id=c.row_id,
                change=c.kind,
                fields=[list(f) for f in c.fields],
                values=c.values,
            )
            for c in result.changes
        ],
        changes_total=result.added + result.updated + result.withdrawn,
        changes_truncated=len(result.changes) < result.added + result.updated + result.withdrawn,
    )


class RowFilter(Schema):
    activity: str | None = Field(None, description="Only this activity, by code (`TENTS`).")
    within: str | None = Field(None, description="Only rows in the area with this P-code or below it.")
    organisation: str | None = Field(
        None, description="Only rows reported by this organisation (acronym or name)."
    )
    status: ActivityStatus | None = Field(None, description="Only rows of this status.")
    period_from: str | None = Field(None, description="Only rows of this reporting month or later. " + MONTH)
    period_to: str | None = Field(None, description="Only rows of this reporting month or earlier. " + MONTH)
    batch: int | None = Field(None, description="Only rows added by this batch.")
    withdrawn: bool = Field(False, description="Rows withdrawn by their partner instead of live ones.")

    @field_validator("status", mode="before")
    @classmethod
    def status_named(cls, value: Any) -> Any:
        """A status in any case; another word is refused in the uploads' words, with the status it
        may mean ('done': did you mean completed?)."""
        if not isinstance(value, str) or not value.strip():
            return value or None
        text = value.strip().lower()
        if text in ActivityStatus.values:
            return text
        meant = STATUS_WORDS.get(text)
        hint = f"; did you mean {meant.value}?" if meant is not None else ""
        raise PydanticCustomError(
            "status",
            "'{value}' is not a status (planned, ongoing or completed){hint}",
            {"value": value, "hint": hint},
        )


def _org(value: Any) -> str | None:
    return str(value) if value is not None else None


class RowOut(Schema):
    id: int = Field(description="Record id.")
    row_id: str = Field(description="The partner's own row id.")
    reporting_organisation: str = Field(description="Who reports the row (it owns the row id).")
    programming_organisation: str = Field(description="The accountable organisation.")
    implementing_organisation: str = Field(description="Who does the work.")
    funding_organisation: str | None = Field(description="Who pays for it.")
    handed_to: str | None = Field(description="Pipeline: the partner the items were handed to.")
    activity: str = Field(description="Activity code.")
    pcode: str = Field(description="P-code of the row's admin area.")
    adm1: str = Field(description="P-code of the row's province.")
    adm2: str = Field(description="P-code of the row's district (empty for a province-wide row).")
    adm3: str = Field(description="P-code of the row's tehsil (empty for a district-wide row).")
    location: str = Field(description="The place or site as the partner wrote it.")
    status: ActivityStatus = Field(description="planned, ongoing or completed.")
    start_date: dt.date | None = Field(description="When the activity starts.")
    end_date: dt.date | None = Field(description="When it ends (its month is the reporting month).")
    period: dt.date = Field(description="The reporting month (first day).")
    quantity: int | None = Field(description="In the activity's unit.")
    households: int | None = Field(
        description="Households reached (completed) or targeted (planned, ongoing)."
    )
    people_female: int | None = Field(description="Women and girls.")
    people_male: int | None = Field(description="Men and boys.")
    counted: str = Field(
        description="`reached`/`targeted` (counted), `pipeline` (handed to a partner), `set_aside` "
        "(counted in the implementing partner's own row) or `withdrawn`."
    )
    counted_in: int | None = Field(description="The row that counts this one, when set aside.")
    batch_id: int = Field(description="The batch that added this version.")
    extra: dict[str, str] | None = Field(description="The file's columns outside the 4W schema.")

    @staticmethod
    def resolve_reporting_organisation(obj: ActivityRow) -> str:
        return str(obj.reporting_org)

    @staticmethod
    def resolve_programming_organisation(obj: ActivityRow) -> str:
        return str(obj.programming_org)

    @staticmethod
    def resolve_implementing_organisation(obj: ActivityRow) -> str:
        return str(obj.implementing_org)

    @staticmethod
    def resolve_funding_organisation(obj: ActivityRow) -> str | None:
        return _org(obj.funding_org)

    @staticmethod
    def resolve_handed_to(obj: ActivityRow) -> str | None:
        return _org(obj.recipient_org)

    @staticmethod
    def resolve_activity(obj: ActivityRow) -> str:
        return obj.activity.code

    @staticmethod
    def resolve_pcode(obj: ActivityRow) -> str:
        return obj.admin_area.pcode

    @staticmethod
    def resolve_counted(obj: ActivityRow) -> str:
        if obj.withdrawn:
            return "withdrawn"
        if obj.recipient_org_id is not None:
            return "pipeline"
        if obj.counted_in_id is not None:
            return "set_aside"
        return "reached" if obj.status == ActivityStatus.COMPLETED else "targeted"

    @staticmethod
    def resolve_counted_in(obj: ActivityRow) -> int | None:
        return obj.counted_in_id


class BatchOut(Schema):
    id: int = Field(description="Record id.")
    created_at: dt.datetime = Field(description="When the batch was committed.")
    created_by: str = Field(description="Username, or `system` for loaders.")
    organisation: str | None = Field(
        description="The reporting organisation when the file was one organisation's."
    )
    filename: str = Field(description="The uploaded file's name.")
    digest: str = Field(description="SHA-256 of the file.")
    size_bytes: int = Field(description="The file's size.")
    sheet: str = Field(description="The worksheet read, for a workbook.")
    rows_read: int = Field(description="Data rows read from the file.")
    added: int = Field(description="Rows added.")
    updated: int = Field(description="Rows updated (a new version of each).")
    withdrawn: int = Field(description="Rows withdrawn (marked deleted).")
    unchanged: int = Field(description="Rows as stored, left alone.")
    kept_aside: list[str] = Field(description="Columns outside the 4W schema, kept with each row.")
    notes: list[str] = Field(description="How the file was read.")
    reverted_at: dt.datetime | None = Field(description="When the batch was reverted; null while it stands.")
    reverted_by: str = Field(description="Who reverted it.")

    @staticmethod
    def resolve_created_by(obj: ImportBatch) -> str:
        return obj.created_by_label

    @staticmethod
    def resolve_organisation(obj: ImportBatch) -> str | None:
        return _org(obj.organisation)

    @staticmethod
    def resolve_reverted_by(obj: ImportBatch) -> str:
        return obj.reverted_by_label


class RevertOut(Schema):
    batch_id: int = Field(description="The batch reverted.")
    removed: int = Field(description="Row versions the batch had added, now removed.")
    restored: int = Field(description="Row versions the batch had replaced or withdrawn, current again.")


class SelectionIn(Schema):
    level: str = Field("district", description="`province`, `district` or `tehsil`.")
    activity: str | None = Field(None, description="One activity by code (`TENTS`); all when left out.")
    period_from: str | None = Field(None, description="First reporting month. " + MONTH)
    period_to: str | None = Field(None, description="Last reporting month. " + MONTH)
    within: str | None = Field(
        None, description="Only the areas within this P-code (a province for districts …)."
    )


class GapRowOut(Schema):
    pcode: str = Field(description="P-code of the area.")
    name: str = Field(description="Name.")
    parent_pcode: str = Field(description="P-code of the area above.")
    parent_name: str = Field(description="Name of the area above.")
    whole_area: bool = Field(
        description="Rows reported for the parent area as a whole, not for one of its parts."
    )
    activity: str = Field(description="Activity code.")
    unit: str = Field(description="What the quantities count.")
    households_in_need: int | None = Field(description="Households in need of shelter (the baseline).")
    need_illustrative: bool = Field(
        description="The need was derived for a scenario, not taken from a source."
    )
    households_targeted: int = Field(description="Households of planned and ongoing rows.")
    households_reached: int = Field(
        description="Households of completed rows, after the double-counting rules."
    )
    coverage: float | None = Field(description="Reached / in need.")
    gap: int | None = Field(description="In need - reached, never below zero.")
    quantity_targeted: int = Field(description="Quantity of planned and ongoing rows.")
    quantity_reached: int = Field(description="Quantity of completed rows, after the double-counting rules.")
    quantity_to_partners: int = Field(description="Items handed to partners (pipeline), not reached.")
    partners: int = Field(description="Implementing organisations.")
    rows: int = Field(description="4W rows behind the figures.")


class AreaNeedOut(Schema):
    pcode: str = Field(description="P-code of the area.")
    name: str = Field(description="Name.")
    households_in_need: int | None = Field(description="Households in need of shelter (the baseline).")


class GapsOut(Schema):
    selection: str = Field(description="What the figures cover: level, activity, area, months.")
    needs_illustrative: bool = Field(description="Some needs shown are illustrative.")
    rows: list[GapRowOut] = Field(description="One row per area (and activity).")
    no_partner: list[AreaNeedOut] = Field(description="Areas of the level with no partner at all.")


class MatrixEntryOut(Schema):
    organisation: str = Field(description="Implementing organisation.")
    pcode: str = Field(description="P-code of the area.")
    area: str = Field(description="Name of the area.")
    activity: str = Field(description="Activity code.")
    rows: int = Field(description="4W rows behind the figures.")
    households_reached: int = Field(
        description="Households of completed rows, after the double-counting rules."
    )
    quantity_reached: int = Field(description="Quantity of completed rows, after the double-counting rules.")


class MatrixOut(Schema):
    selection: str = Field(description="What the figures cover: level, activity, area, months.")
    entries: list[MatrixEntryOut] = Field(description="Organisation x area x activity.")


class ActivityTotalOut(Schema):
    code: str = Field(description="Activity code.")
    name: str = Field(description="Activity name.")
    unit: str = Field(description="What the quantities count.")
    quantity_reached: int = Field(description="Quantity of completed rows, after the double-counting rules.")
    households_reached: int = Field(
        description="Households of completed rows, after the double-counting rules."
    )
    quantity_targeted: int = Field(description="Quantity of planned and ongoing rows.")
    quantity_to_partners: int = Field(description="Items handed to partners (pipeline), not reached.")
    quantity_as_reported: int = Field(description="Completed rows summed as reported, before the rules.")
    rows: int = Field(description="4W rows behind the figures.")
    rows_set_aside: int = Field(description="Rows counted in the implementing partner's own row.")


class TotalsOut(Schema):
    figures: dict[str, int] = Field(
        description="The cluster's headline figures by their published keys (`tents_delivered`, …)."
    )
    activities: list[ActivityTotalOut] = Field(description="Per activity, before and after the rules.")


class ActivityTypeOut(Schema):
    code: str = Field(description="Activity code, e.g. `TENTS`.")
    name: str = Field(description="Activity name.")
    unit: str = Field(description="What the quantities count.")
    item: str | None = Field(description="Catalogue item code, when the activity hands out one.")
    aliases: list[str] = Field(description="Other names partners write for it.")

    @staticmethod
    def resolve_item(obj: Any) -> str | None:
        return obj.item.code if obj.item is not None else None


class NeedsOut(Schema):
    pcode: str = Field(description="P-code of the area.")
    name: str = Field(description="Name.")
    level: str = Field(description="Admin level of the area.")
    population: int | None = Field(description="People living in the area.")
    households: int | None = Field(
        description="Households reached (completed) or targeted (planned, ongoing)."
    )
    houses_destroyed: int | None = Field(description="Houses destroyed.")
    houses_damaged: int | None = Field(description="Houses damaged.")
    households_in_need: int | None = Field(description="Households in need of shelter (the baseline).")
    elevation_band: str = Field(
        description="low (below 5,000 ft), middle (5,000 to 7,000 ft) or high (above 7,000 ft)."
    )
    illustrative: bool = Field(description="Derived for a scenario, not taken from a source.")
    source: str = Field(description="Where the figures come from.")

    @staticmethod
    def resolve_pcode(obj: Any) -> str:
        return str(obj.admin_area.pcode)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.admin_area.name)

    @staticmethod
    def resolve_level(obj: Any) -> str:
        return str(obj.admin_area.level)


class NeedsUploadIn(BodyIn):
    filename: str = Field(
        description="The file's name; its suffix tells CSV (`.csv`) from a workbook (`.xlsx`, `.ods` ...).",
        max_length=255,
    )
    content_base64: str | None = Field(None, description="The file's bytes, base64-encoded (any format).")
    content: str | None = Field(None, description="The file's text (CSV only), instead of `content_base64`.")
    preview: bool = Field(False, description="Check the file and say what would change; write nothing.")

    @model_validator(mode="after")
    def one_content(self) -> NeedsUploadIn:
        if (self.content_base64 is None) == (self.content is None):
            raise PydanticCustomError("content", ONE_CONTENT)
        return self

    def data(self) -> bytes:
        if self.content is not None:
            return self.content.encode("utf-8")
        try:
            return base64.b64decode(self.content_base64 or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("content_base64 is not base64") from exc


class NeedsChangeOut(Schema):
    pcode: str = Field(description="P-code of the area.")
    change: str = Field(description="`created`, or what changed (`households_in_need: 900 -> 1200`).")


class NeedsUploadOut(Schema):
    preview: bool = Field(description="True when nothing was written (a preview).")
    changed: bool = Field(description="Whether the file changes (or changed) any baseline.")
    summary: str = Field(description="One sentence on what the file did or would do.")
    created: int = Field(description="Areas given a baseline.")
    updated: int = Field(description="Areas whose baseline changed.")
    unchanged: int = Field(description="Areas whose baseline is as stored, left alone.")
    changes: list[NeedsChangeOut] = Field(description="Each area the file creates or changes.")
    notes: list[str] = Field(description="How the file was read (sheet, rows above the table …).")


def needs_upload_out(result: Any) -> NeedsUploadOut:
    return NeedsUploadOut(
        preview=result.preview,
        changed=result.changed,
        summary=result.summary(),
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        changes=[NeedsChangeOut(pcode=pcode, change=change) for pcode, change in result.changes],
        notes=result.notes,
    )


class PeriodIn(BodyIn):
    month: str = Field(description=MONTH)
    locked: bool = Field(description="True to lock the month, false to reopen it.")
    note: str = Field("", max_length=NOTE_MAX, description="Why (shown with the period).")


class PeriodOut(Schema):
    month: str = Field(description="The month, `2005-11`.")
    locked: bool = Field(description="No upload may add, change or withdraw the month's rows.")
    changed_by: str = Field(description="Who last locked or reopened it.")
    note: str = Field(description="Why.")

    @staticmethod
    def resolve_month(obj: Any) -> str:
        return f"{obj.month:%Y-%m}"

    @staticmethod
    def resolve_changed_by(obj: Any) -> str:
        return str(obj.changed_by_label)
