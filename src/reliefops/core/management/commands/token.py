"""`reliefops token create USERNAME [--days N]`, `token extend TOKEN_ID [--days N]`, `token revoke
TOKEN_ID`, `token list [USERNAME]`.

A token is printed once, at creation; only its hash is stored, and the list never shows it. A token
works for 90 days unless `--days` asks for another lifetime (1 to 365); the list shows when each
expires. Extending a token makes it work `--days` days from now (90 unless asked), so a script's
token is kept without a new one to hand over.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from reliefops.core.cli import ReliefopsCommand, service_errors
from reliefops.core.models import ApiToken
from reliefops.core.services import (
    TOKEN_DAYS_DEFAULT,
    TOKEN_DAYS_MAX,
    token_create,
    token_extend,
    token_moment,
    token_revoke,
)


def _when(value: Any) -> str:
    return token_moment(value) if value else "-"


def _status(token: ApiToken, now: Any) -> str:
    if token.revoked_at:
        return f"revoked {_when(token.revoked_at)}"
    return "expired" if now >= token.expires_at else "active"


class Command(ReliefopsCommand):
    help = "API tokens: create one for a user (shown once), extend, revoke or list them."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="issue a token for a user and print it once")
        create.add_argument("username", metavar="USERNAME")
        create.add_argument("--name", default="", help="what the token is for, e.g. 'sync laptop Batagram'")
        create.add_argument(
            "--days",
            type=int,
            default=TOKEN_DAYS_DEFAULT,
            metavar="N",
            help=f"how many days the token works, 1 to {TOKEN_DAYS_MAX} (default {TOKEN_DAYS_DEFAULT})",
        )
        extend = actions.add_parser("extend", help="make a token (expired or not) work N more days from now")
        extend.add_argument("token_id", metavar="TOKEN_ID", type=int)
        extend.add_argument(
            "--days",
            type=int,
            default=TOKEN_DAYS_DEFAULT,
            metavar="N",
            help=f"days from now the token works, 1 to {TOKEN_DAYS_MAX} (default {TOKEN_DAYS_DEFAULT})",
        )
        revoke = actions.add_parser("revoke", help="revoke a token by its id")
        revoke.add_argument("token_id", metavar="TOKEN_ID", type=int)
        listing = actions.add_parser("list", help="list tokens (never the tokens themselves)")
        listing.add_argument("username", metavar="USERNAME", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            with service_errors(self):
                token, plain = token_create(
                    actor=None, username=options["username"], name=options["name"], days=options["days"]
                )
            label = f" ({token.name})" if token.name else ""
            self.stdout.write(self.style.SUCCESS(f"Token {token.pk} for {options['username']}{label}:"))
            self.stdout.write(plain)
            self.stdout.write("It is shown only this once. Send it as 'Authorization: Bearer <token>'.")
            self.stdout.write(
                f"It works until {_when(token.expires_at)} ({settings.TIME_ZONE} time); "
                "issue a new one before then."
            )
        elif action == "extend":
            with service_errors(self):
                token = token_extend(actor=None, token_id=options["token_id"], days=options["days"])
            self.stdout.write(
                f"Token {token.pk} ({token.prefix}…, user {token.user}) works until "
                f"{_when(token.expires_at)} ({settings.TIME_ZONE} time)."
            )
        elif action == "revoke":
            with service_errors(self):
                token = token_revoke(actor=None, token_id=options["token_id"])
            self.stdout.write(f"Token {token.pk} ({token.prefix}…, user {token.user}) is revoked.")
        else:
            self._list(options["username"])

    def _list(self, username: str | None) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "pk")
        if username:
            if not get_user_model().objects.filter(username=username).exists():
                raise CommandError(f"no user {username!r}")
            tokens = tokens.filter(user__username=username)
        now = timezone.now()
        rows = [
            (
                str(t.pk),
                t.user.get_username(),
                f"{t.prefix}…",
                t.name or "-",
                _when(t.created_at),
                _when(t.last_used_at),
                _when(t.expires_at),
                _status(t, now),
            )
            for t in tokens
        ]
        if not rows:
            self.stdout.write("no tokens")
            return
        header = ("id", "user", "prefix", "name", "created", "last used", "expires", "status")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            )
