"""What every page of the households section shares: its tabs, as the user's rights show them,
and the record of the personal data a page shows."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from reliefops.core.access import AnyUser, has_right
from reliefops.core.roles import Right
from reliefops.households.services import personal_data_viewed


def section_tabs(user: AnyUser) -> dict[str, bool]:
    """What the section's tabs show this user."""
    return {
        "personal": has_right(user, Right.VIEW_PERSONAL_DATA),
        "registry": any(
            has_right(user, r) for r in (Right.VIEW_PERSONAL_DATA, Right.VIEW_DISTRIBUTION_LISTS)
        ),
        "register": has_right(user, Right.REGISTER_HOUSEHOLDS),
        "rounds": has_right(user, Right.VIEW_HOUSEHOLD_COUNTS),
        "manage_rounds": has_right(user, Right.MANAGE_ROUNDS),
        "lists": has_right(user, Right.VIEW_DISTRIBUTION_LISTS),
        "distribute": has_right(user, Right.DISTRIBUTE),
    }


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, {"section": section_tabs(request.user), **context}, status=status)


def viewed(request: HttpRequest, households: Any, where: str) -> None:
    personal_data_viewed(actor=request.user, household_ids=[h.pk for h in households], where=where)
