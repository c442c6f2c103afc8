"""One typed table of the environment variables reliefops reads.

Every setting that an operator may change is declared here with its type, default and meaning;
`docs/configuration.md` is checked against this table by the test suite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("RELIEFOPS_VAR_DIR", str(BASE_DIR / "var")))


class ConfigurationError(RuntimeError):
    """The environment asks for something reliefops cannot start with."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


def _list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _int(raw: str) -> int:
    return int(raw.strip())


def _str(raw: str) -> str:
    return raw


@dataclass(frozen=True)
class EnvVar:
    name: str
    type: str
    default: str | None
    meaning: str

    @property
    def parser(self) -> Callable[[str], Any]:
        return {"bool": _bool, "list": _list, "int": _int, "str": _str, "url": _str, "path": _str}[self.type]


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "RELIEFOPS_ENV",
        "str",
        "development",
        "`development` or `production`; production refuses to start without SECRET_KEY and ALLOWED_HOSTS",
    ),
    EnvVar(
        "DATABASE_URL",
        "url",
        None,
        "database to use; unset means SQLite at `var/reliefops.sqlite3`; "
        "`postgresql://user@host:5432/db` for the server",
    ),
    EnvVar(
        "SECRET_KEY",
        "str",
        None,
        "Django secret key; required in production; in development a random key is kept in `var/secret_key`",
    ),
    EnvVar(
        "ALLOWED_HOSTS",
        "list",
        "127.0.0.1,localhost",
        "comma-separated host names the server answers to; required in production",
    ),
    EnvVar("DEBUG", "bool", "false", "show debug pages; never in production"),
    EnvVar(
        "RELIEFOPS_VAR_DIR",
        "path",
        "var",
        "folder for the SQLite database, uploads and the development secret",
    ),
    EnvVar("RELIEFOPS_SQLITE_BUSY_TIMEOUT", "int", "20", "seconds a SQLite writer waits for the write lock"),
    EnvVar(
        "RELIEFOPS_PG_TRANSACTION_POOLER",
        "bool",
        "false",
        "PostgreSQL is reached through a transaction-mode pooler (PgBouncer): prepare no statements, "
        "open no server-side cursors",
    ),
    EnvVar(
        "RELIEFOPS_TEST_DATABASE_URL",
        "url",
        None,
        "when set, `make test` runs the suite a second time on this PostgreSQL database",
    ),
    EnvVar(
        "RELIEFOPS_TEST_DB_SUFFIX",
        "str",
        "",
        "appended to the test database names, so that two test runs on one machine keep apart",
    ),
    EnvVar("RELIEFOPS_SESSION_AGE", "int", "28800", "seconds a login session lasts (default 8 hours)"),
    EnvVar(
        "RELIEFOPS_SESSION_IDLE",
        "int",
        "3600",
        "seconds without a request after which a signed-in session ends (default 1 hour)",
    ),
    EnvVar(
        "RELIEFOPS_LOGIN_MAX_FAILURES",
        "int",
        "5",
        "failed sign-ins for one username within the lockout window before its sign-in is refused",
    ),
    EnvVar(
        "RELIEFOPS_LOGIN_MAX_FAILURES_PER_IP",
        "int",
        "20",
        "failed sign-ins from one address within the lockout window before its sign-ins are refused",
    ),
    EnvVar(
        "RELIEFOPS_LOGIN_LOCKOUT",
        "int",
        "900",
        "seconds over which failed sign-ins are counted, and for which a locked sign-in stays refused",
    ),
    EnvVar(
        "RELIEFOPS_BEHIND_PROXY",
        "bool",
        "true",
        "production: a TLS-terminating proxy is in front, whose X-Forwarded-Proto and X-Forwarded-For "
        "are trusted",
    ),
    EnvVar(
        "RELIEFOPS_SSL_REDIRECT",
        "bool",
        "true",
        "production: redirect plain-HTTP requests to HTTPS",
    ),
    EnvVar("RELIEFOPS_HSTS_SECONDS", "int", "31536000", "production: max-age of the HSTS header"),
    EnvVar(
        "RELIEFOPS_IMPORT_MAX_BYTES",
        "int",
        "268435456",
        "largest file an importer reads (bytes; default 256 MiB)",
    ),
    EnvVar(
        "RELIEFOPS_IMPORT_MAX_ROWS", "int", "1100000", "most lines or rows an importer reads from one file"
    ),
    EnvVar("RELIEFOPS_IMPORT_MAX_CELL", "int", "32767", "most characters in one cell of an imported file"),
    EnvVar(
        "RELIEFOPS_IMPORT_SPLIT_BYTES",
        "int",
        "16777216",
        "size of a CSV 4W file from which it is read and checked in two processes at once, on a machine "
        "of two cores or more (default 16 MiB; 0: never)",
    ),
    EnvVar(
        "RELIEFOPS_IMPORT_MAX_UNZIPPED",
        "int",
        "1073741824",
        "most bytes a workbook (XLSX, ODS) may hold once decompressed (default 1 GiB)",
    ),
    EnvVar(
        "RELIEFOPS_IMPORT_MAX_ZIP_RATIO",
        "int",
        "500",
        "highest decompressed-to-compressed ratio of a part of a workbook over 16 MiB (a zip bomb's is in "
        "the thousands)",
    ),
    EnvVar(
        "RELIEFOPS_HOUSEHOLD_RETENTION_DAYS",
        "int",
        "730",
        "days after a household's last registration or delivery before `reliefops households anonymise` "
        "removes its personal data",
    ),
    EnvVar(
        "RELIEFOPS_MATCH_WORKERS",
        "int",
        None,
        "processes a duplicate-detection batch run compares pairs in (unset: one per core)",
    ),
    EnvVar(
        "RELIEFOPS_BACKUP_KEY_FILE",
        "path",
        None,
        "file holding the key that `reliefops backup` encrypts with and `reliefops restore` decrypts with",
    ),
    EnvVar(
        "RELIEFOPS_BACKUP_KEY",
        "str",
        None,
        "the backup key itself, where a key file cannot be used; never both",
    ),
    EnvVar(
        "RELIEFOPS_ORGANISATION",
        "str",
        "IOM",
        "acronym or name of the organisation whose ledger this is, as the dashboard and the sitrep name it",
    ),
    EnvVar(
        "RELIEFOPS_CHROMIUM", "path", "/usr/bin/chromium", "Chromium executable used by the browser tests"
    ),
)

_BY_NAME = {var.name: var for var in ENV_VARS}


def env(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The value of a declared variable, parsed to its type (None when unset with no default)."""
    var = _BY_NAME[name]
    source = os.environ if environ is None else environ
    raw = source.get(name)
    if raw is None or not raw.strip():  # blank, or only spaces: unset
        raw = var.default
    if raw is None:
        return None
    try:
        return var.parser(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}: {exc}") from exc
