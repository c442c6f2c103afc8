"""Migration core.0003: API tokens issued before tokens expired are given 90 days from their making,
and two weeks from the upgrade at least."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from reliefops.core.models import ApiToken
from reliefops.core.roles import Role
from reliefops.core.services import TokenExpired, token_authenticate
from tests.factories import make_user

BEFORE = [("core", "0002_background_jobs")]
AFTER = [("core", "0003_api_token_expiry")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _latest() -> str:
    executor = MigrationExecutor(connection)
    return max(name for app, name in executor.loader.graph.leaf_nodes() if app == "core")


def _old_token(executor: MigrationExecutor, user_id: int, plain: str, made: dt.datetime) -> int:
    """A token as an earlier version issued it: no end."""
    OldToken = executor.loader.project_state(BEFORE).apps.get_model("core", "ApiToken")
    token = OldToken.objects.create(
        user_id=user_id,
        name="sync laptop",
        prefix=plain[:12],
        key_hash=hashlib.sha256(plain.encode()).hexdigest(),
    )
    OldToken.objects.filter(pk=token.pk).update(created_at=made)
    return token.pk


@pytest.mark.django_db(transaction=True)
def test_older_tokens_get_90_days_from_their_making_and_two_weeks_from_the_upgrade_at_least():
    user = make_user(Role.VIEWER)
    # given, before the upgrade, a token made on 10 January 2026, one made 80 days ago, one a day ago
    executor = _migrate(BEFORE)
    try:
        long_ago = dt.datetime(2026, 1, 10, 4, 30, tzinfo=dt.UTC)
        now = timezone.now().replace(microsecond=0)
        yesterday = now - dt.timedelta(days=1)
        old = _old_token(executor, user.pk, "rop_made-long-ago", long_ago)
        nearly = _old_token(executor, user.pk, "rop_made-80-days", now - dt.timedelta(days=80))
        recent = _old_token(executor, user.pk, "rop_made-yesterday", yesterday)
        # when the database is upgraded
        _migrate(AFTER)
        upgraded = timezone.now()
    finally:
        _migrate([("core", _latest())])
    ends = dict(ApiToken.objects.values_list("pk", "expires_at"))
    # then a recent token expires 90 days after it was made
    assert ends[recent] == yesterday + dt.timedelta(days=90)
    # and the ones whose 90 days are over, or end within two weeks, work two weeks from the upgrade
    for pk in (old, nearly):
        assert now + dt.timedelta(days=14) <= ends[pk] <= upgraded + dt.timedelta(days=14)
    assert token_authenticate("rop_made-long-ago") == user
    assert token_authenticate("rop_made-yesterday") == user
    # and once the two weeks are over, the old token is refused, saying when it expired
    ApiToken.objects.filter(pk=old).update(expires_at=dt.datetime(2026, 4, 10, 4, 30, tzinfo=dt.UTC))
    with pytest.raises(TokenExpired, match="expired on 2026-04-10 09:30"):
        token_authenticate("rop_made-long-ago")
    assert Client(HTTP_AUTHORIZATION="Bearer rop_made-long-ago").get("/api/core/me").status_code == 401


def test_the_migration_step_run_again_leaves_every_token_s_end_as_it_is(db):
    # given a token issued with an end by this version
    user = make_user(Role.VIEWER)
    ends = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    token = ApiToken.objects.create(user=user, prefix="rop_has-an-e", key_hash="0" * 64, expires_at=ends)
    # when the migration's step runs over it (again)
    step = importlib.import_module("reliefops.core.migrations.0003_api_token_expiry")
    step.give_older_tokens_an_end(django_apps, None)
    # then its end is the one it had
    token.refresh_from_db()
    assert token.expires_at == ends
