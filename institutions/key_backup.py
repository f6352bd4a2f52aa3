"""The encrypted file that carries institutions' signing keys to a backup and back.

A versioned JSON envelope: scrypt turns the passphrase into an AES-256-GCM key, and the
envelope's header (everything but the ciphertext) is the associated data, so changing the
format, the KDF parameters or the salt makes the file not open rather than open differently.
Pure: no queries; the services and the commands around it read and write the rows.
"""

import base64
import json
import os
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT: Final = "meshe-signing-keys-backup"
VERSION: Final = 1
# scrypt with n=2**15 and r=8 uses 32 MiB and a few tenths of a second: cheap once, dear per guess.
SCRYPT_N: Final = 2**15
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
SALT_BYTES: Final = 16
NONCE_BYTES: Final = 12
MIN_PASSPHRASE: Final = 12


class BackupError(Exception):
    """The file is not a backup, is of an unknown version, was altered, or the passphrase is
    wrong; the message says which, as far as it can be told."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, *, what: str) -> bytes:
    if not isinstance(text, str):
        raise BackupError(f"The backup's {what} is missing.")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise BackupError(f"The backup's {what} is not base64.") from None


def _key(passphrase: str, *, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def _associated_data(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def seal(payload: dict[str, Any], *, passphrase: str) -> bytes:
    """The envelope for `payload` under `passphrase`, as the bytes of the file."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"The passphrase must be at least {MIN_PASSPHRASE} characters long.")
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "kdf": {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
        "cipher": {"name": "AES-256-GCM", "nonce": _b64(nonce)},
    }
    key = _key(passphrase, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    plaintext = json.dumps(payload, sort_keys=True).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _associated_data(header))
    return (json.dumps({**header, "ciphertext": _b64(ciphertext)}, indent=2) + "\n").encode()


def open_backup(content: bytes, *, passphrase: str) -> dict[str, Any]:
    """The payload of an envelope; raises BackupError for anything but an intact file opened
    with the right passphrase."""
    try:
        envelope = json.loads(content)
    except (UnicodeDecodeError, ValueError):
        raise BackupError("This is not a MESHE key backup: it is not JSON.") from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise BackupError("This is not a MESHE key backup.")
    if envelope.get("version") != VERSION:
        raise BackupError(f"Unknown backup version {envelope.get('version')!r}.")
    kdf, cipher = envelope.get("kdf"), envelope.get("cipher")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise BackupError("The backup names an unknown key derivation.")
    if not isinstance(cipher, dict) or cipher.get("name") != "AES-256-GCM":
        raise BackupError("The backup names an unknown cipher.")
    n, r, p = kdf.get("n"), kdf.get("r"), kdf.get("p")
    # Bounds keep a crafted file from asking for gigabytes of memory.
    if not (
        isinstance(n, int) and isinstance(r, int) and isinstance(p, int)
        and 2**14 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 16 and 1 <= p <= 4
    ):  # fmt: skip
        raise BackupError("The backup's key derivation parameters are out of range.")
    salt = _unb64(kdf.get("salt"), what="salt")
    nonce = _unb64(cipher.get("nonce"), what="nonce")
    ciphertext = _unb64(envelope.get("ciphertext"), what="ciphertext")
    if len(nonce) != NONCE_BYTES:
        raise BackupError("The backup's nonce has the wrong length.")
    header = {name: value for name, value in envelope.items() if name != "ciphertext"}
    try:
        plaintext = AESGCM(_key(passphrase, salt=salt, n=n, r=r, p=p)).decrypt(
            nonce, ciphertext, _associated_data(header)
        )
    except InvalidTag:
        raise BackupError(
            "The backup does not open: the passphrase is wrong or the file was altered."
        ) from None
    payload = json.loads(plaintext)
    if not isinstance(payload, dict):
        raise BackupError("The backup's contents are not a key list.")
    return payload


def write_new_file(path: str, content: bytes) -> None:
    """Creates `path` readable by its owner only (0600); refuses to replace an existing file."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} already exists; choose a new name.") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
