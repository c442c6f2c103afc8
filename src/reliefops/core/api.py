"""API for the signed-in user's own identity."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from reliefops.core.access import user_organisation_id, user_role
from reliefops.core.roles import ROLE_RIGHTS

router = Router(tags=["core"])


class MeOut(Schema):
    username: str
    role: str
    organisation_id: int | None
    rights: list[str]


@router.get("/me", response=MeOut, summary="Who am I: the caller's role and rights")
def me(request: HttpRequest) -> MeOut:
    role = user_role(request.user)
    return MeOut(
        username=request.user.get_username(),
        role=role.value if role else "",
        organisation_id=user_organisation_id(request.user),
        rights=sorted(r.value for r in ROLE_RIGHTS[role]) if role else [],
    )
