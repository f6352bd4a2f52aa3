"""E-seal keys and certificates for the JAdES tests: a test CA, certificates it issues, and the
Commission's sealed sample with the CA certificate its unsigned properties carry."""

import copy
import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from credentials.standards import jades
from tests.credentials.standards_paths import STANDARDS_DIR, read_json

SEALED_SAMPLE = STANDARDS_DIR / "edc" / "examples" / "elm-Sample-MC-Annex1-signed.jsonld"
SAMPLE_SIGNING_TIME = datetime(2023, 9, 27, 11, 54, 17, tzinfo=UTC)
SAMPLE_CA_NAME = "ANF AC Qualified Certificates for eSeal"

SEALING = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
ENCIPHERING_ONLY = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
CERTIFYING = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def sealed_sample() -> dict[str, Any]:
    """A fresh copy of the Commission's sealed micro-credential sample."""
    return copy.deepcopy(_sample())


@functools.cache
def _sample() -> dict[str, Any]:
    return read_json(SEALED_SAMPLE)


def sample_ca() -> x509.Certificate:
    """The CA that issued the sample's e-seal certificate, as the sample's xVals carry it."""
    header = _sample()["signatures"][0]["header"]
    values = jades._certificate_values(jades._unsigned_properties(header))
    return next(c for c in values if c.subject.rfc4514_string().startswith(f"CN={SAMPLE_CA_NAME},"))


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def p256_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def certificate(
    key: Any,
    *,
    name: str = "Universitas Exempli",
    issuer: tuple[x509.Certificate, Any] | None = None,
    key_usage: x509.KeyUsage | None = SEALING,
    ca: bool = False,
    not_before: datetime | None = None,
    lifetime: timedelta = timedelta(days=365),
) -> x509.Certificate:
    """A certificate for `key`, issued by (certificate, key) `issuer` or self-signed."""
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name} e-seal"),
        ]
    )
    issuer_name, signing_key = (issuer[0].subject, issuer[1]) if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + lifetime)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    return builder.sign(signing_key, hashes.SHA256())


def certificate_authority() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa_key()
    return certificate(key, name="Test Qualified e-Seal CA", key_usage=CERTIFYING, ca=True), key


PASSPHRASE = "correct horse battery staple"


def pkcs12_file(key, chain, *, passphrase: str = PASSPHRASE) -> bytes:
    """The key and chain as a PKCS#12 file, as a CA hands an e-seal over."""
    return pkcs12.serialize_key_and_certificates(
        b"e-seal",
        key,
        chain[0],
        list(chain[1:]) or None,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )


def pem_file(key, chain, *, passphrase: str | None = PASSPHRASE) -> bytes:
    """The key (encrypted unless passphrase is None) and the chain as one PEM file."""
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    return key_pem + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)


def pem_of(*certificates) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)
