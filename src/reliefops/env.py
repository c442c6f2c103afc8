"""One typed table of the environment variables reliefops reads.

Every setting that an operator may change is declared here with its type, default and meaning;
`docs/configuration.md` is checked against this table by the test suite.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _var_dir() -> Path:
    """RELIEFOPS_VAR_DIR as a full path (a relative one is taken from the folder the command starts
    in); unset, empty or spaces only, as every variable: `var/` at the top of the checkout."""
    raw = os.environ.get("RELIEFOPS_VAR_DIR", "").strip()
    return Path(raw).absolute() if raw else BASE_DIR / "var"


VAR_DIR = _var_dir()


class ConfigurationError(RuntimeError):
    """The environment asks for something reliefops cannot start with."""

    # Set once its message has been written to standard error, so that the command line does not
    # write it a second time.
    announced = False


def refuse_to_start(problems: list[str]) -> NoReturn:
    """Stop the start on a ConfigurationError naming every problem, its message first written on one
    line of standard error: gunicorn prints the traceback of a worker that fails to boot, which
    would otherwise bury the reason at its end."""
    error = ConfigurationError("; ".join(problems))
    print(f"ConfigurationError: {error}", file=sys.stderr, flush=True)
    error.announced = True
    raise error


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


def _list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def _str(raw: str) -> str:
    return raw


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(raw: str) -> dt.date:
    text = raw.strip()
    try:
        if _DAY.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(f"expected a day written YYYY-MM-DD, e.g. 2005-10-08, got {raw!r}")


# The databases reliefops runs on; `postgres://` is the older spelling of `postgresql://`.
DATABASE_SCHEMES = ("postgresql", "postgres", "sqlite")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,19}")


def _database_url(raw: str) -> str:
    """A PostgreSQL or SQLite URL that dj-database-url reads. A refusal never repeats the URL, which
    may hold a password."""
    url = raw.strip()
    scheme, found, _ = url.partition("://")
    supported = (
        "only postgresql://user:password@host:5432/dbname and sqlite:////absolute/path.sqlite3 are supported"
    )
    if not found or not _SCHEME.fullmatch(scheme):
        raise ValueError(f"expected a database URL: {supported}")
    if scheme.lower() not in DATABASE_SCHEMES:
        raise ValueError(f"{supported}, not {scheme}://")
    try:
        config = dj_database_url.parse(url)
    except (ValueError, dj_database_url.ParseError) as exc:
        raise ValueError(f"cannot read it as a database URL ({supported}): {exc}") from exc
    if not config.get("NAME"):
        raise ValueError(
            "names no database: end it with the database's name, as in postgresql://user@host:5432/dbname"
        )
    return url


@dataclass(frozen=True)
class EnvVar:
    name: str
    type: str
    default: str | None
    meaning: str
    # An int's unit, as its refusal names it ("seconds"), and the range it must fall in (`high`
    # None: no upper bound). Every int declares its range.
    unit: str = ""
    low: int | None = None
    high: int | None = None

    @property
    def parser(self) -> Callable[[str], Any]:
        parsers: dict[str, Callable[[str], Any]] = {
            "bool": _bool,
            "list": _list,
            "int": self._int,
            "str": _str,
            "url": _database_url,
            "path": _str,
            "date": _date,
        }
        return parsers[self.type]

    @property
    def range(self) -> str:
        """The values an int may take, in words: "60 to 2592000", "1 or more"; "" for other types."""
        if self.type != "int":
            return ""
        if self.high is None:
            return f"{self.low} or more"
        return f"{self.low} to {self.high}"

    def _int(self, raw: str) -> int:
        text = raw.strip()
        expected = "expected a whole number" + (f" of {self.unit}" if self.unit else "")
        if not _WHOLE_NUMBER.fullmatch(text):
            raise ValueError(f"{expected}, got {raw!r}")
        value = int(text)
        assert self.low is not None, f"{self.name} declares no range"  # noqa: S101 - a slip in the table
        if value < self.low or (self.high is not None and value > self.high):
            allowed = f" from {self.range}" if self.high is not None else f", {self.range}"
            raise ValueError(f"{expected}{allowed}, got {value}")
        return value


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "RELIEFOPS_ENV",
        "str",
        "development",
        "`development` or `production`; production refuses to start without a strong SECRET_KEY and "
        "without ALLOWED_HOSTS",
    ),
    EnvVar(
        "DATABASE_URL",
        "url",
        None,
        "database to use; unset means SQLite at `var/reliefops.sqlite3`; "
        "`postgresql://user@host:5432/db` for the server; no other kind of database is supported",
    ),
    EnvVar(
        "SECRET_KEY",
        "str",
        None,
        "Django secret key; required in production, and refused there when Django's check would call it "
        "insecure; in development a random key is kept in `var/secret_key`",
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
    EnvVar(
        "RELIEFOPS_SQLITE_BUSY_TIMEOUT",
        "int",
        "20",
        "seconds a SQLite writer waits for the write lock",
        unit="seconds",
        low=1,
        high=3_600,
    ),
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
    EnvVar(
        "RELIEFOPS_SESSION_AGE",
        "int",
        "28800",
        "seconds a login session lasts (default 8 hours)",
        unit="seconds",
        low=60,
        high=2_592_000,
    ),
    EnvVar(
        "RELIEFOPS_SESSION_IDLE",
        "int",
        "3600",
        "seconds without a request after which a signed-in session ends (default 1 hour)",
        unit="seconds",
        low=60,
        high=2_592_000,
    ),
    EnvVar(
        "RELIEFOPS_LOGIN_MAX_FAILURES",
        "int",
        "5",
        "failed sign-ins for one username within the lockout window before its sign-in is refused",
        unit="failed sign-ins",
        low=1,
        high=1_000,
    ),
    EnvVar(
        "RELIEFOPS_LOGIN_MAX_FAILURES_PER_IP",
        "int",
        "20",
        "failed sign-ins from one address within the lockout window before its sign-ins are refused",
        unit="failed sign-ins",
        low=1,
        high=1_000_000,
    ),
    EnvVar(
        "RELIEFOPS_LOGIN_LOCKOUT",
        "int",
        "900",
        "seconds over which failed sign-ins are counted, and for which a locked sign-in stays refused",
        unit="seconds",
        low=60,
        high=86_400,
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
    EnvVar(
        "RELIEFOPS_HSTS_SECONDS",
        "int",
        "31536000",
        "production: max-age of the HSTS header",
        unit="seconds",
        low=0,
        high=63_072_000,
    ),
    EnvVar(
        "RELIEFOPS_IMPORT_MAX_BYTES",
        "int",
        "268435456",
        "largest file an importer reads (bytes; default 256 MiB)",
        unit="bytes",
        low=1,
    ),
    EnvVar(
        "RELIEFOPS_IMPORT_MAX_ROWS",
        "int",
        "1100000",
        "most lines or rows an importer reads from one file",
        unit="rows",
        low=1,
    ),
    EnvVar(
        "RELIEFOPS_IMPORT_MAX_CELL",
        "int",
        "32767",
        "most characters in one cell of an imported file",
        unit="characters",
        low=1,
    ),
    EnvVar(
        "RELIEFOPS_IMPORT_SPLIT_BYTES",
        "int",
        "16777216",
        "size of a CSV 4W file from which it is read and checked in two processes at once, on a machine "
        "of two cores or more (default 16 MiB; 0: never)",
        unit="bytes",
        low=0,
    ),
    EnvVar(
        "RELIEFOPS_IMPORT_MAX_UNZIPPED",
        "int",
        "1073741824",
        "most bytes a workbook (XLSX, ODS) may hold once decompressed (default 1 GiB)",
        unit="bytes",
        low=1,
    ),
    EnvVar(
        "RELIEFOPS_IMPORT_MAX_ZIP_RATIO",
        "int",
        "500",
        "highest decompressed-to-compressed ratio of a part of a workbook over 16 MiB (a zip bomb's is in "
        "the thousands)",
        low=1,
    ),
    EnvVar(
        "RELIEFOPS_HOUSEHOLD_RETENTION_DAYS",
        "int",
        "730",
        "days after a household's last registration or delivery before `reliefops households anonymise` "
        "removes its personal data",
        unit="days",
        low=1,
    ),
    EnvVar(
        "RELIEFOPS_OPERATION_START",
        "date",
        "2005-10-08",
        "first day of the operation (the disaster's): a household's registration date before it is refused, "
        "and a 4W row's date before its month",
    ),
    EnvVar(
        "RELIEFOPS_MATCH_WORKERS",
        "int",
        None,
        "processes a duplicate-detection batch run compares pairs in (unset: one per core)",
        unit="processes",
        low=1,
        high=256,
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


def environment_problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """What is wrong with the environment: one message per declared variable that does not parse or
    falls outside its range, each naming the variable (empty when all is well)."""
    problems = []
    for var in ENV_VARS:
        try:
            env(var.name, environ)
        except ConfigurationError as exc:
            problems.append(str(exc))
    return problems
