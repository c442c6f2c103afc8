"""`reliefops user ACTION`: the accounts an operator manages.

- `create USERNAME --role ROLE [--organisation ACRONYM] [--hub CODE ...] [--distribution-point CODE ...]`
- `list`: every user with role, scope, status and export right
- `deactivate USERNAME` / `reactivate USERNAME`: a deactivated user cannot sign in; their sessions end
  and their API tokens are revoked
- `role USERNAME ROLE [--organisation …] [--hub …] [--distribution-point …]`: a new role and its scope
- `password USERNAME [--no-input]`: a new password, typed at a terminal or generated and printed
- `grant-export USERNAME` / `withdraw-export USERNAME`: the right to export households' personal data

Each change is a service of core.services, and audited.
"""

from __future__ import annotations

import getpass
import secrets
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from reliefops.core.cli import ReliefopsCommand, service_errors
from reliefops.core.models import UserProfile
from reliefops.core.roles import Role
from reliefops.core.services import (
    NoOrganisation,
    unknown_user,
    user_create,
    user_deactivate,
    user_export_right_set,
    user_password_set,
    user_reactivate,
    user_role_set,
)
from reliefops.core.text import counted
from reliefops.partners.selectors import organisation_find
from reliefops.places.models import Site, SiteKind
from reliefops.places.selectors import site_by_code

HUB_KINDS = (SiteKind.HUB, SiteKind.WAREHOUSE)
POINT_KINDS = (SiteKind.DISTRIBUTION_POINT, SiteKind.CAMP)


def interactive() -> bool:
    """Whether someone at a terminal can answer a prompt."""
    return sys.stdin.isatty()


def generated_password() -> str:
    return secrets.token_urlsafe(12)


def _scope_arguments(parser: CommandParser) -> None:
    parser.add_argument("--organisation", metavar="ACRONYM", help="the user's organisation (acronym or name)")
    parser.add_argument(
        "--hub",
        metavar="SITECODE",
        nargs="+",
        action="extend",
        default=[],
        help="hubs a hub manager runs",
    )
    parser.add_argument(
        "--distribution-point",
        metavar="SITECODE",
        nargs="+",
        action="extend",
        default=[],
        dest="distribution_points",
        help="distribution points (or camps) a distributor or hub manager works at",
    )


def _no_input_argument(parser: CommandParser) -> None:
    parser.add_argument(
        "--no-input", action="store_true", help="do not prompt for a password: generate one and print it"
    )


def _exports(profile: UserProfile | None) -> str:
    """Whether the user may export personal data: an admin holds the right by role (as
    `access.can_export_personal_data` says), anyone else only when it is granted."""
    if profile is None:
        return "no"
    if profile.role == Role.ADMIN:
        return "yes (by role)"
    return "yes" if profile.can_export_personal_data else "no"


