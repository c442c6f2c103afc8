"""`reliefops user create USERNAME --role ROLE [--organisation ACRONYM] [--hub CODE ...] ...`."""

from __future__ import annotations

import getpass
import secrets
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from reliefops.core.cli import ReliefopsCommand, service_errors
from reliefops.core.roles import Role
from reliefops.core.services import user_create
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


class Command(ReliefopsCommand):
    help = "Create a user with a role and scope; prints the password when it was generated."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create a user")
        create.add_argument("username", metavar="USERNAME")
        create.add_argument("--role", required=True, choices=[r.value for r in Role])
        create.add_argument(
            "--organisation", metavar="ACRONYM", help="the user's organisation (acronym or name)"
        )
        create.add_argument(
            "--hub",
            metavar="SITECODE",
            nargs="+",
            action="extend",
            default=[],
            help="hubs a hub manager runs",
        )
        create.add_argument(
            "--distribution-point",
            metavar="SITECODE",
            nargs="+",
            action="extend",
            default=[],
            dest="distribution_points",
            help="distribution points (or camps) a distributor or hub manager works at",
        )
        create.add_argument("--can-export-personal-data", action="store_true")
        create.add_argument("--email", default="")
        create.add_argument(
            "--no-input", action="store_true", help="do not prompt for a password: generate one and print it"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = Role(options["role"])
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
        if role == Role.PARTNER_REPORTER and organisation_id is None:
            raise CommandError("a partner_reporter reports for an organisation: give --organisation")

        password, generated = self._password(options["username"], no_input=options["no_input"])
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
        scope = [f"hubs: {', '.join(s.code for s in hubs)}"] if hubs else []
        scope += [f"distribution points: {', '.join(s.code for s in points)}"] if points else []
        where = f" ({'; '.join(scope)})" if scope else ""
        self.stdout.write(
            self.style.SUCCESS(f"User {user.get_username()} created with role {role.value}{where}.")
        )
        if generated:
            self.stdout.write(f"Password: {password}")
            self.stdout.write("It is shown only this once; the user should change it after signing in.")

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

    def _password(self, username: str, *, no_input: bool) -> tuple[str, bool]:
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
