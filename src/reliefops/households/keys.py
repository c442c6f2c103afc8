"""Idempotency keys as the household tables and the stock ledger store them."""

from __future__ import annotations

import hashlib

KEY_COLUMN = 100  # the length of every idempotency_key column


def fitted_key(key: str | None, *, prefix: str = "", length: int = KEY_COLUMN) -> str | None:
    """`prefix + key`, or when that is longer than the column, the prefix and a digest of the whole:
    the same key always gives the same stored key, so a repeat is still recognised."""
    if not key:
        return None
    composed = prefix + key
    if len(composed) <= length:
        return composed
    return f"{prefix}sha256:{hashlib.sha256(composed.encode()).hexdigest()}"[:length]
