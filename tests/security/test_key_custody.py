"""Private keys at rest: rotating the encryption secret, and encrypted backups restored."""

import json
import os
import stat

import pytest
from django.core.management import CommandError, call_command

from credentials.issuing.verifier import verify
from institutions import key_backup
from institutions import services as institution_services
from institutions.exceptions import KeyCustodyError
from institutions.key_storage import KeyStorageError, open_private_key
from institutions.models import AuditEvent, SigningKey
from tests.factories import InstitutionFactory, MicroCredentialFactory, issue

pytestmark = pytest.mark.django_db

PASSPHRASE = "correct horse battery staple, twice"
NEW_SECRET = "a-brand-new-key-encryption-secret-for-the-tests-0123456789"


@pytest.fixture
def passphrase(monkeypatch):
    monkeypatch.setenv("MESHE_KEY_BACKUP_PASSPHRASE", PASSPHRASE)
    return PASSPHRASE


def an_institution_with_history():
    """Key-1 signed a credential and was retired; key-2 signed another and is active."""
    micro_credential = MicroCredentialFactory()
    institution = micro_credential.institution
    old = issue(micro_credential)
    institution_services.signing_key_rotate(actor=None, institution=institution)
    new = issue(micro_credential, holder_email="bo@example.eu")
    return micro_credential, [old, new]


def publics(institution) -> list[str]:
    return list(
        SigningKey.objects.filter(institution=institution)
        .order_by("number")
        .values_list("public_key_multibase", flat=True)
    )


def export(path, *args: str) -> None:
    call_command("export_signing_keys", *args, "--output", str(path))


# ---------------------------------------------------------------- backups


def test_a_backup_restores_keys_that_sign_and_verify_what_they_signed(tmp_path, passphrase):
    micro_credential, credentials = an_institution_with_history()
    institution = micro_credential.institution
    before = publics(institution)
    path = tmp_path / "keys.json"
    export(path, "--institution", institution.slug)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert before[0] not in path.read_text()  # nothing readable, not even public keys

    SigningKey.objects.filter(institution=institution).delete()
    call_command("import_signing_keys", str(path))

    assert publics(institution) == before
    assert all(verify(c.document)["verified"] for c in credentials)
    fresh = issue(micro_credential, holder_email="cy@example.eu")
    assert verify(fresh.document)["verified"]
    actions = set(
        AuditEvent.objects.filter(institution=institution).values_list("action", flat=True)
    )
    assert {"signing_keys.exported", "signing_keys.imported"} <= actions


def test_an_export_never_replaces_a_file(tmp_path, passphrase):
    institution = InstitutionFactory()
    path = tmp_path / "keys.json"
    path.write_text("keep me")
    with pytest.raises(CommandError, match="already exists"):
        export(path, "--institution", institution.slug)
    assert path.read_text() == "keep me"


def test_an_export_of_an_unknown_institution_writes_nothing(tmp_path, passphrase):
    with pytest.raises(CommandError, match="no-such-uni"):
        export(tmp_path / "keys.json", "--institution", "no-such-uni")
    assert not (tmp_path / "keys.json").exists()


def test_the_passphrase_is_never_an_argument_and_must_come_from_somewhere(tmp_path, monkeypatch):
    monkeypatch.delenv("MESHE_KEY_BACKUP_PASSPHRASE", raising=False)
    institution = InstitutionFactory()
    with pytest.raises(CommandError, match="MESHE_KEY_BACKUP_PASSPHRASE"):
        export(tmp_path / "keys.json", "--institution", institution.slug)
    with pytest.raises(CommandError, match="unrecognized arguments"):
        call_command("export_signing_keys", "--all", "--output", "x", "--passphrase", "p")


def test_a_wrong_passphrase_restores_nothing(tmp_path, passphrase, monkeypatch):
    institution = InstitutionFactory()
    path = tmp_path / "keys.json"
    export(path, "--all")
    SigningKey.objects.filter(institution=institution).delete()
    monkeypatch.setenv("MESHE_KEY_BACKUP_PASSPHRASE", "not the passphrase at all")
    with pytest.raises(CommandError, match="passphrase is wrong or the file was altered"):
        call_command("import_signing_keys", str(path))
    assert not SigningKey.objects.filter(institution=institution).exists()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: {**e, "ciphertext": e["ciphertext"][:-8] + "AAAAAAA="},
        lambda e: {**e, "kdf": {**e["kdf"], "salt": "AAAAAAAAAAAAAAAAAAAAAA=="}},
        lambda e: {**e, "kdf": {**e["kdf"], "n": 2**16}},
        lambda e: {**e, "kdf": {**e["kdf"], "n": 2**30}},
        lambda e: {**e, "version": 2},
        lambda e: {**e, "format": "something-else"},
    ],
    ids=["ciphertext", "salt", "kdf-cost", "kdf-cost-huge", "version", "format"],
)
def test_a_tampered_backup_is_refused(tmp_path, passphrase, tamper):
    institution = InstitutionFactory()
    path = tmp_path / "keys.json"
    export(path, "--all")
    envelope = json.loads(path.read_text())
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(tamper(envelope)))
    SigningKey.objects.filter(institution=institution).delete()
    with pytest.raises(CommandError):
        call_command("import_signing_keys", str(tampered))
    assert not SigningKey.objects.filter(institution=institution).exists()


