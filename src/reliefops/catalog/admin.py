"""Read-only admin of the catalogue (writes go through the catalog services)."""

from __future__ import annotations

from django.contrib import admin

from reliefops.catalog.models import Item, Kit, KitComponent, PackSize
from reliefops.core.admin import ReadOnlyAdmin, ReadOnlyInline


class PackSizeInline(ReadOnlyInline):
    model = PackSize
    fields = ("name", "quantity")


class KitComponentInline(ReadOnlyInline):
    model = KitComponent
    fields = ("item", "quantity")


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "category", "base_unit", "weight_kg", "volume_m3", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("code", "name")
    inlines = (PackSizeInline,)


@admin.register(PackSize)
class PackSizeAdmin(ReadOnlyAdmin):
    list_display = ("item", "name", "quantity")
    list_select_related = ("item",)
    search_fields = ("item__code", "item__name", "name")


@admin.register(Kit)
class KitAdmin(ReadOnlyAdmin):
    list_display = ("item", "source")
    list_select_related = ("item",)
    search_fields = ("item__code", "item__name")
    inlines = (KitComponentInline,)


@admin.register(KitComponent)
class KitComponentAdmin(ReadOnlyAdmin):
    list_display = ("kit", "item", "quantity")
    list_select_related = ("kit__item", "item")
    search_fields = ("kit__item__code", "kit__item__name", "item__code", "item__name")
