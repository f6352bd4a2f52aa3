"""The wallet counts only what is the learner's and valid, from issuers this portal knows: whom an
import was issued to, one copy of each credential, and totals, filters and pathways that agree
and say what they count."""

import html
import json
import re
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import reverse

from learners import selectors
from learners import services as learner_services
from learners.exceptions import AlreadyInWallet, WalletError
from learners.models import ImportedCredential
from tests.factories import (
    PARTNER,
    InstitutionFactory,
    MicroCredentialFactory,
    UserFactory,
    a_pathway,
    imported_document,
)
from tests.learners.elsewhere import issuer_did, known_partner, signed_elsewhere
from tests.learners.holding import (
    ImportedCredentialFactory,
    everything_in_a_wallet,
    held_credential,
    uni_x_is_a_partner,
)

pytestmark = pytest.mark.django_db

IMPORT = reverse("learners:import")
WALLET = reverse("learners:wallet")


def imported_page(client, imported: ImportedCredential) -> str:
    url = reverse("learners:imported", kwargs={"public_id": imported.public_id})
    return html.unescape(client.get(url).text)


# Whose credential it is --------------------------------------------------------------------


def test_a_credential_issued_to_another_persons_address_is_refused_with_what_to_do(logged_in):
    lea = UserFactory(email="lea@example.eu", name="Lea Learner")
    noras = signed_elsewhere(holder_email="nora@example.eu", holder_name="Nora Nieuw")
    response = logged_in(lea).post(IMPORT, {"document": noras})
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert "This credential was issued to another person" in text
    assert "add and verify the address it was sent to" in text
    # No verdict at all: the verification component (and its trust level) is not shown.
    assert "data-trust=" not in text
    assert 'class="verdict' not in text
    assert not ImportedCredential.objects.exists()


def test_an_unverified_address_of_the_learner_does_not_make_it_theirs():
    lea = UserFactory(email="lea@example.eu")
    EmailAddress.objects.create(user=lea, email="lea@old.example", verified=False)
    with pytest.raises(WalletError, match="another person"):
        learner_services.credential_import(
            user=lea, raw=signed_elsewhere(holder_email="lea@old.example")
        )


def test_a_hash_of_any_verified_address_makes_it_the_learners(logged_in):
    lea = UserFactory(email="lea@example.eu")
    EmailAddress.objects.create(user=lea, email="Lea@Old.example", verified=True)
    imported = learner_services.credential_import(
        user=lea, raw=signed_elsewhere(holder_email=" lea@old.example ")
    )
    assert imported.holder == ImportedCredential.Holder.ADDRESS
    assert "Issued to one of your verified e-mail addresses." in imported_page(
        logged_in(lea), imported
    )


def test_without_an_address_the_learners_name_makes_it_theirs_matched_by_name(logged_in):
    lea = UserFactory(email="lea@example.eu", name="Léa Van der Berg")
    key = Ed25519PrivateKey.generate()
    known_partner(key)
    imported = learner_services.credential_import(
        user=lea, raw=signed_elsewhere(key=key, holder_name="LEA  van der berg")
    )
    assert (imported.holder, imported.holder_name) == ("name", "LEA  van der berg")
    page = imported_page(logged_in(lea), imported)
    assert "Matched by name" in page
    assert "Counted in your totals and pathways" in page
    wallet = selectors.wallet(user=lea).view()
    assert wallet.valid_ects == 3


@pytest.mark.parametrize("holder_name", [None, "Nora Nieuw"])
def test_a_credential_that_does_not_show_it_is_the_learners_is_kept_apart_and_not_counted(
    logged_in, holder_name
):
    lea = UserFactory(email="lea@example.eu", name="Lea Learner")
    key = Ed25519PrivateKey.generate()
    known_partner(key)
    response = logged_in(lea).post(
        IMPORT, {"document": signed_elsewhere(key=key, holder_name=holder_name)}, follow=True
    )
    imported = ImportedCredential.objects.get(owner=lea)
    assert imported.holder == ImportedCredential.Holder.UNKNOWN
    text = html.unescape(response.text)
    assert "it is not counted in your totals: not shown to be issued to you." in text
    assert "Not counted in your totals or pathways" in text
    assert "Holder not shown" in text
    wallet = html.unescape(logged_in(lea).get(WALLET).text)
    assert "<strong>0 ECTS</strong> in valid credentials from institutions this portal knows" in (
        wallet
    )
    assert "Not shown to be issued to you: 1 credential" in wallet


def test_checking_again_sees_an_address_removed_since_as_another_persons(logged_in):
    lea = UserFactory(email="lea@example.eu")
    second = EmailAddress.objects.create(user=lea, email="lea@old.example", verified=True)
    key = Ed25519PrivateKey.generate()
    known_partner(key)
    imported = learner_services.credential_import(
        user=lea, raw=signed_elsewhere(key=key, holder_email="lea@old.example")
    )
    assert selectors.wallet(user=lea).view().valid_ects == 3
    second.delete()
    learner_services.imported_credential_reverify(user=lea, imported=imported)
    imported.refresh_from_db()
    assert imported.holder == ImportedCredential.Holder.OTHER
    assert selectors.wallet(user=lea).view().valid_ects == 0
    wallet = html.unescape(logged_in(lea).get(WALLET).text)
    assert "Issued to another person: 1 credential" in wallet
    assert "Not counted: issued to another person" in wallet


