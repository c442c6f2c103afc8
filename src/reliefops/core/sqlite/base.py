"""Django's SQLite backend, except that a database file it creates is readable by its owner alone.

The file holds the families' personal data. SQLite creates a new one with mode 644 under the usual
umask (022), readable by every user of the machine, though its folder may be private; a custom
DATABASE_URL may put it in a folder that is not. The file is created here first with mode 600;
SQLite gives its -wal and -shm files the database file's mode. A file that exists keeps its mode.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base


def create_private(name: Any) -> None:
    """Create the database file `name`, empty, with mode 600 when it does not exist yet (an empty
    file is an empty SQLite database). Nothing for an in-memory database, nor where the file cannot
    be made: SQLite then says why it cannot open it."""
    text = str(name)
    if not text or text == ":memory:" or text.startswith("file:"):
        return
    try:
        descriptor = os.open(Path(text), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # it exists, or its folder does not or may not be written
        return
    os.close(descriptor)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        create_private(conn_params["database"])
        return super().get_new_connection(conn_params)
