"""ops.backups: the backup key file must be closed to other users of the machine, and a backup
never writes over another."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from reliefops.core.models import AuditEvent
from reliefops.ops import backups
from reliefops.ops.backups import BackupRefused, backup_create, backup_secret

KEY = "a-backup-key-long-enough-for-scrypt"


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    monkeypatch.delenv("RELIEFOPS_BACKUP_KEY", raising=False)
    monkeypatch.delenv("RELIEFOPS_BACKUP_KEY_FILE", raising=False)
    path = tmp_path / "backup.key"
    path.write_text(KEY + "\n")
    return path


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o640], ids=["owner", "owner-read-only", "group-reads"])
def test_a_key_file_closed_to_other_users_is_used(key_file, mode):
    key_file.chmod(mode)
    assert backup_secret(key_file=str(key_file)) == KEY


@pytest.mark.parametrize(
    "mode",
    [0o666, 0o644, 0o604, 0o660],
    ids=["everyone-writes", "everyone-reads", "others-read", "group-writes"],
)
def test_a_key_file_open_to_other_users_is_refused_with_how_to_close_it(key_file, mode, monkeypatch):
    # given a key file that others may read, or its group change; set as the environment says it
    key_file.chmod(mode)
    monkeypatch.setenv("RELIEFOPS_BACKUP_KEY_FILE", str(key_file))
    # when a backup or a restore reads the key, then it is refused, saying how to mend it
    with pytest.raises(BackupRefused) as refused:
        backup_secret()
    assert str(refused.value) == (
        f"the backup key file {key_file} is open to other users of this machine (mode {mode:o}): "
        f"chmod 600 {key_file} (or 640 when root owns it and the service reads it through its group), "
        "then try again"
    )


def test_a_missing_key_file_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("RELIEFOPS_BACKUP_KEY", raising=False)
    with pytest.raises(BackupRefused, match=r"cannot read the backup key file .*nothing.key: No such file"):
        backup_secret(key_file=str(tmp_path / "nothing.key"))


class _OsPublishingFirst:
    """`os` as the backup module sees it, where another backup publishes `output` just before this
    one takes its partial file."""

    def __init__(self, output):
        self.output = output

    def open(self, path, flags, mode=0o777):
        if not self.output.exists():
            self.output.write_bytes(b"the other backup")
        return os.open(path, flags, mode)

    def __getattr__(self, name):
        return getattr(os, name)


def _sealing(data, during=None):
    """A stand-in for the engine's backup: writes `data`, calling `during` half-way."""

    def backup(out, secret):
        out.write(data[:2])
        if during is not None:
            during()
        out.write(data[2:])
        return SimpleNamespace(header={"migrations": []}, plaintext_bytes=len(data))

    return backup


@pytest.fixture
def sqlite_engine(monkeypatch):
    monkeypatch.setattr(backups, "_engine", lambda: "sqlite")
    monkeypatch.setattr(backups, "_database_label", lambda: "reliefops.sqlite3")


@pytest.mark.django_db
def test_a_second_backup_to_the_name_of_one_being_written_is_refused(tmp_path, monkeypatch, sqlite_engine):
    # given a backup to a file of the day, still being written
    output = tmp_path / "reliefops-2006-03-31.backup"
    second = {}

    def second_backup_meanwhile():
        monkeypatch.setattr(backups, "_backup_sqlite", _sealing(b"BBBBBBBB"))
        with pytest.raises(BackupRefused) as refused:
            backup_create(output=output, secret=KEY)
        second["refusal"] = str(refused.value)
        monkeypatch.setattr(backups, "_backup_sqlite", first)

    first = _sealing(b"AAAAAAAA", during=second_backup_meanwhile)
    monkeypatch.setattr(backups, "_backup_sqlite", first)
    # when a second backup to the same name starts meanwhile (the timer's unit started by hand)
    result = backup_create(output=output, secret=KEY)
    # then the second is refused, saying why, and the first is published whole, alone
    partial = tmp_path / "reliefops-2006-03-31.backup.partial"
    assert second["refusal"] == (
        f"{partial} exists: another backup to reliefops-2006-03-31.backup is being written; wait for it "
        f"to end, or, if none is running (one stopped by a power cut), remove {partial} and try again"
    )
    assert result.path == output
    assert output.read_bytes() == b"AAAAAAAA"
    assert not partial.exists()
    assert AuditEvent.objects.filter(action="backup.made").count() == 1


@pytest.mark.django_db
def test_a_backup_published_by_another_as_this_one_starts_is_not_written_over(
    tmp_path, monkeypatch, sqlite_engine
):
    # given another backup that publishes the same file just as this one takes its partial file
    output = tmp_path / "reliefops-2006-03-31.backup"
    monkeypatch.setattr(backups, "os", _OsPublishingFirst(output))
    monkeypatch.setattr(backups, "_backup_sqlite", _sealing(b"BBBBBBBB"))
    # when this backup goes on, then it is refused and leaves the other's file as it was
    with pytest.raises(BackupRefused, match="already exists: give the new backup its own name"):
        backup_create(output=output, secret=KEY)
    assert output.read_bytes() == b"the other backup"
    assert not (tmp_path / "reliefops-2006-03-31.backup.partial").exists()
    assert not AuditEvent.objects.filter(action="backup.made").exists()
