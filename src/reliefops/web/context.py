"""Template context shared by every page: the navigation the signed-in user may see."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from reliefops.core.access import has_right, user_role
from reliefops.core.roles import Right

# (label, url name, right needed)
NAVIGATION: list[tuple[str, str, Right]] = []


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    role = user_role(user)
    return {
        "nav_items": [(label, name) for label, name, right in NAVIGATION if has_right(user, right)],
        "user_role": role,
    }
