"""Uploads held between their preview and their commit, so that a partner need not send the file
twice: one folder per user under RELIEFOPS_VAR_DIR, named by the file's digest. A staged file is
removed when it is committed, leaving a note of what it changed, so that committing it again (a
double click) says it was done; anything left behind after a day goes at the next upload."""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from pathlib import Path

from reliefops.core.errors import NotFound
from reliefops.env import VAR_DIR

ROOT = VAR_DIR / "cluster-uploads"
KEEP_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{64}$")
# The note left when the staged file was committed: a name no staged file has (see _safe_name).
APPLIED = "+applied"


def _safe_name(filename: str) -> str:
    name = Path(filename).name.strip() or "upload"
    return re.sub(r"[^\w.\- ]+", "_", name)[:120]


def _folder(user_id: int, token: str) -> Path:
    if not _TOKEN.match(token):
        raise NotFound("no staged upload with this token")
    return ROOT / str(int(user_id)) / token


def stage(*, user_id: int, data: bytes, filename: str) -> str:
    """Keep the file for the user's commit; returns its token (the SHA-256 of its bytes)."""
    prune()
    token = hashlib.sha256(data).hexdigest()
    folder = _folder(user_id, token)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / _safe_name(filename)).write_bytes(data)
    return token


def load(*, user_id: int, token: str) -> tuple[bytes, str]:
    """The staged file's bytes and name; NotFound when it is not (or no longer) there."""
    folder = _folder(user_id, token)
    files = sorted(p for p in folder.iterdir() if p.name != APPLIED) if folder.is_dir() else []
    if not files:
        raise NotFound("the previewed file is no longer held; upload it again")
    return files[0].read_bytes(), files[0].name


def mark_applied(*, user_id: int, token: str, summary: str) -> None:
    """The staged file was committed: keep only a note of what it changed."""
    folder = _folder(user_id, token)
    for old in folder.iterdir():
        old.unlink()
    (folder / APPLIED).write_text(summary, encoding="utf-8")


def applied(*, user_id: int, token: str) -> str | None:
    """What the staged file changed when it was committed; None when it was not committed."""
    note = _folder(user_id, token) / APPLIED
    return note.read_text(encoding="utf-8") if note.is_file() else None


def prune(now: float | None = None) -> None:
    """Remove staged files older than a day."""
    if not ROOT.is_dir():
        return
    limit = (now or time.time()) - KEEP_SECONDS
    for folder in ROOT.glob("*/*"):
        if folder.is_dir() and folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)
