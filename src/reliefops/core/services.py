"""Writes of the core app: audit events, users with roles, API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from reliefops.core.errors import Conflict, InvalidInput, NotFound, Problem, ServiceError
from reliefops.core.models import ApiToken, AuditEvent, UserProfile
from reliefops.core.roles import Role

User = get_user_model()
TOKEN_PREFIX = "rop_"  # noqa: S105 - a public marker, not a secret
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)


def stored_user(actor: Any) -> Any:
    """The actor as the user a record names (`created_by`, `changed_by` …): a saved user; None for
    the system (a script, the scenario's loader) and for anyone not signed in."""
    return actor if isinstance(actor, User) and actor.pk is not None else None


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    object_type: str,
    object_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record who did what; called inside the service's own transaction so both commit or neither."""
    real_actor = stored_user(actor)
    event = AuditEvent(
        actor=real_actor,
        actor_label=real_actor.get_username() if real_actor is not None else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
    )
    _insert_event(event)
    return event


def _insert_event(event: AuditEvent) -> None:
    """INSERT the event with the fields' own value preparation, without building a query.

    Every posting writes one of these, so it is on the ledger's hot path.
    """
    db = connections[DEFAULT_DB_ALIAS]
    fields, sql, returning = _event_insert(db.vendor)
    values = [f.get_db_prep_save(f.pre_save(event, add=True), db) for f in fields]
    with db.cursor() as cursor:
        cursor.execute(sql, values)
        event.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    event._state.adding = False
    event._state.db = db.alias


@functools.cache
def _event_insert(vendor: str) -> tuple[list[Any], str, bool]:
    """The audit event's fields and INSERT, made once per database kind (not on every posting)."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO core_auditevent ({columns}) VALUES ({marks})"  # noqa: S608 - names from the model
    returning = bool(db.features.can_return_columns_from_insert)
    return fields, sql + " RETURNING id" if returning else sql, returning


def user_create(
    *,
    actor: AbstractBaseUser | None,
    username: str,
    password: str | None,
    role: Role,
    organisation_id: int | None = None,
    hub_ids: list[int] | None = None,
    distribution_point_ids: list[int] | None = None,
    can_export_personal_data: bool = False,
    email: str = "",
) -> Any:
    """Create a user with a role and scope; the username must be new."""
    if problems := _user_problems(username, email):
        raise InvalidInput(problems)
    if hub_ids and role != Role.HUB_MANAGER:
        raise ServiceError("hubs are a scope of the hub_manager role only")
    if distribution_point_ids and role not in {Role.HUB_MANAGER, Role.DISTRIBUTOR}:
        raise ServiceError("distribution points are a scope of the distributor and hub_manager roles only")
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise Conflict(f"user {username!r} already exists")
        user = User(
            username=username, email=email, is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        profile = UserProfile.objects.create(
            user=user,
            role=role,
            organisation_id=organisation_id,
            can_export_personal_data=can_export_personal_data,
        )
        if hub_ids:
            profile.hubs.set(hub_ids)
        if distribution_point_ids:
            profile.distribution_points.set(distribution_point_ids)
        audit_record(
            actor=actor,
            action="user.create",
            object_type="user",
            object_id=user.pk,
            after={
                "username": username,
                "role": role.value,
                "organisation_id": organisation_id,
                "hub_ids": hub_ids or [],
                "distribution_point_ids": distribution_point_ids or [],
                "can_export_personal_data": can_export_personal_data,
            },
        )
    return user


def _field_limit(model: Any, name: str) -> int:
    return int(model._meta.get_field(name).max_length)


def _user_problems(username: str, email: str) -> list[Problem]:
    """What is wrong with a new user's name and e-mail address, each problem naming its field."""
    problems = []
    longest = _field_limit(User, "username")
    if not username:
        problems.append(Problem(None, "username", "a username is required"))
    elif len(username) > longest:
        problems.append(Problem(None, "username", f"at most {longest} characters"))
    else:
        try:
            User.username_validator(username)
        except ValidationError:
            problems.append(
                Problem(None, "username", f"{username!r}: only letters, digits and @ . + - _ (no spaces)")
            )
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            shown = email if len(email) <= 60 else email[:60] + "…"
            problems.append(Problem(None, "email", f"{shown!r} is not an e-mail address"))
        else:
            if len(email) > _field_limit(User, "email"):
                problems.append(Problem(None, "email", f"at most {_field_limit(User, 'email')} characters"))
    return problems


def user_password_set(*, actor: AbstractBaseUser | None, username: str, password: str) -> Any:
    """Give an existing user a new password (the old one stops working); the password is not audited."""
    with transaction.atomic():
        try:
            user = User.objects.select_for_update().get(username=username)
        except User.DoesNotExist as exc:
            raise NotFound(f"no user {username!r}") from exc
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(actor=actor, action="user.password_set", object_type="user", object_id=user.pk)
    return user


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(*, actor: AbstractBaseUser | None, username: str, name: str = "") -> tuple[ApiToken, str]:
    """Issue a token for a user; returns the row and the plain token, which is never stored."""
    longest = _field_limit(ApiToken, "name")
    if len(name) > longest:
        raise InvalidInput([Problem(None, "name", f"at most {longest} characters")])
    with transaction.atomic():
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise NotFound(f"no user {username!r}") from exc
        if not user.is_active:
            raise ServiceError(f"user {username!r} is not active")
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(user=user, name=name, prefix=plain[:12], key_hash=_hash(plain))
        audit_record(
            actor=actor,
            action="token.create",
            object_type="api_token",
            object_id=token.pk,
            after={"user": username, "name": name, "prefix": token.prefix},
        )
    return token, plain


def token_revoke(*, actor: AbstractBaseUser | None, token_id: int) -> ApiToken:
    """Revoke a token; a revoked token never authenticates again."""
    with transaction.atomic():
        try:
            token = ApiToken.objects.select_for_update().get(pk=token_id)
        except ApiToken.DoesNotExist as exc:
            raise NotFound(f"no token {token_id}") from exc
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="token.revoke", object_type="api_token", object_id=token.pk)
    return token


def token_authenticate(plain: str) -> Any | None:
    """The active user a token belongs to, or None."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user").filter(key_hash=_hash(plain), revoked_at__isnull=True).first()
    )
    if token is None or not token.user.is_active:
        return None
    # Last use is kept to the minute: writing on every request would serialise readers on SQLite.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
