"""Starting reliefops with a bad environment or a database it cannot open: the command line prints one
line saying what is wrong and exits non-zero; a server's start puts that line first."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

STRONG_KEY = "k7Qz-3vNw_8pL2xR9mT4bY6cJ1hF5dS0aG8eK2nV7uW3iO9pZ4qX"
DROPPED = {
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "RELIEFOPS_ENV",
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by pytest-django; a deployment check refuses it
}


def reliefops(*args: str, var_dir, **environ: str) -> subprocess.CompletedProcess[str]:
    """`reliefops ARGS` in a fresh interpreter, with the environment given (and no pytest)."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED and not k.startswith("PYTEST")}
    env.update({"RELIEFOPS_VAR_DIR": str(var_dir), **environ})
    return subprocess.run(  # noqa: S603 - this interpreter, our own command
        [sys.executable, "-m", "reliefops", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- the environment ------------------------------------------------------------------------------


def test_a_bad_variable_stops_the_command_line_with_one_line(tmp_path):
    result = reliefops("check", var_dir=tmp_path, RELIEFOPS_SESSION_AGE="abc", RELIEFOPS_SESSION_IDLE="-5")
    assert one_line(result) == (
        "ConfigurationError: RELIEFOPS_SESSION_AGE: expected a whole number of seconds, got 'abc'; "
        "RELIEFOPS_SESSION_IDLE: expected a whole number of seconds from 60 to 2592000, got -5"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "mysql://relief@db/relief",
            "ConfigurationError: DATABASE_URL: only postgresql://user:password@host:5432/dbname and "
            "sqlite:////absolute/path.sqlite3 are supported, not mysql://",
            id="mysql",
        ),
        pytest.param(
            "notaurl",
            "ConfigurationError: DATABASE_URL: expected a database URL: only "
            "postgresql://user:password@host:5432/dbname and sqlite:////absolute/path.sqlite3 are supported",
            id="not-a-url",
        ),
    ],
)
def test_an_unsupported_database_url_says_which_are_supported(tmp_path, url, expected):
    assert one_line(reliefops("check", var_dir=tmp_path, DATABASE_URL=url)) == expected


def test_a_server_start_puts_the_reason_first(tmp_path):
    # when gunicorn (or any WSGI server) loads the application with a bad variable
    env = {k: v for k, v in os.environ.items() if k not in DROPPED and not k.startswith("PYTEST")}
    env.update({"RELIEFOPS_VAR_DIR": str(tmp_path), "RELIEFOPS_LOGIN_MAX_FAILURES": "0"})
    result = subprocess.run(
        [sys.executable, "-c", "import reliefops.wsgi"], env=env, capture_output=True, text=True, check=False
    )
    # then it fails, and the first line of its error output says why
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        "ConfigurationError: RELIEFOPS_LOGIN_MAX_FAILURES: expected a whole number of failed sign-ins "
        "from 1 to 1000, got 0"
    )


@pytest.mark.parametrize(
    ("key", "why"),
    [
        pytest.param("x", "it is shorter than 50 characters", id="short"),
        pytest.param("ab" * 30, "it uses fewer than 5 different characters", id="few-characters"),
        pytest.param(
            "django-insecure-" + STRONG_KEY,
            "it starts with 'django-insecure-', the mark of a key made for development",
            id="insecure-prefix",
        ),
    ],
)
def test_production_refuses_a_weak_secret_key_and_says_how_to_make_one(tmp_path, key, why):
    result = reliefops(
        "check",
        var_dir=tmp_path,
        RELIEFOPS_ENV="production",
        SECRET_KEY=key,
        ALLOWED_HOSTS="relief.example.org",
    )
    assert one_line(result) == (
        f"ConfigurationError: SECRET_KEY is too weak for production: {why}; make one with: "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
    assert key not in result.stderr


def test_production_starts_with_a_strong_key(tmp_path):
    result = reliefops(
        "check",
        "--deploy",
        var_dir=tmp_path,
        RELIEFOPS_ENV="production",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="relief.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "security.W009" not in result.stderr + result.stdout


@pytest.mark.parametrize("hosts", ["*", "relief.example.org,*"], ids=["star", "star-among-others"])
def test_production_refuses_any_host(tmp_path, hosts):
    # given a production server told to answer any Host
    result = reliefops(
        "check", var_dir=tmp_path, RELIEFOPS_ENV="production", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS=hosts
    )
    # then it does not start, and says so in one line
    assert one_line(result) == (
        "ConfigurationError: ALLOWED_HOSTS must name this server (e.g. relief.example.org) when "
        "RELIEFOPS_ENV=production, not '*', which lets any Host through"
    )


# --- the database ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["stock", "verify"], ["migrate", "--check"]], ids=["ours", "djangos"])
def test_a_postgresql_server_that_does_not_answer_is_one_line(tmp_path, command):
    result = reliefops(*command, var_dir=tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:5999/relief")
    assert one_line(result) == (
        "CommandError: cannot connect to the PostgreSQL database relief at 127.0.0.1:5999: no server "
        "answers there (connection refused); start PostgreSQL, or correct the host and port in DATABASE_URL"
    )


def test_a_file_that_is_not_a_database_is_one_line(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_text("not a database\n" * 100)
    result = reliefops("stock", "verify", var_dir=tmp_path, DATABASE_URL=f"sqlite:///{path}")
    assert one_line(result) == (
        f"CommandError: cannot open the SQLite database {path}: the file is not a SQLite database; "
        "correct DATABASE_URL, or move the file aside"
    )


# --- the log --------------------------------------------------------------------------------------


def test_a_log_line_starts_with_its_time_level_and_logger(tmp_path):
    # given reliefops writing a warning of its own and one of Django's
    code = (
        "import logging; logging.getLogger('reliefops.auth').warning('failed sign-in for username %s', 'x'); "
        "logging.getLogger('django.request').warning('Not Found: /nowhere')"
    )
    result = reliefops("shell", "-c", code, var_dir=tmp_path)
    # then each is one line in the one format operations.md describes
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"
    assert re.fullmatch(stamp + r" WARNING reliefops\.auth: failed sign-in for username x", lines[0]), lines
    assert re.fullmatch(stamp + r" WARNING django\.request: Not Found: /nowhere", lines[1]), lines
