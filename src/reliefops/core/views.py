"""Pages of the core app: a signed-in user changes their own password."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse_lazy

from reliefops.core.security import ThrottledPasswordChangeForm
from reliefops.core.services import audit_record

PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 - an audit action, not a password


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's page (sign-in required; the new password passes AUTH_PASSWORD_VALIDATORS; this
    session stays signed in, the user's other sessions end), with the sign-in lockout applied to the
    current password and the change audited."""

    template_name = "core/password_change.html"
    form_class = ThrottledPasswordChangeForm
    success_url = reverse_lazy("web:home")

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["request"] = self.request
        return kwargs

    def form_valid(self, form: ThrottledPasswordChangeForm) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(
                actor=self.request.user, action=PASSWORD_CHANGED, object_type="user", object_id=form.user.pk
            )
        messages.success(
            self.request, "Your password is changed. Other browsers signed in as you are signed out."
        )
        return response
