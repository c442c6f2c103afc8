"""A named lock that makes transactions which take it follow one another, whatever rows they touch.

On PostgreSQL (READ COMMITTED) two transactions that read before they write do not see each other's
writes until both have committed: two registrations of one family at the same moment each find the
registry without the other. Taking the same named lock first makes the second wait until the first
has committed, and then read what it wrote. On SQLite the single writer lock already does this.
"""

from __future__ import annotations

import hashlib

from django.db import connection
from django.db.transaction import TransactionManagementError


def lock_key(name: str) -> int:
    """The lock's number for `name`: a signed 64-bit integer, the same in every process (Python's
    own `hash` of a string differs from one process to the next)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def transaction_lock(name: str) -> None:
    """Hold the lock called `name` until the current transaction ends, waiting for a transaction
    that holds it to end first (PostgreSQL's transaction-level advisory lock).

    Called inside `transaction.atomic()`; nothing to do on SQLite, whose writers follow one another
    already. Take it before any row lock, so that transactions which take both cannot wait for
    each other."""
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            f"the lock {name!r} is held until a transaction ends: take it in one"
        )
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])
