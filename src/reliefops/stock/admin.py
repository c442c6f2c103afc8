"""Read-only admin of the stock ledger: every write goes through the stock services, which check and audit."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from reliefops.core.admin import ReadOnlyAdmin, ReadOnlyInline
from reliefops.stock.models import Balance, Movement, MovementLine, Pledge, StockLocation, Waybill


@admin.register(StockLocation)
class StockLocationAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "is_physical", "site", "grant", "organisation", "waybill")
    list_filter = ("kind", "is_physical")
    list_select_related = ("site", "grant", "organisation", "waybill")
    search_fields = ("name", "site__code", "grant__reference", "organisation__name", "waybill__number")


class MovementLineInline(ReadOnlyInline):
    model = MovementLine
    fields = ("item", "grant", "quantity", "from_location", "to_location", "lot", "expiry", "reason")

    def get_queryset(self, request: HttpRequest) -> QuerySet[MovementLine]:
        return super().get_queryset(request).select_related("item", "grant", "from_location", "to_location")


@admin.register(Movement)
class MovementAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "reference", "occurred_on", "site", "waybill", "posted_by", "posted_at")
    list_filter = ("kind",)
    list_select_related = ("site", "waybill", "posted_by")
    search_fields = ("reference", "note", "site__name", "site__code", "waybill__number")
    date_hierarchy = "occurred_on"
    inlines = (MovementLineInline,)
    exclude = ("idempotency_key",)


@admin.register(MovementLine)
class MovementLineAdmin(ReadOnlyAdmin):
    list_display = ("movement", "item", "grant", "quantity", "from_location", "to_location", "reason")
    list_select_related = ("movement", "item", "grant", "from_location", "to_location")
    search_fields = ("item__code", "grant__reference", "movement__reference")


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ("location", "item", "grant", "quantity", "is_physical", "fifo_date")
    list_filter = ("is_physical", "location__kind")
    list_select_related = ("location", "item", "grant")
    search_fields = ("location__name", "item__code", "grant__reference")


@admin.register(Waybill)
class WaybillAdmin(ReadOnlyAdmin):
    list_display = ("number", "from_site", "to_site", "transport", "dispatched_on", "expected_on", "status")
    list_filter = ("status", "transport")
    list_select_related = ("from_site", "to_site")
    search_fields = ("number", "vehicle", "driver", "from_site__name", "to_site__name")
    date_hierarchy = "dispatched_on"


@admin.register(Pledge)
class PledgeAdmin(ReadOnlyAdmin):
    list_display = ("grant", "item", "quantity", "received_quantity", "destination", "expected_on", "status")
    list_filter = ("status",)
    list_select_related = ("grant", "item", "destination")
    search_fields = ("grant__reference", "item__code", "reference")
