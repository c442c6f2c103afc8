"""Read-only admin of the cluster's records (writes go through the cluster services)."""

from __future__ import annotations

from django.contrib import admin

from reliefops.cluster.models import (
    ActivityRow,
    ActivityType,
    AreaBoundary,
    ImportBatch,
    NeedsBaseline,
    ReportingPeriod,
)
from reliefops.core.admin import ReadOnlyAdmin


@admin.register(ActivityType)
class ActivityTypeAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "unit", "item", "sort_order", "is_active")
    list_select_related = ("item",)
    search_fields = ("code", "name", "aliases")


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "created_by_label",
        "organisation",
        "filename",
        "added",
        "updated",
        "withdrawn",
        "reverted_at",
    )
    list_select_related = ("organisation",)
    search_fields = ("filename", "digest", "created_by_label")


@admin.register(ActivityRow)
class ActivityRowAdmin(ReadOnlyAdmin):
    list_display = (
        "row_id",
        "reporting_org",
        "implementing_org",
        "activity",
        "admin_area",
        "status",
        "period",
        "quantity",
        "households",
        "withdrawn",
        "batch",
        "replaced_in",
    )
    list_filter = ("status", "withdrawn", "activity")
    list_select_related = ("reporting_org", "implementing_org", "activity", "admin_area")
    search_fields = ("row_id", "adm1", "adm2", "adm3", "location")
    show_full_result_count = False


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(ReadOnlyAdmin):
    list_display = ("month", "locked", "changed_at", "changed_by_label", "note")


@admin.register(NeedsBaseline)
class NeedsBaselineAdmin(ReadOnlyAdmin):
    list_display = ("admin_area", "households", "households_in_need", "elevation_band", "illustrative")
    list_select_related = ("admin_area",)
    list_filter = ("illustrative", "elevation_band")


@admin.register(AreaBoundary)
class AreaBoundaryAdmin(ReadOnlyAdmin):
    list_display = ("admin_area", "attribution")
    list_select_related = ("admin_area",)