def test_verifying_an_address_makes_the_imports_issued_to_it_the_learners():
    lea = UserFactory(email="lea@example.eu")
    imported = ImportedCredentialFactory(
        owner=lea,
        holder=ImportedCredential.Holder.OTHER,
        document=signed_elsewhere(holder_email="lea@old.example"),
    )
    address = EmailAddress.objects.create(user=lea, email="lea@old.example", verified=True)
    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)
    imported.refresh_from_db()
    assert imported.holder == ImportedCredential.Holder.ADDRESS
    assert learner_services.imported_holders_match(user=lea) == 0  # idempotent


# One copy of each credential -----------------------------------------------------------------


def test_the_same_credential_id_in_other_bytes_is_already_in_the_wallet_with_a_link(logged_in):
    lea = UserFactory(email="lea@example.eu")
    document = signed_elsewhere(holder_email=lea.email)
    first = learner_services.credential_import(user=lea, raw=document)
    reformatted = json.dumps(json.loads(document))  # the same credential, other whitespace
    assert reformatted != document
    response = logged_in(lea).post(IMPORT, {"document": reformatted})
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert "This credential is already in your wallet, imported on" in text
    assert f'<a href="{first.get_absolute_url()}">Open the copy in your wallet</a>' in text
    assert ImportedCredential.objects.count() == 1
    with pytest.raises(AlreadyInWallet) as refused:
        learner_services.credential_import(user=lea, raw=reformatted)
    assert refused.value.url == first.get_absolute_url()


def test_without_an_id_the_same_bytes_are_already_in_the_wallet_and_other_bytes_are_not():
    lea = UserFactory(email="lea@example.eu")
    without_id = json.loads(signed_elsewhere(holder_email=lea.email))
    del without_id["id"]  # the signature no longer holds; the bytes are what is compared
    document = json.dumps(without_id)
    first = learner_services.credential_import(user=lea, raw=document)
    assert first.credential_id == ""
    with pytest.raises(AlreadyInWallet):
        learner_services.credential_import(user=lea, raw=document)
    learner_services.credential_import(user=lea, raw=json.dumps(without_id, indent=1))
    assert ImportedCredential.objects.count() == 2


def test_a_credential_issued_here_and_held_is_already_in_the_wallet_with_its_page(logged_in):
    lea = UserFactory(email="ana@example.eu")
    credential = held_credential(lea)
    response = logged_in(lea).post(IMPORT, {"document": credential.document})
    text = html.unescape(response.text)
    assert "already in your wallet: it was issued to you here" in text
    page = reverse("learners:credential", kwargs={"public_id": credential.public_id})
    assert f'<a href="{page}">Open the copy in your wallet</a>' in text
    assert not ImportedCredential.objects.exists()


# Totals, filters and pathways agree ----------------------------------------------------------


@pytest.fixture
def lea_with_everything():
    lea = UserFactory(email="lea@example.eu", name="Lea Learner")
    everything_in_a_wallet(lea)
    return lea


def test_the_total_counts_only_valid_credentials_of_the_learner_from_known_issuers(
    logged_in, lea_with_everything
):
    page = html.unescape(logged_in(lea_with_everything).get(WALLET).text)
    assert "5 credentials" in page
    assert "<strong>8 ECTS</strong> in valid credentials from institutions this portal knows" in (
        page
    )
    not_counted = re.search(r'<section class="wallet-not-counted".*?</section>', page, re.DOTALL)
    assert not_counted is not None
    lines = [
        " ".join(line.split()) for line in re.findall(r"<li>(.*?)</li>", not_counted[0], re.DOTALL)
    ]
    assert lines == [
        "Revoked, suspended, expired or not verified: 1 credential",
        "Issued to another person: 1 credential",
        "From an issuer this portal does not know: 1 credential",
    ]


def test_a_filtered_view_counts_by_the_same_rule(lea_with_everything):
    wallet = selectors.wallet(user=lea_with_everything)
    assert wallet.view().valid_ects == 8
    assert wallet.view().counted == 2
    assert wallet.view(institution="did:key:z6MkselfDeclared").valid_ects == 0
    assert wallet.view(status="valid").valid_ects == 8


def test_an_unknown_issuers_name_is_shown_as_self_declared(logged_in, lea_with_everything):
    page = html.unescape(logged_in(lea_with_everything).get(WALLET).text)
    card = re.search(
        r'<li class="card wallet-card[^"]*">((?:(?!</li>).)*?From a self-declared university.*?)</li>',
        page,
        re.DOTALL,
    )
    assert card is not None
    assert "calls itself University of Aldermoor" in card[1]
    # Not the green "Valid" of a credential the portal vouches for.
    assert "Signature valid, issuer not confirmed" in card[1]
    assert "wallet-status-valid" not in card[1]
    assert "Not counted: from an issuer this portal does not know" in card[1]


