"""Cluster coordination (4W): activity types, partners' activity rows, import batches, reporting
periods, needs baselines and the area boundaries the coverage map draws.

A 4W row is kept in versions. An upload that changes a row does not edit it: it closes the
current version (`replaced_in` = the upload's batch) and adds a new one; withdrawing a row (the
5W "Delete" flag) adds a version marked `withdrawn`. So every batch can be reverted exactly —
its versions are removed and the versions it closed become current again — and the history of
a row is its versions in batch order. At most one version of a (reporting organisation, row id)
is current; the gap analysis reads current versions that are not withdrawn ("live" rows).

Each row carries the P-codes of its province, district and tehsil (adm1, adm2, adm3), copied
from the gazetteer at import, so that the gap analysis rolls up to any level with one GROUP BY.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from reliefops.core.indexes import CoveringIndex


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ONGOING = "ongoing", "Ongoing"
    COMPLETED = "completed", "Completed"


class ElevationBand(models.TextChoices):
    LOW = "low", "Below 5,000 ft"
    MIDDLE = "middle", "5,000 to 7,000 ft"
    HIGH = "high", "Above 7,000 ft"


class ActivityType(models.Model):
    """What partners report: an activity with its unit and, where there is one, the catalogue item."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120, unique=True)
    unit = models.CharField(max_length=32, help_text="what the quantity counts: tent, sheet, shelter, PKR")
    item = models.ForeignKey(
        "catalog.Item", null=True, blank=True, on_delete=models.PROTECT, related_name="activity_types"
    )
    aliases = models.JSONField(default=list, blank=True, help_text="other names partners write")
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="activitytype_code_not_empty"),
            models.CheckConstraint(condition=~Q(unit=""), name="activitytype_unit_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One committed upload of 4W rows: who, when, which file, what it did; it can be reverted."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by_label = models.CharField(max_length=150, help_text="username, or 'system' for loaders")
    organisation = models.ForeignKey(
        "partners.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cluster_batches",
        help_text="the reporting organisation, when every row of the file is one organisation's",
    )
    filename = models.CharField(max_length=255, blank=True)
    digest = models.CharField("SHA-256 of the file", max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    sheet = models.CharField(max_length=120, blank=True, help_text="the worksheet read, for workbooks")
    rows_read = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    kept_aside = models.JSONField(default=list, blank=True, help_text="columns outside the 4W schema")
    notes = models.JSONField(default=list, blank=True, help_text="how the file was read")
    reverted_at = models.DateTimeField(null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverted_by_label = models.CharField(max_length=150, blank=True)
    # Reverts in the order they were made (1, 2, 3 …), given under the import lock: a preview notes
    # the last one it saw, and its apply is refused by any later one. A clock time would let a
    # revert slip through whose time was taken before the preview began but committed after it.
    revert_number = models.PositiveIntegerField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "import batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(reverted_at__isnull=False) | Q(reverted_by__isnull=True, reverted_by_label=""),
                name="importbatch_reverter_only_when_reverted",
            ),
            models.CheckConstraint(condition=Q(size_bytes__gte=0), name="importbatch_size_not_negative"),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.filename or 'upload'})"

    @property
    def is_reverted(self) -> bool:
        return self.reverted_at is not None


# One index serves both the double-counting rule and the gap analysis. The rule looks up the
# implementing partner's own row of an activity by its four key columns; the gap analysis reads
# every live row grouped by the first three. It also holds every other column both read, so that
# neither visits the table (PostgreSQL stores those as non-key columns; see CoveringIndex).
PAIRING_KEY = ["activity", "admin_area", "implementing_org", "period"]
PAIRING_COVERED = [
    "reporting_org",
    "programming_org",
    "funding_org",
    "recipient_org",
    "withdrawn",
    "replaced_in",
    "status",
    "counted_in",
    "households",
    "quantity",
]