class Command(ReliefopsCommand):
    help = (
        "Users: create one, list them, deactivate or reactivate one, change a role or a password, "
        "grant or withdraw the personal-data export right."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create a user")
        create.add_argument("username", metavar="USERNAME")
        create.add_argument("--role", required=True, choices=[r.value for r in Role])
        _scope_arguments(create)
        create.add_argument("--can-export-personal-data", action="store_true")
        create.add_argument("--email", default="")
        _no_input_argument(create)
        actions.add_parser("list", help="every user with role, scope, status and export right")
        for name, what in (
            ("deactivate", "stop a user: no sign-in, their sessions end and their API tokens are revoked"),
            ("reactivate", "let a deactivated user sign in again"),
            ("grant-export", "grant the right to export households' personal data"),
            ("withdraw-export", "withdraw the right to export households' personal data"),
        ):
            actions.add_parser(name, help=what).add_argument("username", metavar="USERNAME")
        role = actions.add_parser(
            "role", help="give a user another role; the hubs and points given replace the old ones"
        )
        role.add_argument("username", metavar="USERNAME")
        role.add_argument("role", metavar="ROLE", choices=[r.value for r in Role])
        _scope_arguments(role)
        password = actions.add_parser("password", help="set a new password (typed, or generated and printed)")
        password.add_argument("username", metavar="USERNAME")
        _no_input_argument(password)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _scope(self, options: dict[str, Any], role: Role) -> tuple[int | None, list[Site], list[Site]]:
        """The organisation, hubs and distribution points given, checked against the role."""
        organisation_id = self._organisation(options["organisation"])
        hubs = [self._site(code, HUB_KINDS, "a hub or warehouse") for code in options["hub"]]
        points = [
            self._site(code, POINT_KINDS, "a distribution point or camp")
            for code in options["distribution_points"]
        ]
        if hubs and role != Role.HUB_MANAGER:
            raise CommandError("--hub is for the hub_manager role")
        if points and role not in {Role.HUB_MANAGER, Role.DISTRIBUTOR}:
            raise CommandError("--distribution-point is for the distributor and hub_manager roles")
        return organisation_id, hubs, points

    @staticmethod
    def _where(hubs: list[Site], points: list[Site]) -> str:
        scope = [f"hubs: {', '.join(s.code for s in hubs)}"] if hubs else []
        scope += [f"distribution points: {', '.join(s.code for s in points)}"] if points else []
        return f" ({'; '.join(scope)})" if scope else ""

    def _create(self, options: dict[str, Any]) -> None:
        role = Role(options["role"])
        organisation_id, hubs, points = self._scope(options, role)
        if role == Role.PARTNER_REPORTER and organisation_id is None:
            raise CommandError("a partner_reporter reports for an organisation: give --organisation")

        password, generated = self._new_password(options["username"], no_input=options["no_input"])
        with service_errors(self):
            user = user_create(
                actor=None,
                username=options["username"],
                password=password,
                role=role,
                organisation_id=organisation_id,
                hub_ids=[s.pk for s in hubs],
                distribution_point_ids=[s.pk for s in points],
                can_export_personal_data=options["can_export_personal_data"],
                email=options["email"],
            )
        where = self._where(hubs, points)
        self.stdout.write(
            self.style.SUCCESS(f"User {user.get_username()} created with role {role.value}{where}.")
        )
        if options["can_export_personal_data"]:
            self.stdout.write(f"User {user.get_username()} may export households' personal data.")
        if generated:
            self._show_password(password)

    def _show_password(self, password: str) -> None:
        self.stdout.write(f"Password: {password}")
        self.stdout.write(
            "It is shown only this once: give it to the user in person, and ask them to change it after "
            "signing in (Change password, at the top of every page). A forgotten password is replaced "
            "with `reliefops user password USERNAME`."
        )

    def _list(self, options: dict[str, Any]) -> None:
        profiles = {
            p.user_id: p
            for p in UserProfile.objects.select_related("organisation").prefetch_related(
                "hubs", "distribution_points"
            )
        }
        rows = []
        for user in get_user_model().objects.order_by("username"):
            profile = profiles.get(user.pk)
            scope = (
                ", ".join(
                    [s.code for s in profile.hubs.all()] + [s.code for s in profile.distribution_points.all()]
                )
                if profile
                else ""
            )
            organisation = profile.organisation if profile else None
            rows.append(
                (
                    user.get_username(),
                    profile.role if profile else "-",
                    (organisation.acronym or organisation.name) if organisation else "-",
                    scope or "-",
                    "active" if user.is_active else "deactivated",
                    _exports(profile),
                    timezone.localtime(user.last_login).strftime("%Y-%m-%d %H:%M")
                    if user.last_login
                    else "never",
                )
            )
        if not rows:
            self.stdout.write("no users: create one with `reliefops user create USERNAME --role ROLE`")
            return
        header = ("user", "role", "organisation", "scope", "status", "exports", "last sign-in")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            )

    def _deactivate(self, options: dict[str, Any]) -> None:
        with service_errors(self):
            done = user_deactivate(actor=None, username=options["username"])
        name = done.user.get_username()
        if not done.changed:
            self.stdout.write(f"User {name} was already deactivated.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"User {name} is deactivated: they can no longer sign in; "
                f"{counted(done.sessions_ended, 'session')} ended, "
                f"{counted(len(done.tokens_revoked), 'API token')} revoked."
            )
        )

    def _reactivate(self, options: dict[str, Any]) -> None:
        with service_errors(self):
            user, changed = user_reactivate(actor=None, username=options["username"])
        if not changed:
            self.stdout.write(f"User {user.get_username()} is active already.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"User {user.get_username()} is active again, with the role and password they had; "
                "their revoked API tokens stay revoked (`reliefops token create` issues new ones)."
            )
        )

    def _role(self, options: dict[str, Any]) -> None:
        role = Role(options["role"])
        organisation_id, hubs, points = self._scope(options, role)
        with service_errors(self):
            try:
                user = user_role_set(
                    actor=None,
                    username=options["username"],
                    role=role,
                    organisation_id=organisation_id,
                    hub_ids=[s.pk for s in hubs],
                    distribution_point_ids=[s.pk for s in points],
                )
            except NoOrganisation as exc:
                raise CommandError(f"{exc.message}: give --organisation") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"User {user.get_username()} now has role {role.value}{self._where(hubs, points)}."
            )
        )

    def _password(self, options: dict[str, Any]) -> None:
        if not get_user_model().objects.filter(username=options["username"]).exists():
            raise CommandError(unknown_user(options["username"]).message)  # before asking for a password
        password, generated = self._new_password(options["username"], no_input=options["no_input"])
        with service_errors(self):
            user = user_password_set(actor=None, username=options["username"], password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"User {user.get_username()} has a new password; the old one, and the sessions signed in "
                "with it, no longer work."
            )
        )
        if generated:
            self._show_password(password)

    def _grant_export(self, options: dict[str, Any]) -> None:
        self._export_right(options["username"], allowed=True)

    def _withdraw_export(self, options: dict[str, Any]) -> None:
        self._export_right(options["username"], allowed=False)

    def _export_right(self, username: str, *, allowed: bool) -> None:
        with service_errors(self):
            user, changed = user_export_right_set(actor=None, username=username, allowed=allowed)
        state = "may" if allowed else "may not"
        already = "" if changed else " (unchanged)"
        self.stdout.write(f"User {user.get_username()} {state} export households' personal data{already}.")

    def _organisation(self, text: str | None) -> int | None:
        if not text:
            return None
        found = organisation_find(text)
        if not found:
            raise CommandError(f"no organisation {text!r} (name, acronym or alias)")
        if len(found) > 1:
            raise CommandError(f"{text!r} could mean {', '.join(o.name for o in found)}; give the full name")
        return found[0].pk

    def _site(self, code: str, kinds: tuple[SiteKind, ...], what: str) -> Site:
        site = site_by_code(code)
        if site is None:
            raise CommandError(f"no site with code {code!r}")
        if site.kind not in kinds:
            raise CommandError(f"{site.code} is a {site.get_kind_display().lower()}, not {what}")
        return site

    def _new_password(self, username: str, *, no_input: bool) -> tuple[str, bool]:
        """The password typed at the prompt, or a generated one (and whether it was generated)."""
        if no_input or not interactive():
            return generated_password(), True
        for _ in range(3):
            typed = getpass.getpass("Password (leave empty to generate one): ")
            if not typed:
                return generated_password(), True
            if getpass.getpass("Password again: ") != typed:
                self.stderr.write("The passwords differ; try again.")
                continue
            try:
                validate_password(typed)
            except ValidationError as exc:
                self.stderr.write(" ".join(exc.messages))
                continue
            return typed, False
        raise CommandError("no acceptable password after three tries; nothing was written")
