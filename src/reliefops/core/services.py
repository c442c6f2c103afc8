"""Writes of the core app: audit events, users with roles (created, changed, deactivated), API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from reliefops.core.errors import Conflict, InvalidInput, NotFound, Problem, ServiceError
from reliefops.core.logs import one_line
from reliefops.core.models import ApiToken, AuditEvent, UserProfile
from reliefops.core.roles import Role
from reliefops.core.sessions import session_data_quietly
from reliefops.core.text import counted

User = get_user_model()
TOKEN_PREFIX = "rop_"  # noqa: S105 - a public marker, not a secret
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)
# A token lives 90 days unless asked otherwise, and never more than a year: a token forgotten on a
# laptop or in a script stops by itself.
TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 365


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
    """Create a user with a role and scope; the username must be new, whatever its case."""
    if problems := _user_problems(username, email):
        raise InvalidInput(problems)
    _check_scope(role, hub_ids, distribution_point_ids)
    with transaction.atomic():
        existing = User.objects.filter(username__iexact=username).values_list("username", flat=True).first()
        if existing == username:
            raise Conflict(f"user {username!r} already exists")
        if existing is not None:
            # Sign-in and throttling would tell `Reg` from `reg` apart only by case: one person, two
            # accounts, two sets of rights.
            raise Conflict(
                f"user {existing!r} already exists, and {username!r} differs from it only in case: "
                "choose another username"
            )
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


def _check_scope(role: Role, hub_ids: list[int] | None, distribution_point_ids: list[int] | None) -> None:
    if hub_ids and role != Role.HUB_MANAGER:
        raise ServiceError("hubs are a scope of the hub_manager role only")
    if distribution_point_ids and role not in {Role.HUB_MANAGER, Role.DISTRIBUTOR}:
        raise ServiceError("distribution points are a scope of the distributor and hub_manager roles only")


def unknown_user(username: str) -> NotFound:
    """The refusal of a username no user has, naming one that differs only in case."""
    other = User.objects.filter(username__iexact=username).values_list("username", flat=True).first()
    hint = f" (did you mean {other!r}? usernames are told apart by case)" if other else ""
    return NotFound(f"no user {username!r}{hint}")


def _user_locked(username: str) -> Any:
    """The user of that username, its row locked."""
    try:
        return User.objects.select_for_update().get(username=username)
    except User.DoesNotExist as exc:
        raise unknown_user(username) from exc


def _profile(user: Any) -> UserProfile:
    """The user's profile; one with the viewer role is made for an account made outside reliefops
    (Django's createsuperuser)."""
    profile, _ = UserProfile.objects.get_or_create(user=user)
    return profile


def user_password_set(*, actor: AbstractBaseUser | None, username: str, password: str) -> Any:
    """Give an existing user a new password (the old one, and every session signed in with it, stop
    working); the password is not audited."""
    with transaction.atomic():
        user = _user_locked(username)
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(actor=actor, action="user.password_set", object_type="user", object_id=user.pk)
    return user


class NoOrganisation(ServiceError):
    """A role that acts for an organisation, given to a user who has none."""


@dataclass(frozen=True)
class Deactivation:
    user: Any
    changed: bool  # False: the user was inactive already
    tokens_revoked: list[int]
    sessions_ended: int


def _end_sessions(user: Any) -> int:
    """Delete the user's signed-in sessions; how many there were. Sessions that cannot be read (made
    under an earlier SECRET_KEY) are passed over: no one can sign in with them."""
    mine = str(user.pk)
    now = timezone.now()
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=now).iterator()
        if str((session_data_quietly(session.session_data) or {}).get(SESSION_KEY, "")) == mine
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def user_deactivate(*, actor: AbstractBaseUser | None, username: str) -> Deactivation:
    """Stop a user: they can no longer sign in, their sessions end and their API tokens are revoked
    (reactivating does not bring the tokens back)."""
    with transaction.atomic():
        user = _user_locked(username)
        if not user.is_active:
            return Deactivation(user=user, changed=False, tokens_revoked=[], sessions_ended=0)
        user.is_active = False
        user.save(update_fields=["is_active"])
        tokens = list(
            ApiToken.objects.select_for_update()
            .filter(user=user, revoked_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        ApiToken.objects.filter(pk__in=tokens).update(revoked_at=timezone.now())
        sessions = _end_sessions(user)
        audit_record(
            actor=actor,
            action="user.deactivate",
            object_type="user",
            object_id=user.pk,
            before={"is_active": True},
            after={"is_active": False, "tokens_revoked": tokens, "sessions_ended": sessions},
        )
    return Deactivation(user=user, changed=True, tokens_revoked=tokens, sessions_ended=sessions)


def user_reactivate(*, actor: AbstractBaseUser | None, username: str) -> tuple[Any, bool]:
    """Let a deactivated user sign in again, with their password and role as they were; whether
    they were inactive."""
    with transaction.atomic():
        user = _user_locked(username)
        if user.is_active:
            return user, False
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="user.reactivate",
            object_type="user",
            object_id=user.pk,
            before={"is_active": False},
            after={"is_active": True},
        )
    return user, True


def _scope_of(profile: UserProfile) -> dict[str, Any]:
    return {
        "role": profile.role,
        "organisation_id": profile.organisation_id,
        "hub_ids": sorted(profile.hubs.values_list("pk", flat=True)),
        "distribution_point_ids": sorted(profile.distribution_points.values_list("pk", flat=True)),
    }


def user_role_set(
    *,
    actor: AbstractBaseUser | None,
    username: str,
    role: Role,
    organisation_id: int | None = None,
    hub_ids: list[int] | None = None,
    distribution_point_ids: list[int] | None = None,
) -> Any:
    """Give a user a new role with the scope it needs: the hubs and distribution points given
    replace the old ones; the organisation stays unless another is given."""
    _check_scope(role, hub_ids, distribution_point_ids)
    with transaction.atomic():
        user = _user_locked(username)
        profile = _profile(user)
        before = _scope_of(profile)
        if organisation_id is not None:
            profile.organisation_id = organisation_id
        if role == Role.PARTNER_REPORTER and profile.organisation_id is None:
            raise NoOrganisation(f"a partner_reporter reports for an organisation, and {username!r} has none")
        profile.role = role
        profile.save(update_fields=["role", "organisation"])
        profile.hubs.set(hub_ids or [])
        profile.distribution_points.set(distribution_point_ids or [])
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["is_staff", "is_superuser"])
        audit_record(
            actor=actor,
            action="user.role_set",
            object_type="user",
            object_id=user.pk,
            before=before,
            after=_scope_of(profile),
        )
    return user


