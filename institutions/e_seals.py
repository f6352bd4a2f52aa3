"""Reading an institution's e-seal certificate and key from an upload: PKCS#12, or PEM (an
encrypted private key and the certificate chain), protected by a passphrase.

Each refusal is an ESealError with a named, translated reason; a library's own words never
reach the page. What may seal is decided by credentials.standards.jades (RSA of 2048 bits or
more, P-256; key usage digitalSignature or nonRepudiation).
"""

import base64
import dataclasses
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.utils.translation import gettext as _

from credentials.standards import jades
from meshe.errors import UserFacingError

# The upload door's cap: a certificate chain and key take a few kilobytes.
MAX_UPLOAD_BYTES: Final = 64 * 1024
MAX_CHAIN: Final = jades.MAX_CHAIN
# Opening a PKCS#12 or encrypted PEM runs its key derivations and MAC as many rounds as the file
# asks: 1,000,000 rounds cost about 0.2 s, and a file may ask for billions. Common exports use
# 2,048 to 600,000; the rounds of a file together may not pass this.
MAX_KDF_ROUNDS: Final = 3_000_000
MAX_DER_DEPTH: Final = 24
# The marker MESHE writes into the certificates it makes for demonstrations.
TEST_CERTIFICATE_UNIT: Final = "MESHE self-signed test certificate"


class ESealError(UserFacingError):
    """An e-seal upload refused, with the reason in the reader's language."""