def test_keys_already_here_are_refused_and_nothing_changes(tmp_path, passphrase):
    institution = InstitutionFactory()
    path = tmp_path / "keys.json"
    export(path, "--all")
    before = list(SigningKey.objects.values_list("pk", "sealed_private_key"))
    with pytest.raises(CommandError, match="already here"):
        call_command("import_signing_keys", str(path))
    assert list(SigningKey.objects.values_list("pk", "sealed_private_key")) == before
    assert institution.signing_keys.count() == 1


def test_an_import_is_all_or_nothing_across_institutions(tmp_path, passphrase):
    first, second = InstitutionFactory(slug="a-first"), InstitutionFactory(slug="b-second")
    path = tmp_path / "keys.json"
    export(path, "--all")
    SigningKey.objects.all().delete()
    second.delete()
    with pytest.raises(CommandError, match="b-second"):
        call_command("import_signing_keys", str(path))
    assert not SigningKey.objects.filter(institution=first).exists()


def test_a_private_key_that_does_not_match_its_public_key_is_refused():
    institution = InstitutionFactory()
    payload = institution_services.signing_keys_export(slugs=[institution.slug])
    other = institution_services.signing_keys_export(slugs=[InstitutionFactory().slug])
    payload["institutions"][0]["keys"][0]["private_key_seed"] = other["institutions"][0]["keys"][0][
        "private_key_seed"
    ]
    SigningKey.objects.filter(institution=institution).delete()
    with pytest.raises(KeyCustodyError, match="does not match its public key"):
        institution_services.signing_keys_import(payload=payload)
    assert not SigningKey.objects.filter(institution=institution).exists()


def test_a_dry_run_import_checks_everything_and_writes_nothing(tmp_path, passphrase):
    institution = InstitutionFactory()
    path = tmp_path / "keys.json"
    export(path, "--all")
    SigningKey.objects.filter(institution=institution).delete()
    call_command("import_signing_keys", str(path), "--dry-run")
    assert not SigningKey.objects.filter(institution=institution).exists()


def test_a_short_passphrase_is_refused():
    with pytest.raises(key_backup.BackupError, match="at least 12"):
        key_backup.seal({}, passphrase="short")


# ---------------------------------------------------------------- the encryption secret


def test_rotating_the_secret_reseals_every_key_and_everything_still_verifies(settings, monkeypatch):
    micro_credential, credentials = an_institution_with_history()
    other = InstitutionFactory()
    old_secret = settings.MESHE_KEY_ENCRYPTION_SECRET
    monkeypatch.setenv("MESHE_KEY_ENCRYPTION_SECRET_NEW", NEW_SECRET)
    call_command("rotate_key_encryption_secret")

    for key in SigningKey.objects.all():
        with pytest.raises(KeyStorageError):
            open_private_key(
                bytes(key.sealed_private_key), secret=old_secret, bound_to=key.public_key_multibase
            )
    settings.MESHE_KEY_ENCRYPTION_SECRET = NEW_SECRET
    assert all(verify(c.document)["verified"] for c in credentials)
    assert verify(issue(micro_credential, holder_email="cy@example.eu").document)["verified"]
    for institution in (micro_credential.institution, other):
        assert AuditEvent.objects.filter(
            institution=institution, action="signing_keys.resealed"
        ).exists()


def test_rotating_twice_changes_nothing_the_second_time(settings, monkeypatch, capsys):
    InstitutionFactory()
    monkeypatch.setenv("MESHE_KEY_ENCRYPTION_SECRET_NEW", NEW_SECRET)
    call_command("rotate_key_encryption_secret")
    sealed = list(SigningKey.objects.values_list("sealed_private_key", flat=True))
    call_command("rotate_key_encryption_secret")
    assert list(SigningKey.objects.values_list("sealed_private_key", flat=True)) == sealed
    assert "0 keys re-sealed" in capsys.readouterr().out


def test_a_dry_run_rotation_changes_nothing(monkeypatch, capsys):
    InstitutionFactory()
    before = list(SigningKey.objects.values_list("sealed_private_key", flat=True))
    monkeypatch.setenv("MESHE_KEY_ENCRYPTION_SECRET_NEW", NEW_SECRET)
    call_command("rotate_key_encryption_secret", "--dry-run")
    assert list(SigningKey.objects.values_list("sealed_private_key", flat=True)) == before
    assert "1 keys would be re-sealed" in capsys.readouterr().out


def test_rotation_refuses_when_a_key_does_not_open_and_changes_nothing(monkeypatch):
    first, second = InstitutionFactory(), InstitutionFactory()
    SigningKey.objects.filter(institution=second).update(sealed_private_key=os.urandom(61))
    before = list(SigningKey.objects.order_by("pk").values_list("sealed_private_key", flat=True))
    monkeypatch.setenv("MESHE_KEY_ENCRYPTION_SECRET_NEW", NEW_SECRET)
    with pytest.raises(CommandError, match=f"{second.slug} key-1"):
        call_command("rotate_key_encryption_secret")
    after = list(SigningKey.objects.order_by("pk").values_list("sealed_private_key", flat=True))
    assert after == before
    assert first.signing_keys.get().private_key  # still opens with the configured secret


def test_rotation_reads_secrets_from_the_environment_only(monkeypatch):
    monkeypatch.delenv("MESHE_KEY_ENCRYPTION_SECRET_NEW", raising=False)
    with pytest.raises(CommandError, match="Set MESHE_KEY_ENCRYPTION_SECRET_NEW"):
        call_command("rotate_key_encryption_secret")
    monkeypatch.setenv("MESHE_KEY_ENCRYPTION_SECRET_NEW", "too short")
    with pytest.raises(CommandError, match="at least 32"):
        call_command("rotate_key_encryption_secret")
