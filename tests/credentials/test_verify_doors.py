"""Every door that takes a credential (/verify by paste, upload and link, POST /api/v1/verify,
the VC-API, the verify_credential command, the wallet's import) says what was verified and how
far to trust it, takes the same formats, and never shows a library's or Python's own words."""

import copy
import io
import json
import re
import socket
from contextlib import redirect_stdout
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from credentials.issuing import services, verifier
from credentials.standards import badge_images
from institutions import selectors as institution_selectors
from tests.factories import MicroCredentialFactory, UserFactory, issue
from tests.learners.elsewhere import EDC_DOCUMENT, ob3_credential, signed_elsewhere, tampered

pytestmark = pytest.mark.django_db

# What people must never read: the json module's, the socket's and pyld's own words.
RAW_WORDS = (
    "Expecting value",
    "line 1 column 1 (char 0)",
    "Errno",
    "ConnectionRefusedError",
    "Invalid JSON-LD syntax",
    "jsonld.SyntaxError",
    "KeyError",
    "'@vocab'",
    "Traceback",
    "not UTF-8",
)


def nora_credential(**overrides):
    micro = MicroCredentialFactory(
        title="Sustainable Urban Mobility Planning",
        ects=4,
        institution__name="University of Aldermoor",
    )
    fields = {"holder_name": "Nora Nieuw", "awarded_date": date(2026, 11, 20), **overrides}
    return issue(micro, **fields)


def api(client, body: bytes | str, content_type: str = "application/json") -> dict:
    response = client.post("/api/v1/verify", body, content_type=content_type)
    assert response.status_code == 200
    return response.json()


def page_text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_bad_json_ld(context_entry: dict) -> str:
    """A signed credential of another issuer with a context entry pyld chokes on, the proof kept."""
    document = json.loads(signed_elsewhere())
    document["@context"] = [*document["@context"], context_entry]
    return json.dumps(document)


# ---------------------------------------------------------------- 1. lead with the content


def test_the_api_answer_carries_what_the_credential_says_and_that_the_issuer_is_confirmed(client):
    credential = nora_credential(grade="9/10")
    result = api(client, credential.document)
    assert result["verified"] is True
    assert result["trust"] == "known_issuer"
    assert result["summary"] == {
        "format": "vc",
        "holder": "Nora Nieuw",
        "title": "Sustainable Urban Mobility Planning",
        "issuer": {
            "id": credential.institution.did,
            "name": "University of Aldermoor",
            "declared_name": "University of Aldermoor",
            "confirmed": True,
        },
        "awarded": "2026-11-20",
        "ects": 4,
        "eqf": 6,
        "grade": "9/10",
    }
    key = institution_selectors.active_signing_key(institution=credential.institution)
    assert result["key_fingerprint"] == institution_selectors.key_fingerprint(
        key.public_key_multibase
    )
    assert all(check["code"] and check["outcome"] == "passed" for check in result["checks"])


def test_the_verify_page_leads_with_one_sentence_then_the_verdict_then_the_folded_checks(client):
    credential = nora_credential()
    text = page_text(client.post("/verify", {"document": credential.document}))
    sentence = (
        "Nora Nieuw was awarded <cite>Sustainable Urban Mobility Planning</cite> (4 ECTS, EQF 6) "
        "by University of Aldermoor on 20 November 2026."
    )
    assert sentence in text
    headline = "Verified: issued by University of Aldermoor"
    assert headline in text
    assert "Signing key fingerprint (SHA-256):" in text
    assert text.index(sentence) < text.index(headline) < text.index("<details")
    assert text.index("<details") < text.index("<strong>Signature</strong>")
    assert "None" not in text[text.index("verdict-sentence") : text.index("</details>")]


