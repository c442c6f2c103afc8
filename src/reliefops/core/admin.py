"""The Django admin, read-only: every write goes through a service (which checks and audits it).

`ReadOnlyAdmin` and `ReadOnlyInline` are the bases for every app's admin. Only users of the admin
role see the admin at all; nobody may add, change or delete a row there.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Model
from django.http import HttpRequest

from reliefops.core.access import user_role
from reliefops.core.models import ApiToken, AuditEvent, Job, UserProfile
from reliefops.core.roles import Role
from reliefops.core.security import ThrottledAdminAuthenticationForm

admin.site.site_header = "reliefops data admin (read-only)"
admin.site.site_title = "reliefops data admin"
admin.site.index_title = "Browse the stored records; changes are made through the application"
admin.site.login_form = ThrottledAdminAuthenticationForm


def _may_browse(request: HttpRequest) -> bool:
    return user_role(request.user) == Role.ADMIN


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and shows rows to admins; offers no add, change or delete (and so no bulk actions)."""

    list_per_page = 50

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_browse(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _may_browse(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows related to the one shown, read-only like their parent."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _may_browse(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


# --- users: created by `user_create` (the service gives each a role and scope) -----------------


class UserProfileInline(ReadOnlyInline):
    model = UserProfile
    fields = ("role", "organisation", "hubs", "distribution_points", "can_export_personal_data")
    can_delete = False


User = get_user_model()
admin.site.unregister(User)
# Roles live in user profiles; Django's groups are not used.
admin.site.unregister(Group)


@admin.register(User)
class UserReadOnlyAdmin(ReadOnlyAdmin, UserAdmin):
    list_display = ("username", "email", "role", "is_active", "last_login", "date_joined")
    list_filter = ("is_active", "profile__role")
    list_select_related = ("profile",)
    inlines = (UserProfileInline,)
    # No password (not even its masked hash) and no groups or permissions: roles live in profiles.
    fieldsets = (
        (None, {"fields": ("username", "first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "date_joined")}),
    )

    @admin.display(description="role", ordering="profile__role")
    def role(self, obj: Any) -> str:
        profile = getattr(obj, "profile", None)
        return profile.get_role_display() if profile is not None else "—"


@admin.register(UserProfile)
class UserProfileAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "organisation", "can_export_personal_data")
    list_filter = ("role", "can_export_personal_data")
    list_select_related = ("user", "organisation")
    search_fields = ("user__username", "organisation__name", "organisation__acronym")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    list_select_related = ("user",)
    search_fields = ("prefix", "name", "user__username")
    exclude = ("key_hash",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "action", "object_type", "object_id")
    date_hierarchy = "at"


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "label", "owner", "status", "stage", "created_at", "finished_at")
    list_filter = ("status", "kind")
    list_select_related = ("owner",)
    search_fields = ("label", "owner__username")
    # The uploaded file (a registration file holds personal data) is not shown.
    exclude = ("input",)
