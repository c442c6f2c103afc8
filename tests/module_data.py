"""Data made once for a whole test module, for modules of many small tests over the same objects.

A module-scoped fixture makes its objects inside `kept_for_the_module`: a transaction opened before
the module's first test and rolled back after its last. Each test's own `db` fixture then runs in
a savepoint inside it, rolled back after the test, so a test still sees the objects as they were
made and leaves nothing behind; only the making is shared. Every later test of the module sees the
objects, whether it asks for the fixture or not: a module that uses one makes no objects of the same
names in its other tests. Not for tests that need a real commit (`transactional_db`, a live
server): their data would be rolled back with the module's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction


@contextmanager
def kept_for_the_module(django_db_blocker: Any) -> Iterator[None]:
    """Open the module's transaction (database access allowed while it is open); roll it back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        try:
            yield
        finally:
            transaction.set_rollback(True)
