"""Read-only admin of the gazetteer and the sites (writes go through the places services)."""

from __future__ import annotations

from django.contrib import admin

from reliefops.core.admin import ReadOnlyAdmin
from reliefops.places.models import AdminArea, Site


@admin.register(AdminArea)
class AdminAreaAdmin(ReadOnlyAdmin):
    list_display = ("pcode", "name", "level", "parent", "cod_version", "elevation_m")
    list_filter = ("level", "cod_version")
    list_select_related = ("parent",)
    search_fields = ("pcode", "name", "alt_names")


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "admin_area", "parent_hub", "elevation_m", "is_active")
    list_filter = ("kind", "is_active")
    list_select_related = ("admin_area", "parent_hub")
    search_fields = ("code", "name", "admin_area__name", "admin_area__pcode")
