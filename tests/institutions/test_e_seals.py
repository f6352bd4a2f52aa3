"""An institution's e-seal certificate: the upload door, its refusals, replacing and removing
with a reason, and the key sealed at rest."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from institutions import e_seals, services
from institutions.key_storage import KeyStorageError
from institutions.models import AuditEvent, ESealCertificate, Role, SigningKey
from tests.credentials import e_seals as samples
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def page(membership) -> str:
    return reverse("institutions:e_seal", kwargs={"slug": membership.institution.slug})


def upload(client, membership, content: bytes, *, passphrase=samples.PASSPHRASE, **extra):
    return client.post(
        page(membership),
        {"file": SimpleUploadedFile("seal.p12", content), "passphrase": passphrase, **extra},
    )


def ca_issued_rsa():
    ca, ca_key = samples.certificate_authority()
    key = samples.rsa_key()
    return key, [samples.certificate(key, issuer=(ca, ca_key)), ca]


def test_an_admin_uploads_a_pkcs12_e_seal_and_sees_what_the_certificate_says(logged_in):
    admin = MembershipFactory()
    key, chain = ca_issued_rsa()
    client = logged_in(admin.user)

    response = upload(client, admin, samples.pkcs12_file(key, chain))

    assert response.status_code == 302
    e_seal = ESealCertificate.objects.get(institution=admin.institution)
    text = client.get(page(admin)).text
    assert "O=Universitas Exempli" in text and "CN=Test Qualified e-Seal CA" in text
    assert "digitalSignature, nonRepudiation" in text
    assert not e_seal.self_signed and not e_seal.test_certificate
    assert len(e_seal.certificate_chain_pem.split("BEGIN CERTIFICATE")) == 3
    event = AuditEvent.objects.get(institution=admin.institution, action="e_seal.installed")
    assert event.detail["fingerprint"] == e_seal.fingerprint


def test_the_e_seal_key_is_sealed_at_rest_and_opens_only_with_the_nodes_secret(logged_in, settings):
    admin = MembershipFactory()
    key = samples.p256_key()
    upload(logged_in(admin.user), admin, samples.pem_file(key, [samples.certificate(key)]))
    e_seal = ESealCertificate.objects.get(institution=admin.institution)
    stored = e_seals.load_stored(e_seal.certificate_chain_pem, e_seal.private_key_der())

    assert stored.key_der() == e_seals.ESeal(key=key, chain=stored.chain).key_der()
    assert stored.key_der() not in bytes(e_seal.sealed_private_key)
    settings.MESHE_KEY_ENCRYPTION_SECRET = "another secret of at least thirty-two chars"
    with pytest.raises(Exception, match="does not open"):
        e_seal.private_key_der()


@pytest.mark.parametrize(
    ("content", "passphrase", "message"),
    [
        (lambda k, c: samples.pkcs12_file(k, c), "wrong passphrase", "the passphrase is wrong"),
        (lambda k, c: samples.pem_file(k, c), "wrong passphrase", "The passphrase is wrong"),
        (
            lambda k, c: samples.pem_file(k, c, passphrase=None),
            samples.PASSPHRASE,
            "must be protected by a passphrase",
        ),
        (
            lambda k, c: samples.pem_file(k, [samples.certificate(samples.rsa_key())]),
            samples.PASSPHRASE,
            "None of the certificates in the file belongs to its key",
        ),
        (
            lambda k, c: samples.pkcs12_file(
                k, [samples.certificate(k, key_usage=samples.ENCIPHERING_ONLY)]
            ),
            samples.PASSPHRASE,
            "may not be used to seal",
        ),
        (
            lambda k, c: samples.pkcs12_file(
                k,
                [
                    samples.certificate(
                        k,
                        not_before=datetime.now(UTC) - timedelta(days=400),
                        lifetime=timedelta(days=30),
                    )
                ],
            ),
            samples.PASSPHRASE,
            "is not valid today",
        ),
        (lambda k, c: b"x" * (65 * 1024), samples.PASSPHRASE, "The file is too large"),
        (lambda k, c: b"not a certificate at all", samples.PASSPHRASE, "does not open"),
    ],
    ids=[
        "pkcs12-wrong-passphrase",
        "pem-wrong-passphrase",
        "pem-key-unprotected",
        "certificate-of-another-key",
        "no-sealing-key-usage",
        "expired",
        "too-large",
        "not-a-certificate",
    ],
)
def test_the_upload_refuses_with_a_named_reason_and_stores_nothing(
    logged_in, content, passphrase, message
):
    admin = MembershipFactory()
    key = samples.rsa_key()

    response = upload(
        logged_in(admin.user),
        admin,
        content(key, [samples.certificate(key)]),
        passphrase=passphrase,
    )

    assert response.status_code == 200
    assert message in response.text
    assert not ESealCertificate.objects.exists()


def test_a_key_that_cannot_seal_is_refused_by_name(logged_in):
    admin = MembershipFactory()
    key = ec.generate_private_key(ec.SECP384R1())

    response = upload(
        logged_in(admin.user), admin, samples.pkcs12_file(key, [samples.certificate(key)])
    )

    assert "Only RSA keys of 2048 bits or more and P-256 keys can seal" in response.text


def test_replacing_the_certificate_asks_for_confirmation_and_a_reason_and_is_audited(logged_in):
    admin = MembershipFactory()
    client = logged_in(admin.user)
    first = samples.rsa_key()
    upload(client, admin, samples.pkcs12_file(first, [samples.certificate(first)]))
    second = samples.p256_key()
    second_file = samples.pkcs12_file(second, [samples.certificate(second, name="Second Seal")])

    refused = upload(client, admin, second_file)
    replaced = upload(client, admin, second_file, confirm="on", reason="The CA re-issued it.")

    assert "Tick the box to confirm the change." in refused.text
    assert "Say why the e-seal certificate is replaced." in refused.text
    assert replaced.status_code == 302
    assert ESealCertificate.objects.get().subject == "Second Seal"
    event = AuditEvent.objects.get(action="e_seal.replaced")
    assert event.detail["reason"] == "The CA re-issued it."


def test_removing_the_certificate_asks_for_confirmation_and_a_reason_and_is_audited(logged_in):
    admin = MembershipFactory()
    client = logged_in(admin.user)
    key = samples.rsa_key()
    assert (
        upload(client, admin, samples.pkcs12_file(key, [samples.certificate(key)])).status_code
        == 302
    )
    remove = reverse("institutions:e_seal_remove", kwargs={"slug": admin.institution.slug})

    refused = client.post(remove, {"reason": ""})
    kept = ESealCertificate.objects.exists()
    removed = client.post(remove, {"reason": "Leaving the pilot.", "confirm": "on"})

    assert refused.status_code == 400 and kept
    assert "Tick the box to confirm the change." in refused.text
    assert removed.status_code == 302 and not ESealCertificate.objects.exists()
    assert AuditEvent.objects.get(action="e_seal.removed").detail["reason"] == "Leaving the pilot."
    assert "European Digital Credentials are offered unsealed" in client.get(page(admin)).text


def test_only_an_admin_manages_the_e_seal_and_an_outsider_sees_nothing(logged_in):
    issuer = MembershipFactory(role=Role.ISSUER)

    assert logged_in(issuer.user).get(page(issuer)).status_code == 403
    assert logged_in(UserFactory()).get(page(issuer)).status_code == 404


def test_a_self_signed_test_certificate_says_so_on_the_page(logged_in):
    admin = MembershipFactory()
    test_seal = e_seals.self_signed_test_seal(
        name="Demo University", country="BE", now=datetime.now(UTC)
    )
    services.e_seal_install(actor=None, institution=admin.institution, e_seal=test_seal)

    text = logged_in(admin.user).get(page(admin)).text
    assert "This is a self-signed test certificate made for demonstrations" in text
    assert (
        "It is a self-signed test certificate"
        in logged_in(admin.user).get(admin.institution.get_absolute_url()).text
    )


# ---------------------------------------------------------------- backups and the secret

BACKUP_PASSPHRASE = "correct horse battery staple, twice"


def installed_e_seal(institution) -> ESealCertificate:
    key = samples.rsa_key()
    services.e_seal_install(
        actor=None,
        institution=institution,
        e_seal=e_seals.ESeal(key=key, chain=(samples.certificate(key),)),
    )
    return ESealCertificate.objects.get(institution=institution)


def test_a_key_backup_carries_the_e_seal_and_restores_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MESHE_KEY_BACKUP_PASSPHRASE", BACKUP_PASSPHRASE)
    institution = MembershipFactory().institution
    before = installed_e_seal(institution)
    path = tmp_path / "keys.json"
    call_command("export_signing_keys", "--institution", institution.slug, "--output", str(path))
    SigningKey.objects.filter(institution=institution).delete()
    before.delete()

    call_command("import_signing_keys", str(path), stdout=io.StringIO())

    after = ESealCertificate.objects.get(institution=institution)
    assert after.fingerprint == before.fingerprint
    assert after.private_key_der() == before.private_key_der()
    assert AuditEvent.objects.filter(institution=institution, action="e_seal.imported").exists()


def test_an_import_refuses_an_e_seal_over_the_one_already_here(tmp_path, monkeypatch):
    monkeypatch.setenv("MESHE_KEY_BACKUP_PASSPHRASE", BACKUP_PASSPHRASE)
    institution = MembershipFactory().institution
    installed_e_seal(institution)
    path = tmp_path / "keys.json"
    call_command("export_signing_keys", "--institution", institution.slug, "--output", str(path))
    SigningKey.objects.filter(institution=institution).delete()

    with pytest.raises(CommandError, match="already has an e-seal certificate"):
        call_command("import_signing_keys", str(path))
    assert not SigningKey.objects.filter(institution=institution).exists()


def test_rotating_the_encryption_secret_reseals_the_e_seal_key(settings, monkeypatch):
    institution = MembershipFactory().institution
    before = installed_e_seal(institution).private_key_der()
    new_secret = "a-brand-new-key-encryption-secret-for-the-tests-0123456789"
    monkeypatch.setenv("MESHE_KEY_ENCRYPTION_SECRET_NEW", new_secret)

    call_command("rotate_key_encryption_secret", stdout=io.StringIO())

    e_seal = ESealCertificate.objects.get(institution=institution)
    with pytest.raises(KeyStorageError):
        e_seal.private_key_der()
    settings.MESHE_KEY_ENCRYPTION_SECRET = new_secret
    assert e_seal.private_key_der() == before
    assert AuditEvent.objects.filter(institution=institution, action="e_seal.resealed").exists()
