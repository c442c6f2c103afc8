"""Read-only admin of organisations and grants (writes go through the partners services)."""

from __future__ import annotations

from django.contrib import admin

from reliefops.core.admin import ReadOnlyAdmin, ReadOnlyInline
from reliefops.partners.models import Grant, Organisation


class GrantInline(ReadOnlyInline):
    model = Grant
    fk_name = "donor"
    fields = ("reference", "title", "start", "end", "currency", "amount_minor")


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ("name", "acronym", "type")
    list_filter = ("type",)
    search_fields = ("name", "acronym", "aliases")
    inlines = (GrantInline,)


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ("reference", "donor", "title", "start", "end", "currency", "amount_minor")
    list_filter = ("currency",)
    list_select_related = ("donor",)
    search_fields = ("reference", "title", "donor__name", "donor__acronym")
