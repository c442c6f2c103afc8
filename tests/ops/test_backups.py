"""ops.backups: the backup key file must be closed to other users of the machine."""

from __future__ import annotations

import pytest

from reliefops.ops.backups import BackupRefused, backup_secret

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
