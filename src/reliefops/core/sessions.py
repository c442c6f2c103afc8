"""Sessions kept in the database, as Django's own, noting a save that found the database locked.

On SQLite, a long import holds the write lock; a request that must save its session meanwhile
(signing in, a message to show, the time it was last seen) waits for the busy timeout and fails.
Django then answers 400 ("session interrupted"); `SecurityHeadersMiddleware` answers 503 "busy,
try again" instead when the session says why its save failed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends import db
from django.core import signing

logger = logging.getLogger("reliefops.requests")


class SessionStore(db.SessionStore):
    """Django's database session, with `database_busy` set when a save found the database locked."""

    database_busy = False

    def save(self, must_create: bool = False) -> None:
        from reliefops.core.security import database_is_locked

        try:
            super().save(must_create)
        except Exception as exc:
            if database_is_locked(exc):
                self.database_busy = True
                logger.warning("a session could not be saved: the database is locked")
            raise


def session_data_quietly(session_data: str) -> dict[str, Any] | None:
    """A stored session's data, or None when it cannot be read (signed with another SECRET_KEY, as
    every session is after the key is changed, or damaged). Unlike `SessionStore.decode`, it logs no
    "Session data corrupted" warning: a scan of every session finds such rows, which nobody can use."""
    store = SessionStore()
    try:
        data: dict[str, Any] = signing.loads(session_data, salt=store.key_salt, serializer=store.serializer)
    except Exception:  # a bad signature, or data that is not what the serializer wrote
        return None
    return data
