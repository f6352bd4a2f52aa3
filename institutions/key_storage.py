"""Institutions' private signing keys, sealed at rest with AES-256-GCM.

The AES key is derived from MESHE_KEY_ENCRYPTION_SECRET with HKDF, so the secret itself
never touches a cipher. Each sealed key is bound (as associated data) to its public key:
a sealed blob copied onto another key's row does not open.
"""

import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_V1: Final = b"\x01"
NONCE_BYTES: Final = 12


class KeyStorageError(Exception):
    """A sealed key could not be opened: wrong secret, tampered blob or unknown format."""


def _aes_key(secret: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"meshe institution signing keys",
        info=b"aes-256-gcm v1",
    ).derive(secret.encode())


def seal_private_key(private_key: Ed25519PrivateKey, *, secret: str, bound_to: str) -> bytes:
    """Encrypts the key's 32-byte seed; `bound_to` (the public key) must match when opening."""
    seed = private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_V1 + nonce + AESGCM(_aes_key(secret)).encrypt(nonce, seed, bound_to.encode())


def open_private_key(sealed: bytes, *, secret: str, bound_to: str) -> Ed25519PrivateKey:
    """Decrypts a sealed key. Raises KeyStorageError rather than returning a wrong key."""
    if sealed[:1] != FORMAT_V1 or len(sealed) != 1 + NONCE_BYTES + 32 + 16:
        raise KeyStorageError("The sealed key has an unknown format.")
    nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        seed = AESGCM(_aes_key(secret)).decrypt(nonce, ciphertext, bound_to.encode())
    except InvalidTag:
        raise KeyStorageError(
            "The sealed key does not open: MESHE_KEY_ENCRYPTION_SECRET differs from the one "
            "that sealed it, or the stored key was altered."
        ) from None
    return Ed25519PrivateKey.from_private_bytes(seed)


FORMAT_BYTES_V1: Final = b"\x02"


def seal_private_bytes(data: bytes, *, secret: str, bound_to: str) -> bytes:
    """Encrypts a private key of any kind (its PKCS#8 DER: an e-seal's RSA or P-256 key) the way
    seal_private_key does an Ed25519 seed; `bound_to` (the certificate's fingerprint) must match
    when opening."""
    nonce = os.urandom(NONCE_BYTES)
    return (
        FORMAT_BYTES_V1 + nonce + AESGCM(_aes_key(secret)).encrypt(nonce, data, bound_to.encode())
    )


def open_private_bytes(sealed: bytes, *, secret: str, bound_to: str) -> bytes:
    """Decrypts what seal_private_bytes sealed. Raises KeyStorageError rather than returning
    wrong bytes."""
    if sealed[:1] != FORMAT_BYTES_V1 or len(sealed) < 1 + NONCE_BYTES + 16:
        raise KeyStorageError("The sealed key has an unknown format.")
    nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(_aes_key(secret)).decrypt(nonce, ciphertext, bound_to.encode())
    except InvalidTag:
        raise KeyStorageError(
            "The sealed key does not open: MESHE_KEY_ENCRYPTION_SECRET differs from the one "
            "that sealed it, or the stored key was altered."
        ) from None
