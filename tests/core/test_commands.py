"""`reliefops user create | list | deactivate | reactivate | role | password | grant-export |
withdraw-export`, `token create | revoke | list`, `jobs list` and `demo_admin`."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from reliefops.core.access import scoped_site_ids, user_role
from reliefops.core.models import ApiToken, AuditEvent
from reliefops.core.roles import Right, Role
from reliefops.core.services import token_authenticate, token_create
from reliefops.partners.services import OrganisationRow, organisations_import
from reliefops.places.services import AdminAreaRow, SiteRow, admin_areas_import, sites_import

User = get_user_model()


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        exc.stderr = err.getvalue()  # type: ignore[attr-defined]
        raise
    return out.getvalue(), err.getvalue()


def printed_password(out: str) -> str:
    return next(line.split(": ", 1)[1].strip() for line in out.splitlines() if "password: " in line.lower())


@pytest.fixture
def batagram(db):
    admin_areas_import(
        actor=None,
        rows=[
            AdminAreaRow(pcode="PK5", name="Khyber Pakhtunkhwa", level="province", parent_pcode="PK"),
            AdminAreaRow(pcode="PK504", name="Batagram", level="district", parent_pcode="PK5"),
        ],
    )
    sites_import(
        actor=None,
        rows=[
            SiteRow(code="BTG-HUB", name="IOM Batagram hub", kind="hub", admin_pcode="PK504"),
            SiteRow(
                code="DP-BANA",
                name="Bana",
                kind="distribution_point",
                admin_pcode="PK504",
                parent_hub="BTG-HUB",
            ),
            SiteRow(
                code="CAMP-MAIRA", name="Maira camp", kind="camp", admin_pcode="PK504", parent_hub="BTG-HUB"
            ),
        ],
    )
    organisations_import(
        actor=None,
        rows=[OrganisationRow(name="International Organization for Migration", acronym="IOM", type="un")],
    )


# --- user create ---------------------------------------------------------------------------------


def test_user_create_with_scope_prints_a_generated_password_that_works(batagram):
    out, _ = run(
        "user", "create", "ali", "--role", "hub_manager", "--organisation", "iom",
        "--hub", "BTG-HUB", "--distribution-point", "dp-bana", "--no-input",
    )  # fmt: skip
    assert "User ali created with role hub_manager (hubs: BTG-HUB; distribution points: DP-BANA)." in out
    user = User.objects.get(username="ali")
    assert user.check_password(printed_password(out))
    assert user_role(user) == Role.HUB_MANAGER
    assert user.profile.organisation.acronym == "IOM"
    assert scoped_site_ids(user, Right.POST_STOCK) == set(
        User.objects.get(username="ali").profile.hubs.values_list("id", flat=True)
    ) | {user.profile.distribution_points.get().pk}


def test_user_create_prompts_for_a_password_at_a_terminal(batagram, monkeypatch):
    answers = iter(["Kashmir-2005-relief", "Kashmir-2005-relief"])
    monkeypatch.setattr("reliefops.core.management.commands.user.interactive", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    out, _ = run("user", "create", "sara", "--role", "coordinator")
    assert "Password:" not in out  # a typed password is never echoed
    assert User.objects.get(username="sara").check_password("Kashmir-2005-relief")


def test_user_create_rejects_a_weak_typed_password_then_accepts_a_good_one(batagram, monkeypatch):
    answers = iter(["123", "123", "Kashmir-2005-relief", "Kashmir-2005-relief"])
    monkeypatch.setattr("reliefops.core.management.commands.user.interactive", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    _, err = run("user", "create", "sara", "--role", "viewer")
    assert "too short" in err
    assert User.objects.get(username="sara").check_password("Kashmir-2005-relief")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "viewer", "--hub", "BTG-HUB"], "--hub is for the hub_manager role"),
        (
            ["--role", "hub_manager", "--hub", "DP-BANA"],
            "DP-BANA is a distribution point, not a hub or warehouse",
        ),
        (["--role", "distributor", "--distribution-point", "DP-NOWHERE"], "no site with code 'DP-NOWHERE'"),
        (
            ["--role", "registrar", "--distribution-point", "CAMP-MAIRA"],
            "--distribution-point is for the distributor",
        ),
        (["--role", "partner_reporter"], "a partner_reporter reports for an organisation"),
        (["--role", "viewer", "--organisation", "UNHCR"], "no organisation 'UNHCR'"),
    ],
    ids=[
        "hub-for-viewer",
        "point-as-hub",
        "unknown-site",
        "point-for-registrar",
        "reporter-without-org",
        "unknown-org",
    ],
)
def test_user_create_refuses_a_scope_that_does_not_fit(batagram, args, message):
    with pytest.raises(CommandError, match=message):
        run("user", "create", "omar", *args, "--no-input")
    assert not User.objects.filter(username="omar").exists()


def test_user_create_refuses_an_existing_username(batagram):
    run("user", "create", "ali", "--role", "viewer", "--no-input")
    with pytest.raises(CommandError, match="user 'ali' already exists"):
        run("user", "create", "ali", "--role", "admin", "--no-input")
    assert user_role(User.objects.get(username="ali")) == Role.VIEWER


@pytest.mark.parametrize(
    ("username", "email", "message"),
    [
        ("", "", "username: a username is required"),
        ("u" * 151, "", "username: at most 150 characters"),
        ("a b/c<script>", "", "username: 'a b/c<script>': only letters, digits and @ . + - _ (no spaces)"),
        ("omar", "notanemail", "email: 'notanemail' is not an e-mail address"),
        ("omar", "o" * 300 + "@example.org", "email: at most 254 characters"),
    ],
    ids=["empty", "too-long", "odd-characters", "not-an-address", "address-too-long"],
)
def test_user_create_refuses_a_bad_username_or_email_by_its_field(batagram, username, email, message):
    users = User.objects.count()
    with pytest.raises(CommandError, match="1 problem; nothing was written") as refused:
        run("user", "create", username, "--role", "viewer", "--email", email, "--no-input")
    assert message in refused.value.stderr
    assert User.objects.count() == users


# --- tokens --------------------------------------------------------------------------------------


@pytest.fixture
def ali(batagram):
    run("user", "create", "ali", "--role", "viewer", "--no-input")
    return User.objects.get(username="ali")


def test_token_create_prints_a_token_once_that_authenticates(ali):
    out, _ = run("token", "create", "ali", "--name", "sync laptop")
    plain = next(line for line in out.splitlines() if line.startswith("rop_"))
    assert token_authenticate(plain) == ali
    assert "shown only this once" in out
    assert ApiToken.objects.get().name == "sync laptop"


def test_token_list_never_shows_the_token_or_its_hash(ali):
    out, _ = run("token", "create", "ali")
    plain = next(line for line in out.splitlines() if line.startswith("rop_"))
    token = ApiToken.objects.get()
    listing, _ = run("token", "list")
    assert f"{token.prefix}…" in listing
    assert "ali" in listing
    assert plain not in listing
    assert token.key_hash not in listing
    assert run("token", "list", "ali")[0] == listing


def test_token_revoke_stops_the_token(ali):
    out, _ = run("token", "create", "ali")
    plain = next(line for line in out.splitlines() if line.startswith("rop_"))
    token = ApiToken.objects.get()
    out, _ = run("token", "revoke", str(token.pk))
    assert f"Token {token.pk}" in out
    assert "revoked" in out
    assert token_authenticate(plain) is None
    assert "revoked" in run("token", "list", "ali")[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "nobody"], "no user 'nobody'"),
        (["revoke", "999"], "no token 999"),
        (["list", "nobody"], "no user 'nobody'"),
    ],
    ids=["create-for-unknown-user", "revoke-unknown-token", "list-for-unknown-user"],
)
def test_token_commands_name_what_is_missing(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("token", *args)


def test_token_create_refuses_a_name_longer_than_its_column(ali):
    with pytest.raises(CommandError, match="1 problem") as refused:
        run("token", "create", "ali", "--name", "n" * 101)
    assert "name: at most 100 characters" in refused.value.stderr
    assert not ApiToken.objects.exists()


def test_token_create_makes_a_token_that_works_90_days_unless_asked_otherwise(ali):
    # when a token is created without --days, and another with --days 7
    before = timezone.now()
    run("token", "create", "ali", "--name", "sync laptop")
    week, _ = run("token", "create", "ali", "--days", "7")
    after = timezone.now()
    # then the first works for 90 days and the second for 7, and each says until when
    first, second = ApiToken.objects.order_by("pk")
    assert before + timedelta(days=90) <= first.expires_at <= after + timedelta(days=90)
    assert before + timedelta(days=7) <= second.expires_at <= after + timedelta(days=7)
    local = timezone.localtime(second.expires_at).strftime("%Y-%m-%d %H:%M")
    assert f"It works until {local} (Asia/Karachi time); issue a new one before then." in week
    # and the audit trail records when it expires
    event = AuditEvent.objects.filter(action="token.create", object_id=str(second.pk)).get()
    assert event.after["expires_at"] == second.expires_at.isoformat()


@pytest.mark.parametrize("days", ["1", "365"], ids=["a-day", "a-year"])
def test_token_create_takes_a_lifetime_from_a_day_to_a_year(ali, days):
    run("token", "create", "ali", "--days", days)
    token = ApiToken.objects.get()
    assert abs(token.expires_at - token.created_at - timedelta(days=int(days))) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("days", "reason"),
    [
        pytest.param("0", "days: a token lives from 1 to 365 days, not 0: give it a day or more", id="zero"),
        pytest.param(
            "-5", "days: a token lives from 1 to 365 days, not -5: give it a day or more", id="negative"
        ),
        pytest.param(
            "366",
            "days: a token lives from 1 to 365 days, not 366: issue a new one when it expires",
            id="over-a-year",
        ),
    ],
)
def test_token_create_refuses_a_lifetime_outside_a_day_to_a_year_and_makes_nothing(ali, days, reason):
    # when a token is asked for with a lifetime out of bounds
    with pytest.raises(CommandError, match="1 problem; nothing was written") as refused:
        run("token", "create", "ali", "--days", days)
    # then the problem names the option and the bounds, and no token was made
    assert reason in refused.value.stderr
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action="token.create").exists()


def test_token_list_shows_when_each_token_expires_and_which_have(ali):
    # given a token that works, one that expired on 1 March 2026 and one revoked
    for _ in range(3):
        run("token", "create", "ali")
    active, expired, revoked = ApiToken.objects.order_by("pk")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC))
    run("token", "revoke", str(revoked.pk))
    # when they are listed
    listing, _ = run("token", "list", "ali")
    # then the list has an expiry column, and says which token expired
    header, *rows = listing.splitlines()
    assert header.split() == ["id", "user", "prefix", "name", "created", "last", "used", "expires", "status"]
    by_id = {row.split()[0]: row for row in rows}
    active_expiry = timezone.localtime(active.expires_at).strftime("%Y-%m-%d %H:%M")
    assert by_id[str(active.pk)].endswith(f"{active_expiry}  active")
    assert by_id[str(expired.pk)].endswith("2026-03-01 10:00  expired")
    assert " revoked " in by_id[str(revoked.pk)]


def test_token_extend_makes_an_expired_token_work_again_and_is_audited(ali):
    # given a script's token that expired on 1 March 2026
    out, _ = run("token", "create", "ali")
    plain = next(line for line in out.splitlines() if line.startswith("rop_"))
    token = ApiToken.objects.get()
    expired = dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=expired)
    # when an administrator extends it by 30 days
    before = timezone.now()
    out, _ = run("token", "extend", str(token.pk), "--days", "30")
    after = timezone.now()
    # then the very same token works again, for 30 days from now, and says until when
    token.refresh_from_db()
    assert before + timedelta(days=30) <= token.expires_at <= after + timedelta(days=30)
    assert token_authenticate(plain) == ali
    local = timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M")
    assert (
        out.strip()
        == f"Token {token.pk} ({token.prefix}…, user ali) works until {local} (Asia/Karachi time)."
    )
    # and the audit trail records the expiry before and after
    event = AuditEvent.objects.get(action="token.extend", object_id=str(token.pk))
    assert event.before == {"expires_at": expired.isoformat()}
    assert event.after["expires_at"] == token.expires_at.isoformat()


def test_token_extend_gives_90_days_unless_asked_otherwise(ali):
    run("token", "create", "ali", "--days", "1")
    token = ApiToken.objects.get()
    before = timezone.now()
    run("token", "extend", str(token.pk))
    token.refresh_from_db()
    assert before + timedelta(days=90) <= token.expires_at <= timezone.now() + timedelta(days=90)


def test_token_extend_refuses_a_revoked_token_and_changes_nothing(ali):
    # given a revoked token
    run("token", "create", "ali")
    token = ApiToken.objects.get()
    run("token", "revoke", str(token.pk))
    # when it is extended, then it is refused, saying to issue a new one
    with pytest.raises(CommandError, match=f"token {token.pk} was revoked on .* issue a new one"):
        run("token", "extend", str(token.pk))
    assert ApiToken.objects.get().expires_at == token.expires_at
    assert not AuditEvent.objects.filter(action="token.extend").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["999"], "no token 999", id="unknown-token"),
        pytest.param(["{pk}", "--days", "0"], "1 problem; nothing was written", id="zero-days"),
        pytest.param(["{pk}", "--days", "366"], "1 problem; nothing was written", id="over-a-year"),
        pytest.param(["{pk}", "--days", "10"], "already works until .* as long as 10 days", id="shorter"),
        pytest.param(["{pk}", "--days", "90"], "already works until .* as long as 90 days", id="the-same"),
    ],
)
def test_token_extend_refuses_what_it_cannot_do_and_changes_nothing(ali, args, message):
    # given a token that works for 90 days
    run("token", "create", "ali")
    token = ApiToken.objects.get()
    # when it is extended as it cannot be, then the refusal says why and nothing changes
    with pytest.raises(CommandError, match=message):
        run("token", "extend", *[arg.format(pk=token.pk) for arg in args])
    assert ApiToken.objects.get().expires_at == token.expires_at
    assert not AuditEvent.objects.filter(action="token.extend").exists()


def test_token_extend_refuses_the_token_of_a_deactivated_user(ali):
    run("token", "create", "ali")
    token = ApiToken.objects.get()
    User.objects.filter(pk=ali.pk).update(is_active=False)
    with pytest.raises(CommandError, match="user 'ali' is not active"):
        run("token", "extend", str(token.pk))


# --- demo_admin ----------------------------------------------------------------------------------


def test_demo_admin_creates_admin_and_prints_its_password(db):
    out, _ = run("demo_admin")
    admin = User.objects.get(username="admin")
    assert user_role(admin) == Role.ADMIN
    assert admin.check_password(printed_password(out))
    assert "shown once" in out


def test_demo_admin_again_sets_a_new_password(db):
    first = printed_password(run("demo_admin")[0])
    second = printed_password(run("demo_admin")[0])
    admin = User.objects.get(username="admin")
    assert first != second
    assert admin.check_password(second)
    assert not admin.check_password(first)
    assert User.objects.filter(username="admin").count() == 1
    assert AuditEvent.objects.filter(action="user.password_set", object_id=str(admin.pk)).count() == 1


# --- jobs ----------------------------------------------------------------------------------------


def test_jobs_list_shows_when_each_was_created_in_the_operations_time_zone(ali):
    import datetime as dt

    from reliefops.core.models import Job

    job = Job.objects.create(
        kind="household_import_preview",
        label="Check of households.csv",
        owner=ali,
        right=Right.REGISTER_HOUSEHOLDS.value,
    )
    # created at 23:54 UTC on 29 November, which is 04:54 on 30 November in Pakistan
    Job.objects.filter(pk=job.pk).update(created_at=dt.datetime(2026, 11, 29, 23, 54, tzinfo=dt.UTC))
    out, _ = run("jobs", "list")
    assert f"{job.pk:>6}  2026-11-30 04:54  queued" in out


@pytest.mark.parametrize(
    ("args", "said"), [([], "no jobs\n"), (["--status", "failed"], "no failed jobs\n")], ids=["all", "failed"]
)
def test_jobs_list_says_when_there_are_none(db, args, said):
    assert run("jobs", "list", *args) == (said, "")


def test_a_command_piped_into_one_that_stops_reading_ends_quietly(tmp_path):
    # given the output of a command piped into one that has stopped reading (`| head -1`)
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {
        **os.environ,
        "RELIEFOPS_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "reliefops", "help"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    # then it stops with the status of a program whose reader went away, and no traceback
    assert done.returncode == 141
    assert b"Traceback" not in done.stderr
    assert done.stderr == b""


def test_every_reliefops_command_skips_the_system_checks_and_check_still_runs_them():
    """Each of the project's own commands starts without Django's system checks (they import the
    whole API first); `reliefops check` still runs them all."""
    from django.core.management import get_commands, load_command_class

    from reliefops.core.cli import ReliefopsCommand

    ours = {name: app for name, app in get_commands().items() if app.startswith("reliefops.")}
    assert {"cluster", "stock", "households", "jobs", "backup", "user"} <= set(ours)
    for name, app in ours.items():
        command = load_command_class(app, name)
        assert isinstance(command, ReliefopsCommand), name
        assert command.requires_system_checks == [], name
    out, _ = run("check")
    assert "System check identified no issues" in out


# --- user accounts: deactivate, reactivate, role, password, export right --------------------------


def audited(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def test_user_create_refuses_a_username_that_differs_only_in_case(batagram):
    run("user", "create", "reg", "--role", "registrar", "--no-input")
    with pytest.raises(
        CommandError, match="user 'reg' already exists, and 'Reg' differs from it only in case"
    ):
        run("user", "create", "Reg", "--role", "admin", "--no-input")
    assert list(User.objects.values_list("username", flat=True)) == ["reg"]


def test_deactivating_a_user_ends_their_sessions_and_revokes_their_tokens(ali):
    # given ali signed in on the web and holding two API tokens, and another user signed in
    browser = Client()
    browser.force_login(ali)
    bystander = Client()
    bystander.force_login(User.objects.create_user("omar", password="Kashmir-2005-relief"))
    plain = [token_create(actor=None, username="ali")[1] for _ in range(2)]
    assert browser.get("/api/core/me").status_code == 200
    # when the operator deactivates ali
    out, _ = run("user", "deactivate", "ali")
    # then ali can sign in no more, their session has ended and their tokens are revoked
    assert (
        "User ali is deactivated: they can no longer sign in; 1 session ended, 2 API tokens revoked." in out
    )
    ali.refresh_from_db()
    assert not ali.is_active
    assert browser.get("/api/core/me").status_code == 401
    assert all(token_authenticate(token) is None for token in plain)
    assert ApiToken.objects.filter(user=ali, revoked_at__isnull=True).count() == 0
    assert bystander.get("/api/core/me").status_code == 200
    with pytest.raises(CommandError, match="is not active"):
        run("token", "create", "ali")
    # and it is audited, with what it stopped
    [event] = audited("user.deactivate")
    assert (event.object_id, event.before, event.after["is_active"]) == (
        str(ali.pk),
        {"is_active": True},
        False,
    )
    assert (len(event.after["tokens_revoked"]), event.after["sessions_ended"]) == (2, 1)


def test_reactivating_a_user_lets_them_sign_in_again_without_their_old_tokens(ali):
    ali.set_password("Kashmir-2005-relief")
    ali.save()
    _, plain = token_create(actor=None, username="ali")
    run("user", "deactivate", "ali")
    out, _ = run("user", "reactivate", "ali")
    assert "User ali is active again" in out
    assert Client().login(username="ali", password="Kashmir-2005-relief")
    assert token_authenticate(plain) is None
    assert [e.after for e in audited("user.reactivate")] == [{"is_active": True}]
    # a second time changes nothing and says so
    assert "is active already" in run("user", "reactivate", "ali")[0]
    assert len(audited("user.reactivate")) == 1


def test_user_role_sets_the_role_and_replaces_the_scope(ali):
    run("user", "role", "ali", "hub_manager", "--hub", "BTG-HUB", "--distribution-point", "DP-BANA")
    ali.refresh_from_db()
    assert user_role(ali) == Role.HUB_MANAGER
    assert list(ali.profile.hubs.values_list("code", flat=True)) == ["BTG-HUB"]
    # when the hub manager becomes a distributor at the camp only
    out, _ = run("user", "role", "ali", "distributor", "--distribution-point", "CAMP-MAIRA")
    assert "User ali now has role distributor (distribution points: CAMP-MAIRA)." in out
    ali.refresh_from_db()
    assert not ali.profile.hubs.exists()
    assert list(ali.profile.distribution_points.values_list("code", flat=True)) == ["CAMP-MAIRA"]
    # and each change is audited, before and after
    first, second = audited("user.role_set")
    assert (first.before["role"], first.after["role"]) == ("viewer", "hub_manager")
    assert second.before["hub_ids"]
    assert not second.after["hub_ids"]


def test_user_role_admin_opens_the_data_admin_and_another_role_closes_it(ali):
    run("user", "role", "ali", "admin")
    ali.refresh_from_db()
    assert ali.is_staff
    assert ali.is_superuser
    run("user", "role", "ali", "viewer")
    ali.refresh_from_db()
    assert not ali.is_staff
    assert not ali.is_superuser


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["viewer", "--hub", "BTG-HUB"], "--hub is for the hub_manager role"),
        (["partner_reporter"], "a partner_reporter reports for an organisation"),
        (["distributor", "--distribution-point", "BTG-HUB"], "BTG-HUB is a hub, not a distribution point"),
    ],
    ids=["hub-for-viewer", "reporter-without-org", "hub-as-point"],
)
def test_user_role_refuses_a_scope_that_does_not_fit(ali, args, message):
    with pytest.raises(CommandError, match=message):
        run("user", "role", "ali", *args)
    assert user_role(User.objects.get(username="ali")) == Role.VIEWER
    assert not audited("user.role_set")


def test_user_password_generated_when_not_at_a_terminal_works_and_the_old_one_stops(ali):
    ali.set_password("Kashmir-2005-relief")
    ali.save()
    out, _ = run("user", "password", "ali")
    new = printed_password(out)
    ali.refresh_from_db()
    assert ali.check_password(new)
    assert not ali.check_password("Kashmir-2005-relief")
    assert len(audited("user.password_set")) == 1
    assert new not in str([e.after for e in AuditEvent.objects.all()])


def test_user_password_typed_at_a_terminal_is_never_printed(ali, monkeypatch):
    answers = iter(["Muzaffarabad-2006", "Muzaffarabad-2006"])
    monkeypatch.setattr("reliefops.core.management.commands.user.interactive", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    out, _ = run("user", "password", "ali")
    assert "Password:" not in out
    assert User.objects.get(username="ali").check_password("Muzaffarabad-2006")


def test_a_user_created_with_the_export_right_is_told_so(db):
    out, _ = run("user", "create", "amexp", "--role", "registrar", "--can-export-personal-data", "--no-input")
    lines = out.splitlines()
    assert lines[0] == "User amexp created with role registrar."
    assert lines[1] == "User amexp may export households' personal data."
    # and without it, nothing is said of it
    out, _ = run("user", "create", "amina", "--role", "registrar", "--no-input")
    assert "export" not in out


def test_the_export_right_is_granted_and_withdrawn_and_audited(ali):
    out, _ = run("user", "grant-export", "ali")
    assert out == "User ali may export households' personal data.\n"
    assert User.objects.get(username="ali").profile.can_export_personal_data
    out, _ = run("user", "withdraw-export", "ali")
    assert out == "User ali may not export households' personal data.\n"
    assert not User.objects.get(username="ali").profile.can_export_personal_data
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="user.export").order_by("pk")] == [
        "user.export_right_grant",
        "user.export_right_withdraw",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["deactivate"],
        ["reactivate"],
        ["role", "Ali", "viewer"],
        ["password"],
        ["grant-export"],
        ["withdraw-export"],
    ],
    ids=lambda args: args[0],
)
def test_every_account_command_refuses_an_unknown_user_clearly(ali, args):
    action, *rest = args
    with pytest.raises(CommandError) as refused:
        run("user", action, *(rest or ["Ali"]))
    assert str(refused.value) == "no user 'Ali' (did you mean 'ali'? usernames are told apart by case)"
    with pytest.raises(CommandError, match=r"^no user 'nobody'$"):
        run("user", action, "nobody", *rest[1:])
    assert not AuditEvent.objects.filter(action__startswith="user.").exclude(action="user.create").exists()


def test_user_list_shows_each_account_with_its_role_scope_and_status(ali):
    run("user", "create", "hub1", "--role", "hub_manager", "--hub", "BTG-HUB", "--no-input")
    run("user", "deactivate", "ali")
    lines = run("user", "list")[0].splitlines()
    assert lines[0].split() == [
        "user",
        "role",
        "organisation",
        "scope",
        "status",
        "exports",
        "last",
        "sign-in",
    ]
    assert lines[1].split() == ["ali", "viewer", "-", "-", "deactivated", "no", "never"]
    assert lines[2].split() == ["hub1", "hub_manager", "-", "BTG-HUB", "active", "no", "never"]


def test_user_list_says_an_admin_may_export_by_role(ali):
    run("user", "create", "boss", "--role", "admin", "--no-input")
    (line,) = [row for row in run("user", "list")[0].splitlines() if row.startswith("boss ")]
    assert "yes (by role)" in line
