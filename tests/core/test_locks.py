"""A named lock held until the transaction ends: PostgreSQL's advisory lock, nothing on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from django.db import connection, connections, transaction
from django.db.transaction import TransactionManagementError

from reliefops.core.locks import lock_key, transaction_lock

ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith("postgres")


def test_a_name_gives_one_signed_64_bit_number_whatever_the_process():
    # given processes started with different seeds for Python's own hash of a string
    code = "from reliefops.core.locks import lock_key; print(lock_key('households.matching'))"
    numbers = {
        subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    # then each gives the number this one gives, the same from one release to the next
    assert numbers == {str(lock_key("households.matching"))} == {"3838456504970911469"}
    assert lock_key("households.matchin") != lock_key("households.matching")
    assert all(-(2**63) <= lock_key(name) < 2**63 for name in ("a", "households.matching", "stock." * 40))


@pytest.mark.django_db(transaction=True)
def test_the_lock_is_taken_in_a_transaction_only():
    # given no transaction open, when the lock is asked for, then it is refused
    with pytest.raises(TransactionManagementError, match="take it in one"):
        transaction_lock("households.matching")


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's writers follow one another already: SQLite only")
@pytest.mark.django_db
def test_on_sqlite_the_lock_asks_nothing_of_the_database(django_assert_num_queries):
    # given a transaction, when the lock is taken, then no statement is sent
    with transaction.atomic(), django_assert_num_queries(0):
        transaction_lock("households.matching")


def _taken_elsewhere(key: int) -> bool:
    """Whether another connection could take the lock `key` at this moment (and give it back)."""
    answer: list[bool] = []

    def other() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
                answer.append(cursor.fetchone()[0])
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(timeout=30)
    return not answer[0]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL's advisory lock: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_lock_is_held_until_the_transaction_ends():
    key = lock_key("households.matching")
    # given a transaction that took the lock
    with transaction.atomic():
        transaction_lock("households.matching")
        # then another connection cannot take it, nor another name's lock be stopped by it
        assert _taken_elsewhere(key)
        assert not _taken_elsewhere(lock_key("households.other"))
    # and when the transaction ends, the lock is free
    assert not _taken_elsewhere(key)