def test_a_sentence_leaves_out_what_the_credential_does_not_say(client):
    document = json.loads(signed_elsewhere())
    result = api(client, json.dumps(document))
    assert result["summary"]["holder"] is None and result["summary"]["grade"] is None
    text = page_text(client.post("/verify", {"document": json.dumps(document)}))
    assert (
        "<cite>Marine Biology Field Methods</cite> (3 ECTS, EQF 7), awarded by an issuer that "
        "calls itself Université d&#x27;Exemple on 1 January 2025."
    ) in text
    assert "None" not in text


# ---------------------------------------------------------------- 2. three trust cases


def test_a_self_signed_credential_in_a_real_universitys_name_is_never_called_verified(client):
    # A did:key of anyone's making that calls itself a university this node hosts.
    nora_credential()
    impostor = _self_signed_as("University of Aldermoor")
    result = api(client, impostor)
    assert result["verified"] is True
    assert result["trust"] == "unknown_issuer"
    assert result["summary"]["issuer"]["confirmed"] is False
    assert result["summary"]["issuer"]["declared_name"] == "University of Aldermoor"
    # The key is the issuer's own: its fingerprint can be compared by hand, never on the page.
    assert len(result["key_fingerprint"]) == 64
    text = page_text(client.post("/verify", {"document": impostor}))
    assert "Signature valid, issuer not confirmed" in text
    assert "The issuer calls itself University of Aldermoor; this portal cannot confirm it." in text
    assert "Verified:" not in text
    assert "verdict-unconfirmed" in text and "verdict-ok" not in text


def _self_signed_as(name: str) -> str:
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from credentials.standards import didkey, signing

    key = Ed25519PrivateKey.generate()
    document = ob3_credential(didkey.did_key_for(key.public_key()))
    document["issuer"]["name"] = name
    signed = signing.sign_document(
        document,
        private_key=key,
        verification_method=didkey.verification_method_id_for(key.public_key()),
        created=signing.format_created(datetime(2025, 1, 1, tzinfo=UTC)),
    )
    return json.dumps(signed)


def test_a_tampered_credential_names_the_failure_and_ticks_nothing_it_cannot_vouch_for(client):
    credential = nora_credential()
    document = json.loads(credential.document)
    document["credentialSubject"]["identifier"][1]["identityHash"] = "Lea Leugen"
    result = api(client, json.dumps(document))
    assert result["trust"] == "invalid"
    assert result["error_code"] == "proof.bad_signature"
    outcomes = {check["check"]: check["outcome"] for check in result["checks"]}
    assert outcomes["validity"] == outcomes["issuer_known"] == "not_checked"
    assert outcomes["status"] == outcomes["issuer_key"] == "not_checked"
    assert result["summary"]["issuer"]["confirmed"] is False
    text = page_text(client.post("/verify", {"document": json.dumps(document)}))
    assert "Not valid" in text
    assert "The signature does not match" in text
    assert "What the document claims (not confirmed):" in text
    assert "Verified:" not in text
    ticked = re.findall(r'<li class="check-ok">.*?<strong>(.*?)</strong>', text, re.S)
    assert "Validity dates" not in ticked and "Known issuer" not in ticked
    assert ticked == ["Readable document", "Credential format", "Vocabularies"]


def test_a_revoked_credential_is_not_valid_and_says_so_first(client):
    credential = nora_credential()
    services.credential_revoke(credential=credential, actor=None)
    result = api(client, credential.document)
    assert (result["trust"], result["error_code"]) == ("invalid", "status.revoked")


# ---------------------------------------------------------------- 3. the same formats everywhere