@dataclasses.dataclass(frozen=True)
class ESeal:
    key: jades.SealKey
    chain: tuple[x509.Certificate, ...]  # the key's own certificate first

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    def key_matches(self) -> bool:
        """Whether the first certificate is the key's own."""
        return _own_certificate(self.key, list(self.chain[:1])) is not None

    def chain_pem(self) -> str:
        return "".join(
            c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in self.chain
        )

    def key_der(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def read_upload(data: bytes, *, passphrase: str, now: datetime) -> ESeal:
    """The e-seal in an uploaded file; raises ESealError naming what is wrong."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ESealError(
            _("The file is too large: an e-seal certificate and key take under %(limit)s KB.")
            % {"limit": MAX_UPLOAD_BYTES // 1024}
        )
    secret = passphrase.encode()
    if _kdf_rounds(data) > MAX_KDF_ROUNDS:
        raise ESealError(
            _(
                "The file asks for too much work to open (its key derivation runs more than "
                "%(limit)s rounds): export it again with the usual settings."
            )
            % {"limit": f"{MAX_KDF_ROUNDS:,}"}
        )
    if b"-----BEGIN" in data:
        key, chain = _read_pem(data, secret)
    else:
        key, chain = _read_pkcs12(data, secret)
    if not chain:
        raise ESealError(_("The file holds no certificate."))
    try:
        jades.seal_algorithm(key)
    except jades.SealError:
        raise _unsupported_key() from None
    leaf = _own_certificate(key, chain)
    if leaf is None:
        raise ESealError(_("None of the certificates in the file belongs to its key."))
    if not jades.may_seal(leaf):
        raise ESealError(
            _(
                "The certificate may not be used to seal: its key usage allows neither digital "
                "signatures nor non-repudiation."
            )
        )
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise ESealError(
            _("The certificate is not valid today: it has expired or is not yet valid.")
        )
    others = [c for c in chain if c is not leaf]
    return ESeal(key=key, chain=(leaf, *others[: MAX_CHAIN - 1]))


def load_stored(chain_pem: str, key_der: bytes) -> ESeal:
    """The e-seal as stored (institutions.models.ESealCertificate)."""
    key = serialization.load_der_private_key(key_der, password=None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)  # checked at upload
    return ESeal(key=key, chain=tuple(x509.load_pem_x509_certificates(chain_pem.encode())))


def is_test_certificate(certificate: x509.Certificate) -> bool:
    units = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return any(unit.value == TEST_CERTIFICATE_UNIT for unit in units)


def self_signed_test_seal(*, name: str, country: str, now: datetime) -> ESeal:
    """A P-256 key and a self-signed certificate saying it is a test certificate, for demo data."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country[:2].upper()),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, TEST_CERTIFICATE_UNIT),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name} (test e-seal)"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return ESeal(key=key, chain=(certificate,))


def _unsupported_key() -> ESealError:
    return ESealError(
        _("Only RSA keys of 2048 bits or more and P-256 keys can seal; this key is neither.")
    )


def _read_pkcs12(data: bytes, secret: bytes) -> tuple[jades.SealKey, list[x509.Certificate]]:
    try:
        key, certificate, additional = pkcs12.load_key_and_certificates(data, secret or None)
    except ValueError as exc:
        # A wrong passphrase and a file that is no PKCS#12 look alike to the reader: say both.
        raise ESealError(
            _(
                "The file does not open: the passphrase is wrong, or it is not a PKCS#12 or PEM file."
            )
        ) from exc
    if key is None:
        raise ESealError(_("The file holds no private key."))
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise _unsupported_key()
    chain = ([certificate] if certificate is not None else []) + list(additional)
    return key, chain


def _read_pem(data: bytes, secret: bytes) -> tuple[jades.SealKey, list[x509.Certificate]]:
    blocks = _pem_blocks(data)
    keys = [block for block in blocks if b"PRIVATE KEY-----" in block.split(b"\n", 1)[0]]
    if not keys:
        raise ESealError(_("The file holds no private key."))
    if b"ENCRYPTED" not in keys[0].split(b"\n", 1)[0] and b"Proc-Type: 4,ENCRYPTED" not in keys[0]:
        raise ESealError(_("The private key must be protected by a passphrase."))
    try:
        key = serialization.load_pem_private_key(keys[0], password=secret or None)
    except (ValueError, TypeError) as exc:
        raise ESealError(_("The passphrase is wrong, or the private key is damaged.")) from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise _unsupported_key()
    try:
        chain = x509.load_pem_x509_certificates(
            b"".join(block for block in blocks if block.startswith(b"-----BEGIN CERTIFICATE"))
        )
    except ValueError:
        chain = []
    return key, chain


def _kdf_rounds(data: bytes) -> int:
    """The rounds the file's key derivations and MAC ask for, read from its DER (a PEM file's
    encrypted keys decoded first) without opening anything: in PBKDF2, PKCS#12 PBE, MacData
    and scrypt parameters the count is the INTEGER that follows the salt (an OCTET STRING)."""
    if b"-----BEGIN" in data:
        ders = []
        for block in _pem_blocks(data):
            if b"ENCRYPTED PRIVATE KEY-----" in block.split(b"\n", 1)[0]:
                body = b"".join(line for line in block.splitlines()[1:-1] if b":" not in line)
                try:
                    ders.append(base64.b64decode(body))
                except ValueError:
                    continue
        return sum(_rounds_in(der, 0) for der in ders)
    return _rounds_in(data, 0)


def _rounds_in(der: bytes, depth: int) -> int:
    """The rounds named in one DER value and everything inside it; 0 for what is not DER."""
    if depth > MAX_DER_DEPTH:
        return 0
    rounds = 0
    previous_tag = None
    for tag, content in _der_items(der):
        if tag == 0x02 and previous_tag == 0x04:  # INTEGER right after OCTET STRING
            rounds += int.from_bytes(content[:8], "big") if len(content) <= 8 else 1 << 62
        elif tag & 0x20 or tag == 0x04:  # constructed, or an OCTET STRING that may hold DER
            rounds += _rounds_in(content, depth + 1)
        previous_tag = tag
    return rounds


def _der_items(der: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) of the DER values laid end to end in `der`; [] unless all parse."""
    items, at = [], 0
    while at < len(der):
        if at + 2 > len(der):
            return []
        tag, size, at = der[at], der[at + 1], at + 2
        if size & 0x80:
            count = size & 0x7F
            if count == 0 or count > 4 or at + count > len(der):
                return []
            size, at = int.from_bytes(der[at : at + count], "big"), at + count
        if at + size > len(der):
            return []
        items.append((tag, der[at : at + size]))
        at += size
    return items


def _pem_blocks(data: bytes) -> list[bytes]:
    blocks = []
    for part in data.split(b"-----BEGIN ")[1:]:
        end = part.find(b"-----END ")
        if end < 0:
            continue
        tail = part.find(b"-----", end + 9)
        blocks.append(b"-----BEGIN " + part[: tail + 5] + b"\n")
    return blocks


def _own_certificate(key: jades.SealKey, chain: list[x509.Certificate]) -> x509.Certificate | None:
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for certificate in chain:
        spki = certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if spki == public:
            return certificate
    return None