def user_export_right_set(
    *, actor: AbstractBaseUser | None, username: str, allowed: bool
) -> tuple[Any, bool]:
    """Grant or withdraw a user's right to export households' personal data; whether it changed."""
    with transaction.atomic():
        user = _user_locked(username)
        profile = _profile(user)
        if profile.can_export_personal_data == allowed:
            return user, False
        profile.can_export_personal_data = allowed
        profile.save(update_fields=["can_export_personal_data"])
        audit_record(
            actor=actor,
            action="user.export_right_grant" if allowed else "user.export_right_withdraw",
            object_type="user",
            object_id=user.pk,
            before={"can_export_personal_data": not allowed},
            after={"can_export_personal_data": allowed},
        )
    return user, True


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_moment(value: datetime) -> str:
    """A token's moment as the token list and the API's refusal write it: 2027-03-01 10:00 (local)."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


class TokenExpired(ServiceError):
    """A token presented after it expired: it authenticates no one, and a new one must be issued."""

    status = 401

    def __init__(self, token: ApiToken) -> None:
        super().__init__(
            f"this API token expired on {token_moment(token.expires_at)} ({settings.TIME_ZONE} time); "
            f"ask an administrator to extend it (token {token.pk}) or for a new one"
        )
        self.token = token


def _token_days_refused(days: int, *, longer: str) -> list[Problem]:
    """The problem of a token's lifetime outside 1 to 365 days, if it is; `longer` says what to do
    instead of a longer one."""
    if 1 <= days <= TOKEN_DAYS_MAX:
        return []
    reason = f"a token lives from 1 to {TOKEN_DAYS_MAX} days, not {days}: "
    return [Problem(None, "days", reason + ("give it a day or more" if days < 1 else longer))]


def token_create(
    *, actor: AbstractBaseUser | None, username: str, name: str = "", days: int = TOKEN_DAYS_DEFAULT
) -> tuple[ApiToken, str]:
    """Issue a token for a user, living `days` days (1 to 365); returns the row and the plain token,
    which is never stored."""
    problems = []
    longest = _field_limit(ApiToken, "name")
    if len(name) > longest:
        problems.append(Problem(None, "name", f"at most {longest} characters"))
    problems += _token_days_refused(days, longer="issue a new one when it expires")
    if problems:
        raise InvalidInput(problems)
    with transaction.atomic():
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise NotFound(f"no user {username!r}") from exc
        if not user.is_active:
            raise ServiceError(f"user {username!r} is not active")
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = timezone.now() + timedelta(days=days)
        token = ApiToken.objects.create(
            user=user, name=name, prefix=plain[:12], key_hash=_hash(plain), expires_at=expires_at
        )
        audit_record(
            actor=actor,
            action="token.create",
            object_type="api_token",
            object_id=token.pk,
            after={
                "user": username,
                "name": name,
                "prefix": token.prefix,
                "expires_at": expires_at.isoformat(),
            },
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


def token_extend(
    *, actor: AbstractBaseUser | None, token_id: int, days: int = TOKEN_DAYS_DEFAULT
) -> ApiToken:
    """Make a token work until `days` days from now (1 to 365), expired or not; a revoked token, a
    deactivated user's, or one that already works longer is refused."""
    problems = _token_days_refused(days, longer="extend it again before then")
    if problems:
        raise InvalidInput(problems)
    with transaction.atomic():
        try:
            token = ApiToken.objects.select_for_update().select_related("user").get(pk=token_id)
        except ApiToken.DoesNotExist as exc:
            raise NotFound(f"no token {token_id}") from exc
        if token.revoked_at is not None:
            raise Conflict(
                f"token {token.pk} was revoked on {token_moment(token.revoked_at)} and never works again: "
                "issue a new one with `reliefops token create`"
            )
        if not token.user.is_active:
            raise ServiceError(f"user {token.user.get_username()!r} is not active")
        expires_at = timezone.now() + timedelta(days=days)
        # An extension adds a day at least: the same command run again (a retry) changes nothing.
        if expires_at < token.expires_at + timedelta(days=1):
            raise Conflict(
                f"token {token.pk} already works until {token_moment(token.expires_at)}, as long as "
                f"{counted(days, 'day')} from now or longer; nothing was changed"
            )
        before = token.expires_at
        token.expires_at = expires_at
        token.save(update_fields=["expires_at"])
        audit_record(
            actor=actor,
            action="token.extend",
            object_type="api_token",
            object_id=token.pk,
            before={"expires_at": before.isoformat()},
            after={
                "user": token.user.get_username(),
                "prefix": token.prefix,
                "expires_at": expires_at.isoformat(),
            },
        )
    return token