def baked(client, credential, extension: str) -> bytes:
    response = client.get(f"/credentials/{credential.public_id}/badge.{extension}")
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("extension", ["png", "svg"])
def test_the_badge_images_the_credential_page_offers_verify_at_every_door(
    client, extension, tmp_path, logged_in
):
    credential = nora_credential()
    image = baked(client, credential, extension)
    upload = SimpleUploadedFile(f"badge.{extension}", image)
    text = page_text(client.post("/verify", {"upload": upload}))
    assert "Verified: issued by University of Aldermoor" in text
    assert f"Read from a{'n' if extension == 'svg' else ''} {extension.upper()} badge image" in text

    result = api(client, image, content_type=f"image/{'png' if extension == 'png' else 'svg+xml'}")
    assert (result["verified"], result["trust"], result["source"]) == (
        True,
        "known_issuer",
        extension,
    )

    link = f"http://127.0.0.1:8000/credentials/{credential.public_id}/badge.{extension}"
    assert "Verified: issued by" in page_text(client.post("/verify", {"url": link}))

    path = tmp_path / f"badge.{extension}"
    path.write_bytes(image)
    output = io.StringIO()
    with redirect_stdout(output):
        call_command("verify_credential", str(path), stdout=output)
    assert json.loads(output.getvalue())["trust"] == "known_issuer"

    if extension == "svg":
        pasted = page_text(client.post("/verify", {"document": image.decode()}))
        assert "Verified: issued by University of Aldermoor" in pasted


def test_an_edc_is_read_at_every_door_and_said_to_be_not_checkable_here(client, tmp_path):
    text = json.dumps(EDC_DOCUMENT)
    result = api(client, text)
    assert (result["verified"], result["trust"]) == (False, "not_checkable")
    assert result["error_code"] == "data_model.edc"
    assert result["summary"]["title"] == "Applied Spanish B2"
    assert (result["summary"]["ects"], result["summary"]["eqf"]) == (4, 5)
    page = page_text(client.post("/verify", {"document": text}))
    assert "Not checked: a European Digital Credential" in page
    assert "<cite>Applied Spanish B2</cite> (4 ECTS, EQF 5)" in page
    path = tmp_path / "edc.json"
    path.write_text(text)
    with pytest.raises(SystemExit):
        call_command("verify_credential", str(path), stdout=io.StringIO())


def test_a_link_to_this_nodes_edc_rendering_is_read_too(client):
    credential = nora_credential()
    link = f"http://127.0.0.1:8000/credentials/{credential.public_id}/edc.json"
    assert "Not checked: a European Digital Credential" in page_text(
        client.post("/verify", {"url": link})
    )


def test_an_image_without_a_credential_is_refused_in_plain_words(client):
    plain_png = badge_images.PNG_SIGNATURE + b"\x00" * 20
    result = api(client, plain_png, content_type="image/png")
    assert result["error_code"] == "json.image_without_credential"


# ---------------------------------------------------------------- 4. no library's own words


def bad_inputs() -> dict[str, bytes]:
    return {
        "empty": b"",
        "not json": b"Expecting nothing",
        "not utf-8": b"\xff\xfe{}",
        "keyerror @vocab": with_bad_json_ld({"@vocab": None}).encode(),
        "pyld syntax error": with_bad_json_ld({"@propagate": "x"}).encode(),
        "pyld relative iri": with_bad_json_ld(
            {"t": {"@id": "http://example.org/t", "@context": {"@propagate": 5}}}
        ).encode(),
    }


def unreachable_issuer() -> bytes:
    """A credential whose did:web issuer lives on a port nobody listens on."""
    did = f"did:web:127.0.0.1%3A{closed_port()}"
    document = json.loads(signed_elsewhere())
    document["issuer"]["id"] = did
    proof = copy.deepcopy(document["proof"])
    proof = proof[0] if isinstance(proof, list) else proof
    proof["verificationMethod"] = did + "#key-1"
    document["proof"] = proof
    return json.dumps(document).encode()


def assert_plain(text: str) -> None:
    for words in RAW_WORDS:
        assert words not in text, words


