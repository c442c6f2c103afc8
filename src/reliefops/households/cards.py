"""Household card tokens: short, typeable, checked, and printed as a QR code.

A token is 9 random characters and 1 check character from Crockford's base-32 alphabet (no I, L,
O or U, so nothing is misread), printed in groups as `K7M2-9QXD-A3`. A handover may type it or
scan its QR code; a mistyped token fails its check character instead of naming another household.
"""

from __future__ import annotations

import secrets

import segno

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_LENGTH = 9
_READS_AS = {"O": "0", "I": "1", "L": "1", "U": "V"}


def check_character(body: str) -> str:
    """Odd weights, prime to 32: any one character typed wrong changes the check character."""
    total = sum((2 * index + 1) * ALPHABET.index(char) for index, char in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_token() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_LENGTH))
    return body + check_character(body)


def normalise_token(text: str) -> str | None:
    """The token as stored, from what was typed or scanned; None if it cannot be one."""
    cleaned = "".join(_READS_AS.get(c, c) for c in text.upper() if c not in " -")
    if len(cleaned) != _RANDOM_LENGTH + 1 or any(c not in ALPHABET for c in cleaned):
        return None
    if check_character(cleaned[:-1]) != cleaned[-1]:
        return None
    return cleaned


def printed(token: str) -> str:
    """`K7M29QXDA3` -> `K7M2-9QXD-A3`."""
    return f"{token[:4]}-{token[4:8]}-{token[8:]}"


def qr_svg(token: str, *, scale: int = 4) -> str:
    """The token as a QR code, an inline SVG element (no network, no image files)."""
    code = segno.make(token, error="m", micro=False)
    return str(code.svg_inline(scale=scale, border=2, dark="#000", light="#fff", omitsize=False))
