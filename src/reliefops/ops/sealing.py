"""The encrypted backup file: a header, then the database dump in authenticated chunks.

Layout (all lengths big-endian):

    b"RELIEFOPS-BACKUP"   16 bytes, the magic
    format version        1 byte (FORMAT_VERSION)
    header length         4 bytes
    header                UTF-8 JSON: engine, created time, applied migrations, the key's salt and
                          check value, the nonce prefix, the chunk size, ...
    chunks                each: 4-byte length, then AES-256-GCM ciphertext (with its 16-byte tag)

Every chunk is sealed with the whole prelude (magic, version, header) as associated data, and a
nonce made of a random per-file prefix, the chunk's counter and a flag set on the last chunk only
(the STREAM construction): a changed header, a changed, reordered or dropped chunk, or a file cut
short is refused. The key is derived from the operator's secret with scrypt and a per-file salt;
a short check value in the header tells a wrong key from a damaged file. Nothing is held in memory
beyond one chunk, so a database of many gigabytes streams through.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from base64 import b64decode, b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"RELIEFOPS-BACKUP"
FORMAT_VERSION = 1
CHUNK_SIZE = 1 << 20  # 1 MiB of plaintext per chunk
MAX_HEADER = 1 << 20
MIN_KEY_CHARACTERS = 20
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 15, 8, 1
TAG_BYTES = 16
_LENGTH = struct.Struct(">I")


class BackupRefused(Exception):
    """The backup file cannot be opened or restored; the message says why. Nothing was restored."""


@dataclass(frozen=True)
class _Keys:
    cipher: AESGCM
    check: bytes


def _derive(secret: str, salt: bytes, n: int, r: int, p: int) -> _Keys:
    material = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(secret.encode("utf-8"))
    check = hmac.new(material[32:], b"reliefops backup key check", hashlib.sha256).digest()[:16]
    return _Keys(AESGCM(material[:32]), check)


def check_secret(secret: str) -> str:
    """The operator's backup key, refused when too short to resist guessing."""
    secret = secret.strip()
    if len(secret) < MIN_KEY_CHARACTERS:
        raise BackupRefused(
            f"the backup key has {len(secret)} characters; use at least {MIN_KEY_CHARACTERS}, for example "
            "the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return secret


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class SealedWriter:
    """Writes a backup file: `write()` plaintext in any sizes, then `close()` seals the last chunk."""

    def __init__(self, out: IO[bytes], *, secret: str, header: dict[str, Any]) -> None:
        salt, self._prefix = os.urandom(16), os.urandom(7)
        keys = _derive(check_secret(secret), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        self._cipher = keys.cipher
        full = {
            **header,
            "cipher": "AES-256-GCM",
            "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
            "salt": b64encode(salt).decode(),
            "key_check": b64encode(keys.check).decode(),
            "nonce_prefix": b64encode(self._prefix).decode(),
            "chunk_size": CHUNK_SIZE,
        }
        encoded = json.dumps(full, sort_keys=True).encode()
        self._prelude = MAGIC + bytes([FORMAT_VERSION]) + _LENGTH.pack(len(encoded)) + encoded
        self._out = out
        self._out.write(self._prelude)
        self._buffer = bytearray()
        self._counter = 0
        self.plaintext_bytes = 0

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.plaintext_bytes += len(data)
        # Keep at least one byte back: the chunk that turns out to be the last is sealed by close().
        while len(self._buffer) > CHUNK_SIZE:
            self._seal(bytes(self._buffer[:CHUNK_SIZE]), last=False)
            del self._buffer[:CHUNK_SIZE]

    def close(self) -> None:
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()

    def _seal(self, plain: bytes, *, last: bool) -> None:
        sealed = self._cipher.encrypt(_nonce(self._prefix, self._counter, last), plain, self._prelude)
        self._out.write(_LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1


def read_header(handle: IO[bytes]) -> tuple[bytes, dict[str, Any]]:
    """The prelude bytes and the parsed header of a backup file, refused when it is not one."""
    start = handle.read(len(MAGIC) + 1 + _LENGTH.size)
    if len(start) < len(MAGIC) or start[: len(MAGIC)] != MAGIC:
        raise BackupRefused("this is not a reliefops backup (its first bytes are not the backup mark)")
    if len(start) < len(MAGIC) + 1 + _LENGTH.size:
        raise BackupRefused("the backup is truncated: it ends inside its header")
    version = start[len(MAGIC)]
    if version != FORMAT_VERSION:
        raise BackupRefused(
            f"the backup is in format {version}; this reliefops reads format {FORMAT_VERSION}: "
            "restore it with the version of reliefops that made it, or a newer one"
        )
    (length,) = _LENGTH.unpack(start[len(MAGIC) + 1 :])
    if length > MAX_HEADER:
        raise BackupRefused("the backup's header is damaged (it claims an impossible length)")
    encoded = handle.read(length)
    if len(encoded) < length:
        raise BackupRefused("the backup is truncated: it ends inside its header")
    try:
        header = json.loads(encoded)
    except ValueError as exc:
        raise BackupRefused("the backup's header is damaged (it is not readable JSON)") from exc
    if not isinstance(header, dict):
        raise BackupRefused("the backup's header is damaged (it is not a JSON object)")
    return start + encoded, header


def open_chunks(handle: IO[bytes], *, secret: str) -> tuple[dict[str, Any], Iterator[bytes]]:
    """The header, and an iterator of the plaintext chunks, each checked before it is given out.

    The iterator raises BackupRefused on a wrong key, an altered chunk, a file cut short or bytes
    after the last chunk; the caller must treat everything already read as untrusted until the
    iterator has ended normally.
    """
    prelude, header = read_header(handle)
    try:
        kdf = header["kdf"]
        salt = b64decode(header["salt"])
        expected_check = b64decode(header["key_check"])
        prefix = b64decode(header["nonce_prefix"])
        chunk_size = int(header["chunk_size"])
        keys = _derive(secret.strip(), salt, int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupRefused("the backup's header is damaged (a field of its encryption is missing)") from exc
    if not hmac.compare_digest(keys.check, expected_check):
        raise BackupRefused(
            "the key does not open this backup: it was made with another key "
            "(check RELIEFOPS_BACKUP_KEY_FILE or --key-file)"
        )

    def chunks() -> Iterator[bytes]:
        counter, offset = 0, len(prelude)
        while True:
            raw_length = handle.read(_LENGTH.size)
            if len(raw_length) < _LENGTH.size:
                raise BackupRefused(
                    f"the backup is truncated: it ends after {offset:,} bytes, before its last chunk"
                )
            (length,) = _LENGTH.unpack(raw_length)
            if length < TAG_BYTES or length > chunk_size + TAG_BYTES:
                raise BackupRefused(f"the backup is damaged at byte {offset:,} (chunk {counter + 1})")
            sealed = handle.read(length)
            if len(sealed) < length:
                raise BackupRefused(
                    f"the backup is truncated: chunk {counter + 1} at byte {offset:,} is cut short"
                )
            plain = last = None
            for flag in (False, True):
                try:
                    plain = keys.cipher.decrypt(_nonce(prefix, counter, flag), sealed, prelude)
                    last = flag
                    break
                except InvalidTag:
                    continue
            if plain is None:
                raise BackupRefused(
                    f"the backup is damaged or was altered: chunk {counter + 1} at byte {offset:,} "
                    "fails its authentication"
                )
            offset += _LENGTH.size + length
            counter += 1
            yield plain
            if last:
                if handle.read(1):
                    raise BackupRefused(f"the backup was altered: bytes follow its last chunk at {offset:,}")
                return

    return header, chunks()