def test_an_imported_credential_page_says_its_issuer_is_self_declared(logged_in):
    lea = UserFactory(email="lea@example.eu")
    imported = learner_services.credential_import(
        user=lea, raw=signed_elsewhere(holder_email=lea.email)
    )
    page = imported_page(logged_in(lea), imported)
    assert "The issuer calls itself Université d'Exemple; this portal cannot confirm it." in page
    assert "calls itself Université d'Exemple" in page
    assert "Not counted: from an issuer this portal does not know." in page
    # A did:key issuer can call itself anything: never the "Verified" of a known issuer.
    assert "Signature valid, issuer not confirmed" in page
    assert "Verified: issued by" not in page


def test_a_known_partners_import_carries_the_partners_name(logged_in):
    lea = UserFactory(email="lea@example.eu")
    key = Ed25519PrivateKey.generate()
    known_partner(key, name="Universidad de Ejemplo")
    imported = learner_services.credential_import(
        user=lea, raw=signed_elsewhere(key=key, holder_email=lea.email)
    )
    page = imported_page(logged_in(lea), imported)
    assert "Issued by Universidad de Ejemplo, an institution this portal knows." in page
    [card] = selectors.wallet(user=lea).cards
    assert (card.institution_key, card.institution_name, card.counted) == (
        issuer_did(key),
        "Universidad de Ejemplo",
        True,
    )


def test_the_institution_filter_has_one_entry_per_issuer_and_marks_self_declared_names(
    logged_in,
):
    lea = UserFactory(email="lea@example.eu")
    aldermoor = InstitutionFactory(name="University of Aldermoor")
    held_credential(lea, MicroCredentialFactory(institution=aldermoor))
    ImportedCredentialFactory(
        owner=lea, issuer_id="did:key:z6MkselfDeclared", issuer_name="University of Aldermoor"
    )
    uni_x_is_a_partner(name="Universidad de Ejemplo")
    ImportedCredentialFactory(owner=lea, issuer_name="Universidad de Ejemplo")
    ImportedCredentialFactory(owner=lea, issuer_name="Uni X (as it calls itself)")
    page = html.unescape(logged_in(lea).get(WALLET).text)
    select = re.search(r'<select name="institution".*?</select>', page, re.DOTALL)
    assert select is not None
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select[0]) == [
        "All institutions",
        "Universidad de Ejemplo",
        "University of Aldermoor",
        "University of Aldermoor (self-declared)",
    ]


def test_pathways_count_an_import_only_when_the_total_does(logged_in):
    _pathway, parts = a_pathway()
    lea = UserFactory(email="lea@example.eu")
    for part in parts:
        held_credential(lea, part)
    partner_part = ImportedCredentialFactory(
        owner=lea,
        document=imported_document(PARTNER),
        issuer_id="did:key:z6MkselfDeclared",
        ects=Decimal("3"),
    )
    client = logged_in(lea)
    assert "have 2 of 3" in client.get(WALLET).text  # an issuer this portal does not know
    uni_x_is_a_partner()
    ImportedCredential.objects.filter(pk=partner_part.pk).update(issuer_id="did:web:uni-x.example")
    assert "have 3 of 3" in client.get(WALLET).text
    ImportedCredential.objects.filter(pk=partner_part.pk).update(
        holder=ImportedCredential.Holder.OTHER
    )
    assert "have 2 of 3" in client.get(WALLET).text


def test_an_issued_credential_is_counted_and_named_as_the_portal_knows_it():
    lea = UserFactory(email="ana@example.eu")
    credential = held_credential(lea)
    [card] = selectors.wallet(user=lea).cards
    assert (card.institution_name, card.issuer_confirmed, card.counted) == (
        credential.institution.name,
        True,
        True,
    )


def test_two_issuers_calling_themselves_the_same_are_told_apart_by_their_identifiers():
    lea = UserFactory(email="lea@example.eu")
    for did in ("did:key:z6MkFirstAldermoor", "did:key:z6MkOtherAldermoor"):
        ImportedCredentialFactory(owner=lea, issuer_id=did, issuer_name="University of Aldermoor")
    assert sorted(selectors.wallet(user=lea).institutions) == [
        ("did:key:z6MkFirstAldermoor", "University of Aldermoor (self-declared) · rstAldermoor"),
        ("did:key:z6MkOtherAldermoor", "University of Aldermoor (self-declared) · herAldermoor"),
    ]


def test_removing_an_address_makes_the_imports_issued_to_it_another_persons(logged_in):
    lea = UserFactory(email="lea@example.eu")
    second = EmailAddress.objects.create(user=lea, email="lea@old.example", verified=True)
    imported = learner_services.credential_import(
        user=lea, raw=signed_elsewhere(holder_email="lea@old.example")
    )
    assert imported.holder == ImportedCredential.Holder.ADDRESS
    # As allauth's e-mail page does.
    response = logged_in(lea).post(
        reverse("account_email"), {"action_remove": "", "email": "lea@old.example"}
    )
    assert response.status_code == 302
    assert not EmailAddress.objects.filter(pk=second.pk).exists()
    imported.refresh_from_db()
    assert imported.holder == ImportedCredential.Holder.OTHER
