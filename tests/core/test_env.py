"""reliefops.env: every number has its range, every refusal names the variable, the value and what
it takes, and configuration.md gives the same ranges."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.env import BASE_DIR, ENV_VARS, ConfigurationError, _var_dir, env, environment_problems
from tests.test_docs import DOCS, _plain, table_headed

NUMBERS = [var for var in ENV_VARS if var.type == "int"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        pytest.param(
            "RELIEFOPS_LOGIN_MAX_FAILURES",
            "0",
            "RELIEFOPS_LOGIN_MAX_FAILURES: expected a whole number of failed sign-ins from 1 to 1000, got 0",
            id="no-failure-allowed-locks-everyone-out",
        ),
        pytest.param(
            "RELIEFOPS_SESSION_IDLE",
            "0",
            "RELIEFOPS_SESSION_IDLE: expected a whole number of seconds from 60 to 2592000, got 0",
            id="idle-zero",
        ),
        pytest.param(
            "RELIEFOPS_SESSION_IDLE",
            "-5",
            "RELIEFOPS_SESSION_IDLE: expected a whole number of seconds from 60 to 2592000, got -5",
            id="idle-negative",
        ),
        pytest.param(
            "RELIEFOPS_SESSION_AGE",
            "-5",
            "RELIEFOPS_SESSION_AGE: expected a whole number of seconds from 60 to 2592000, got -5",
            id="age-negative",
        ),
        pytest.param(
            "RELIEFOPS_HSTS_SECONDS",
            "-1",
            "RELIEFOPS_HSTS_SECONDS: expected a whole number of seconds from 0 to 63072000, got -1",
            id="hsts-negative",
        ),
        pytest.param(
            "RELIEFOPS_IMPORT_MAX_BYTES",
            "0",
            "RELIEFOPS_IMPORT_MAX_BYTES: expected a whole number of bytes, 1 or more, got 0",
            id="no-upper-bound",
        ),
        pytest.param(
            "RELIEFOPS_SESSION_AGE",
            "abc",
            "RELIEFOPS_SESSION_AGE: expected a whole number of seconds, got 'abc'",
            id="not-a-number",
        ),
        pytest.param(
            "RELIEFOPS_LOGIN_LOCKOUT",
            "1_000",
            "RELIEFOPS_LOGIN_LOCKOUT: expected a whole number of seconds, got '1_000'",
            id="python-digit-grouping",
        ),
        pytest.param(
            "RELIEFOPS_IMPORT_MAX_ZIP_RATIO",
            "0",
            "RELIEFOPS_IMPORT_MAX_ZIP_RATIO: expected a whole number, 1 or more, got 0",
            id="a-ratio-has-no-unit",
        ),
    ],
)
def test_a_number_outside_its_range_is_refused_naming_the_variable_the_value_and_the_range(
    name, value, message
):
    # when a number is set outside what it may be
    with pytest.raises(ConfigurationError) as refused:
        env(name, {name: value})
    # then the refusal says which variable, what it was given and what it takes, in words
    assert str(refused.value) == message


@pytest.mark.parametrize("var", NUMBERS, ids=[var.name for var in NUMBERS])
def test_every_number_takes_its_default_and_its_bounds_and_refuses_one_beyond(var):
    assert var.unit or var.name == "RELIEFOPS_IMPORT_MAX_ZIP_RATIO", "say what the number counts"
    assert var.low is not None
    if var.default is not None:
        assert env(var.name, {}) == int(var.default)
    assert env(var.name, {var.name: str(var.low)}) == var.low
    with pytest.raises(ConfigurationError, match=var.name):
        env(var.name, {var.name: str(var.low - 1)})
    if var.high is not None:
        assert env(var.name, {var.name: f" {var.high} "}) == var.high
        with pytest.raises(ConfigurationError, match=var.name):
            env(var.name, {var.name: str(var.high + 1)})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("RELIEFOPS_HSTS_SECONDS", "0", id="hsts-0-sends-none"),
        pytest.param("RELIEFOPS_IMPORT_SPLIT_BYTES", "0", id="split-0-never"),
    ],
)
def test_zero_is_taken_where_it_means_off(name, value):
    assert env(name, {name: value}) == 0


def test_every_bad_variable_is_named_at_once():
    problems = environment_problems(
        {"RELIEFOPS_SESSION_IDLE": "0", "DEBUG": "maybe", "RELIEFOPS_LOGIN_MAX_FAILURES": "5"}
    )
    assert [p.split(":")[0] for p in problems] == ["DEBUG", "RELIEFOPS_SESSION_IDLE"]
    assert environment_problems({}) == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(
            "mysql://relief:s3cret@db/relief",
            "DATABASE_URL: only postgresql://user:password@host:5432/dbname and "
            "sqlite:////absolute/path.sqlite3 are supported, not mysql://",
            id="mysql",
        ),
        pytest.param(
            "notaurl",
            "DATABASE_URL: expected a database URL: only postgresql://user:password@host:5432/dbname and "
            "sqlite:////absolute/path.sqlite3 are supported",
            id="no-scheme",
        ),
        pytest.param(
            "postgresql://relief:s3cret@db:5432/",
            "DATABASE_URL: names no database: end it with the database's name, "
            "as in postgresql://user@host:5432/dbname",
            id="no-database-name",
        ),
    ],
)
def test_a_database_url_other_than_postgresql_or_sqlite_is_refused_without_its_password(url, message):
    with pytest.raises(ConfigurationError) as refused:
        env("DATABASE_URL", {"DATABASE_URL": url})
    assert str(refused.value) == message
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://relief:pw@127.0.0.1:5432/relief",
        "postgres://relief@db/relief",
        "sqlite:////srv/r.sqlite3",
    ],
)
def test_postgresql_and_sqlite_urls_are_taken(url):
    assert env("DATABASE_URL", {"DATABASE_URL": url}) == url


def test_configuration_doc_gives_each_number_the_range_env_declares():
    # Given the variables table of docs/configuration.md, with its range column
    header, rows = table_headed(DOCS / "configuration.md", "variable")
    assert header[3].lower() == "range"
    documented = {_plain(row[0]): row[3].replace("`", "").strip() for row in rows}
    # Then each number's range is the one env.py refuses outside of, and nothing else has one
    for var in ENV_VARS:
        assert documented[var.name] == (var.range or "—"), var.name


@pytest.mark.parametrize("value", ["8 Oct 2005", "2005-13-01", "20051008", "2005-10-08T00:00"])
def test_an_operation_start_that_is_no_day_is_refused_saying_how_to_write_it(value):
    # given a first day of the operation not written YYYY-MM-DD, or no day at all
    # when it is read, then start-up is refused naming the variable and how to write it
    with pytest.raises(ConfigurationError) as refused:
        env("RELIEFOPS_OPERATION_START", {"RELIEFOPS_OPERATION_START": value})
    assert str(refused.value) == (
        f"RELIEFOPS_OPERATION_START: expected a day written YYYY-MM-DD, e.g. 2005-10-08, got {value!r}"
    )


def test_the_operation_start_is_the_earthquakes_day_unless_set():
    assert env("RELIEFOPS_OPERATION_START", {}) == dt.date(2005, 10, 8)
    assert env("RELIEFOPS_OPERATION_START", {"RELIEFOPS_OPERATION_START": " 2026-07-01 "}) == dt.date(
        2026, 7, 1
    )


@pytest.mark.parametrize("value", ["", "   "], ids=["empty", "spaces"])
def test_a_blank_data_folder_is_the_default_one_not_the_current_folder(value, monkeypatch):
    monkeypatch.setenv("RELIEFOPS_VAR_DIR", value)
    assert _var_dir() == BASE_DIR / "var"


def test_a_relative_data_folder_is_taken_from_the_folder_the_command_starts_in(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELIEFOPS_VAR_DIR", "field-data")
    assert _var_dir() == tmp_path / "field-data"
