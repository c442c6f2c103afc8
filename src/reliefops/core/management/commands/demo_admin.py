"""`reliefops demo_admin`: an `admin` account with a fresh random password, printed once.

Run again, it gives the existing account a new password (the old one stops working).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandParser

from reliefops.core.access import user_role
from reliefops.core.cli import ReliefopsCommand, service_errors
from reliefops.core.roles import Role
from reliefops.core.services import user_create, user_password_set


class Command(ReliefopsCommand):
    help = "Create the demo admin account (or give it a new password) and print its one-time password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        password = secrets.token_urlsafe(12)
        existing = get_user_model().objects.filter(username=username).first()
        with service_errors(self):
            if existing is None:
                user_create(actor=None, username=username, password=password, role=Role.ADMIN)
                what = "created"
            else:
                user_password_set(actor=None, username=username, password=password)
                what = "given a new password"
                if user_role(existing) != Role.ADMIN:
                    self.stderr.write(f"note: {username} does not hold the admin role")
        rule = "=" * 60
        self.stdout.write(rule)
        self.stdout.write(f"Admin account {username!r} {what}.")
        self.stdout.write(self.style.SUCCESS(f"  username: {username}"))
        self.stdout.write(self.style.SUCCESS(f"  password: {password}"))
        self.stdout.write("This password is shown once; running demo_admin again replaces it.")
        self.stdout.write(rule)