@pytest.mark.parametrize("name", [*bad_inputs(), "unreachable issuer"])
def test_no_door_shows_a_librarys_own_words_or_fails_with_a_500(
    name, client, tmp_path, monkeypatch, settings, logged_in
):
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    body = unreachable_issuer() if name == "unreachable issuer" else bad_inputs()[name]

    result = api(client, body)
    assert result["verified"] is False and result["error_code"]
    assert_plain(json.dumps(result, ensure_ascii=False))

    if body:
        assert_plain(page_text(client.post("/verify", {"upload": SimpleUploadedFile("c", body)})))
    try:
        pasted = body.decode()
    except UnicodeDecodeError:
        pasted = ""
    if pasted:
        assert_plain(page_text(client.post("/verify", {"document": pasted})))

    monkeypatch.setattr(verifier, "fetch_bytes_https", lambda url, **kwargs: body)
    assert_plain(page_text(client.post("/verify", {"url": "https://elsewhere.example/c.json"})))
    monkeypatch.undo()

    path = tmp_path / "credential"
    path.write_bytes(body)
    output = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("verify_credential", str(path), stdout=output)
    assert_plain(output.getvalue())

    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict):
        response = client.post(
            "/vc-api/credentials/verify",
            {"verifiableCredential": document},
            content_type="application/json",
        )
        assert response.status_code < 500
        assert_plain(response.content.decode())

    learner = UserFactory()
    imported = logged_in(learner).post(
        reverse("learners:import"),
        {"upload": SimpleUploadedFile("c.json", body or b" ")},
        follow=True,
    )
    assert imported.status_code < 500
    assert_plain(imported.content.decode())


def test_a_link_to_a_server_that_refuses_the_connection_says_so_plainly(client, settings):
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    text = page_text(
        client.post("/verify", {"url": f"http://127.0.0.1:{closed_port()}/credential.json"})
    )
    assert "The link could not be read: the server could not be reached." in text
    assert_plain(text)
    result = verifier.verify_url(f"http://127.0.0.1:{closed_port()}/credential.json")
    assert result["error_code"] == "json.link_unreadable"


def test_the_tampered_credentials_of_other_issuers_fail_with_a_stable_code(client):
    result = api(client, tampered(signed_elsewhere()))
    assert result["error_code"] == "proof.bad_signature"


# ---------------------------------------------------------------- 5. translated lines


@pytest.mark.parametrize(
    ("language", "headline", "label", "line"),
    [
        (
            "fr",
            "Vérifiée\u00a0: délivrée par University of Aldermoor",
            "Signature",
            "Ni révoquée ni suspendue",
        ),
        (
            "de",
            "Verifiziert: ausgestellt von University of Aldermoor",
            "Signatur",
            "Weder widerrufen noch ausgesetzt",
        ),
    ],
)
def test_the_verify_page_speaks_the_readers_language(client, language, headline, label, line):
    credential = nora_credential()
    text = page_text(
        client.post(
            "/verify", {"document": credential.document}, headers={"Accept-Language": language}
        )
    )
    assert headline in text
    assert f"<strong>{label}</strong>" in text
    assert line in text
    assert "Neither revoked nor suspended" not in text


def test_the_award_day_is_the_day_in_brussels_and_an_edcs_holder_is_named():
    from credentials.standards import credential_summary

    late = ob3_credential("did:key:z6Mk", awardedDate="2026-12-06T23:30:00Z")
    late["credentialSubject"]["identifier"] = [
        {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": "Nora"}
    ]
    summary = credential_summary.summarise(late)
    assert summary.awarded_on == date(2026, 12, 7)
    assert (summary.holder_name, summary.eqf_number) == ("Nora", 7)
    edc: dict[str, Any] = copy.deepcopy(EDC_DOCUMENT)
    edc["credentialSubject"]["fullName"] = {"en": "Pablo Ejemplo"}
    assert credential_summary.summarise(edc).holder_name == "Pablo Ejemplo"


def test_stored_verification_results_carry_the_trust_level(logged_in):
    from learners.models import ImportedCredential

    learner = UserFactory()
    logged_in(learner).post(reverse("learners:import"), {"document": signed_elsewhere()})
    stored = ImportedCredential.objects.get(owner=learner).verification
    assert stored is not None
    assert stored["trust"] == "unknown_issuer"
    assert stored["summary"]["issuer"]["confirmed"] is False