def token_label(token: ApiToken) -> str:
    """A token as the log names it: `API token 12 (rop_Jq3xxxxx…) of user 'amina'`, never the token."""
    return f"API token {token.pk} ({token.prefix}…) of user '{one_line(token.user.get_username())}'"


def token_refused_why(plain: str) -> str:
    """Why a token authenticated no one, for the log line of its refusal: whose token it was and
    since when it is revoked, or that no token is so; never the token beyond its public prefix."""
    if not plain.startswith(TOKEN_PREFIX):
        return f"an API token refused: it is not one of reliefops's (they begin {TOKEN_PREFIX})"
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(plain)).first()
    if token is None:
        return f"an unknown API token ({one_line(plain[:12])}…) refused"
    whose = f"{token_label(token)} refused"
    if token.revoked_at is not None:
        return f"{whose}: it was revoked on {token_moment(token.revoked_at)}"
    return f"{whose}: the user is deactivated"


def token_authenticate(plain: str, *, at: datetime | None = None) -> Any | None:
    """The active user a token belongs to, or None; TokenExpired for a token of theirs that expired
    (at or before `at`, the moment of the request: now unless given)."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user").filter(key_hash=_hash(plain), revoked_at__isnull=True).first()
    )
    if token is None or not token.user.is_active:
        return None
    now = at or timezone.now()
    if now >= token.expires_at:
        raise TokenExpired(token)
    # Last use is kept to the minute: writing on every request would serialise readers on SQLite.
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
