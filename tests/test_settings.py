"""Settings: the typed environment table, production's refusals, SQLite's durability settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.utils import get_random_secret_key
from django.db import connection

import reliefops
from reliefops.env import ENV_VARS, ConfigurationError, env


def start_settings(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter with the given environment."""
    environ = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "RELIEFOPS_ENV"}
    }
    environ.update(extra)
    return subprocess.run(
        [sys.executable, "-c", "import reliefops.settings"],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(
            {"RELIEFOPS_ENV": "production", "ALLOWED_HOSTS": "relief.example.org"},
            "SECRET_KEY must be set",
            id="no-secret",
        ),
        pytest.param(
            {"RELIEFOPS_ENV": "production", "SECRET_KEY": "x" * 50},
            "ALLOWED_HOSTS must be set",
            id="no-hosts",
        ),
        pytest.param(
            {"RELIEFOPS_ENV": "production", "SECRET_KEY": "   ", "ALLOWED_HOSTS": "relief.example.org"},
            "SECRET_KEY must be set",
            id="blank-secret",
        ),
        pytest.param(
            {"RELIEFOPS_ENV": "production", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": " , "},
            "ALLOWED_HOSTS must be set",
            id="hosts-of-commas",
        ),
        pytest.param({"RELIEFOPS_ENV": "staging"}, "RELIEFOPS_ENV must be", id="unknown-env"),
        pytest.param({"DEBUG": "perhaps"}, "DEBUG: expected true/false", id="bad-bool"),
    ],
)
def test_settings_refuse_to_start(extra, message):
    result = start_settings(extra)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_starts_with_secret_and_hosts():
    result = start_settings(
        {
            "RELIEFOPS_ENV": "production",
            # a key made as Django makes one: long and of many characters, as production requires
            "SECRET_KEY": get_random_secret_key(),
            "ALLOWED_HOSTS": "relief.example.org",
        }
    )
    assert result.returncode == 0, result.stderr


def test_there_is_no_hard_coded_secret():
    source = (Path(reliefops.__file__).parent / "settings.py").read_text()
    assert "django-insecure" not in source
    assert 'SECRET_KEY = "' not in source


def test_env_parses_declared_types():
    assert env("DEBUG", {"DEBUG": "yes"}) is True
    assert env("ALLOWED_HOSTS", {"ALLOWED_HOSTS": "a, b,"}) == ["a", "b"]
    assert env("RELIEFOPS_SQLITE_BUSY_TIMEOUT", {}) == 20
    with pytest.raises(ConfigurationError, match="RELIEFOPS_SQLITE_BUSY_TIMEOUT"):
        env("RELIEFOPS_SQLITE_BUSY_TIMEOUT", {"RELIEFOPS_SQLITE_BUSY_TIMEOUT": "soon"})
    assert len({v.name for v in ENV_VARS}) == len(ENV_VARS)


@pytest.mark.django_db
def test_sqlite_is_durable_and_takes_the_write_lock_at_begin():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings; this run is on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 20_000
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_new_var_folder_is_readable_by_its_owner_alone(tmp_path, database):
    # given no var folder yet (SQLite's database lives in it; on PostgreSQL, uploads and the key)
    var = tmp_path / "var"
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ["RELIEFOPS_VAR_DIR"] = str(var)
    if database == "postgresql":
        environ["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:5432/test"
    # when reliefops starts, under the usual umask
    result = subprocess.run(
        [sys.executable, "-c", "import os; os.umask(0o022); import reliefops.settings"],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    # then the folder is its owner's alone, and no database file is made before one is asked for
    assert result.returncode == 0, result.stderr
    assert (var.stat().st_mode & 0o777) == 0o700
    assert not (var / "reliefops.sqlite3").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "starts"),
    [
        pytest.param("/login/", b"<!doctype html>", id="page"),
        pytest.param("/static/web/vendor/leaflet/leaflet.js", b"/* @preserve", id="script"),
        pytest.param("/api/openapi.json", b"{", id="api"),
    ],
)
def test_answers_go_compressed_to_a_browser_that_takes_gzip(client, path, starts):
    # a hub's link is slow: what a browser can unpack goes compressed, the same bytes once unpacked
    import gzip

    plain = client.get(path)
    packed = client.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate")
    plain_body = b"".join(plain.streaming_content) if plain.streaming else plain.content
    packed_body = b"".join(packed.streaming_content) if packed.streaming else packed.content
    assert plain.get("Content-Encoding") is None
    assert plain_body.lstrip().startswith(starts)
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    unpacked = gzip.decompress(packed_body)
    assert unpacked.lstrip().startswith(starts)
    # the same answer (a page's masked CSRF token differs from one answer to the next)
    assert len(unpacked) == len(plain_body)
    assert len(packed_body) < len(plain_body) * 3 / 4  # (with up to 100 random bytes against BREACH)
