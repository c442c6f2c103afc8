"""Household card tokens: short, typeable, checked, and printed as a QR code.

A token is 9 random characters and 1 check character from Crockford's base-32 alphabet (no I, L,
O or U, so nothing is misread), printed in groups as `K7M2-9QXD-A3`. A handover may type it or
scan its QR code; a mistyped token fails its check character instead of naming another household.
"""

from __future__ import annotations

import secrets

import segno

from reliefops.core.text import counted

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_LENGTH = 9
_READS_AS = {"O": "0", "I": "1", "L": "1", "U": "V"}
# The longest value a card field takes as typed or scanned: the token's 10 characters with the
# printed dashes (`K7M2-9QXD-A3`, 12) and a few spaces to spare. Anything longer is no card.
TYPED_MAX = 20


def check_character(body: str) -> str:
    """Odd weights, prime to 32: any one character typed wrong changes the check character."""
    total = sum((2 * index + 1) * ALPHABET.index(char) for index, char in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_token() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_LENGTH))
    return body + check_character(body)


def _cleaned(text: str) -> str:
    """What was typed or scanned, in capitals, without the spaces and dashes of the printed groups,
    and with the letters that read as others (O, I, L, U) read as the card means them."""
    return "".join(_READS_AS.get(c, c) for c in text.upper() if c not in " -")


def normalise_token(text: str) -> str | None:
    """The token as stored, from what was typed or scanned; None if it cannot be one."""
    return None if token_problem(text) else _cleaned(text)


def token_problem(text: str) -> str | None:
    """What is wrong with a typed or scanned value that is not a card token (its length, the
    characters it holds, its check character); None for a well-formed token.

    The value itself is never quoted: a wrong code scanned may be anything, a person's data too."""
    cleaned = _cleaned(text)
    length = _RANDOM_LENGTH + 1
    strange = sum(1 for c in cleaned if c not in ALPHABET)
    wrong = []
    if len(cleaned) != length:
        wrong.append(
            f"it has {counted(len(cleaned), 'character')}, not the {length} of a card "
            "(dashes and spaces aside)"
        )
    if strange:
        which = "one of its characters is" if strange == 1 else f"{strange} of its characters are"
        wrong.append(f"{which} never on a card (a card has only the letters A to Z and digits)")
    if not wrong and check_character(cleaned[:-1]) != cleaned[-1]:
        wrong.append(
            "its last character (the check) does not match the others: one of them was mistyped or misread"
        )
    return "; ".join(wrong) or None


def printed(token: str) -> str:
    """`K7M29QXDA3` -> `K7M2-9QXD-A3`."""
    return f"{token[:4]}-{token[4:8]}-{token[8:]}"


def qr_svg(token: str, *, scale: int = 4) -> str:
    """The token as a QR code, an inline SVG element (no network, no image files)."""
    code = segno.make(token, error="m", micro=False)
    svg = str(code.svg_inline(scale=scale, border=2, dark="#000", light="#fff", omitsize=False))
    # The token is printed beside the code: a screen reader reads it there, and skips the graphic.
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