class ActivityRow(models.Model):
    """One version of a partner's 4W row: who (reporting, programming, implementing, funding
    organisation), what (activity, quantity), where (admin area, site), when, and for whom."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="rows")
    replaced_in = models.ForeignKey(
        ImportBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_rows",
        db_index=False,
        help_text="the batch that closed this version (by an update or a withdrawal); empty: current",
    )
    line = models.PositiveIntegerField(default=0, help_text="the row of the file it came from")
    reporting_org = models.ForeignKey(
        "partners.Organisation", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    row_id = models.CharField("partner's row id", max_length=64)
    programming_org = models.ForeignKey(
        "partners.Organisation", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    implementing_org = models.ForeignKey(
        "partners.Organisation", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    funding_org = models.ForeignKey(
        "partners.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    recipient_org = models.ForeignKey(
        "partners.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="pipeline: the partner the items were handed to (not households reached)",
    )
    activity = models.ForeignKey(ActivityType, on_delete=models.PROTECT, related_name="+", db_index=False)
    admin_area = models.ForeignKey(
        "places.AdminArea", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    adm1 = models.CharField("province P-code", max_length=32)
    adm2 = models.CharField("district P-code", max_length=32, blank=True)
    adm3 = models.CharField("tehsil P-code", max_length=32, blank=True)
    site = models.ForeignKey(
        "places.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    location = models.CharField(max_length=200, blank=True, help_text="the place as the partner wrote it")
    status = models.CharField(max_length=10, choices=ActivityStatus.choices)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    period = models.DateField(help_text="the reporting month: the first day of the month of the end date")
    quantity = models.BigIntegerField(null=True, blank=True, help_text="in the activity's unit")
    households = models.IntegerField(null=True, blank=True)
    people_female = models.IntegerField(null=True, blank=True)
    people_male = models.IntegerField(null=True, blank=True)
    withdrawn = models.BooleanField(default=False, help_text="marked deleted by the partner")
    counted_in = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        help_text="set aside: the implementing partner's own row that counts this activity",
    )
    digest = models.CharField(max_length=16, help_text="fingerprint of the values, to see a row unchanged")
    extra = models.JSONField(null=True, blank=True, help_text="the file's columns outside the 4W schema")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporting_org", "row_id"],
                condition=Q(replaced_in__isnull=True),
                name="activityrow_one_current_version",
            ),
            models.CheckConstraint(condition=~Q(row_id=""), name="activityrow_row_id_not_empty"),
            models.CheckConstraint(
                condition=Q(status__in=ActivityStatus.values), name="activityrow_status_known"
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gte=0),
                name="activityrow_quantity_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(households__isnull=True) | Q(households__gte=0),
                name="activityrow_households_not_negative",
            ),
            models.CheckConstraint(
                condition=(Q(people_female__isnull=True) | Q(people_female__gte=0))
                & (Q(people_male__isnull=True) | Q(people_male__gte=0)),
                name="activityrow_people_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="activityrow_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(recipient_org__isnull=True) | ~Q(recipient_org=F("implementing_org")),
                name="activityrow_pipeline_to_another_partner",
            ),
            models.CheckConstraint(
                condition=Q(replaced_in__isnull=True) | ~Q(replaced_in=F("batch")),
                name="activityrow_not_replaced_by_own_batch",
            ),
            models.CheckConstraint(
                condition=Q(counted_in__isnull=True) | ~Q(counted_in=F("id")),
                name="activityrow_not_counted_in_itself",
            ),
        ]
        indexes = [
            # Not partial: a partial index of current rows would lure the planner into reading the
            # whole table through it, row by row, instead of scanning it.
            CoveringIndex(fields=PAIRING_KEY, covering=PAIRING_COVERED, name="activityrow_pairing"),
            models.Index(
                fields=["replaced_in"], condition=Q(replaced_in__isnull=False), name="activityrow_replaced_in"
            ),
            # Deleting a reverted batch's rows checks who is counted in them: without it, each check scans.
            models.Index(
                fields=["counted_in"], condition=Q(counted_in__isnull=False), name="activityrow_counted_in"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.row_id} ({self.activity_id}, {self.adm3 or self.adm2 or self.adm1})"

    @property
    def is_pipeline(self) -> bool:
        return self.recipient_org_id is not None


NOTE_MAX = 200  # why a period was locked or reopened


class ReportingPeriod(models.Model):
    """A reporting month; once locked, no upload may add, change or withdraw its rows."""

    month = models.DateField(unique=True, help_text="the first day of the month")
    locked = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_by_label = models.CharField(max_length=150, blank=True)
    note = models.CharField(max_length=NOTE_MAX, blank=True)

    class Meta:
        ordering = ["month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}{' (locked)' if self.locked else ''}"


class NeedsBaseline(models.Model):
    """What an admin area needs, in households: the denominator of the gap analysis."""

    admin_area = models.OneToOneField("places.AdminArea", on_delete=models.PROTECT, related_name="needs")
    adm1 = models.CharField(max_length=32)
    adm2 = models.CharField(max_length=32, blank=True)
    adm3 = models.CharField(max_length=32, blank=True)
    population = models.PositiveIntegerField(null=True, blank=True)
    households = models.PositiveIntegerField(null=True, blank=True)
    houses_destroyed = models.PositiveIntegerField(null=True, blank=True)
    houses_damaged = models.PositiveIntegerField(null=True, blank=True)
    households_in_need = models.PositiveIntegerField(
        null=True, blank=True, help_text="households in need of shelter"
    )
    elevation_band = models.CharField(max_length=8, choices=ElevationBand.choices, blank=True)
    illustrative = models.BooleanField(
        default=False, help_text="derived for a scenario, not taken from a source: say so wherever shown"
    )
    source = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["admin_area__pcode"]
        constraints = [
            models.CheckConstraint(
                condition=Q(elevation_band__in=["", *ElevationBand.values]), name="needsbaseline_band_known"
            ),
        ]

    def __str__(self) -> str:
        return f"needs of {self.admin_area_id}"


class AreaBoundary(models.Model):
    """An admin area's outline (a GeoJSON geometry), for the coverage map, with its attribution."""

    admin_area = models.OneToOneField("places.AdminArea", on_delete=models.PROTECT, related_name="boundary")
    geometry = models.JSONField(help_text="GeoJSON Polygon or MultiPolygon, WGS84")
    attribution = models.TextField(help_text="the line to show wherever the outline is drawn")

    class Meta:
        ordering = ["admin_area__pcode"]
        verbose_name_plural = "area boundaries"

    def __str__(self) -> str:
        return f"boundary of {self.admin_area_id}"
