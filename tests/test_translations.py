"""The French and German catalogues: pages speak the visitor's language, the switcher remembers
it, dates follow it, and the committed catalogues are complete and compiled."""

import html
import json
import re
from collections.abc import Iterator
from datetime import date
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from credentials.issuing import certificate
from credentials.staff import forms
from credentials.standards import vocabularies
from exchange.models import Partner, PartnerOffer, PartnerStatus
from tests.credentials.certificates import sample as certificate_sample
from tests.factories import InstitutionFactory, MicroCredentialFactory, UserFactory, issue
from tests.learners.holding import held_credential

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def english_after_each_test() -> Iterator[None]:
    """A request with Accept-Language leaves its language active in this thread; the tests
    after this one render e-mails and pages in English again."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def page_text(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def load_checker() -> ModuleType:
    """bin/check-translations, imported as a module (it has no .py suffix)."""
    path = str(ROOT / "bin" / "check-translations")
    loader = SourceFileLoader("check_translations", path)
    spec = spec_from_loader("check_translations", loader)
    assert spec is not None
    module = module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("language", "heading", "lead"),
    [
        (
            "fr",
            "Des micro-certifications auxquelles les universités font confiance",
            "MESHE permet aux universités européennes de décrire, délivrer et échanger",
        ),
        (
            "de",
            "Microcredentials, denen Hochschulen vertrauen und die den Lernenden gehören",
            "Mit MESHE beschreiben europäische Hochschulen Microcredentials, stellen sie",
        ),
    ],
)
def test_the_home_page_speaks_the_language_the_browser_asks_for(
    client: Client, language: str, heading: str, lead: str
):
    text = page_text(client, "/", **{"Accept-Language": f"{language},en;q=0.5"})
    assert f'<html lang="{language}">' in text
    assert heading in text
    assert lead in text


def test_the_catalogue_follows_the_language_cookie(client: Client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    text = page_text(client, "/catalogue/", **{"Accept-Language": "fr"})
    assert "Katalog der Microcredentials" in text
    assert "Kein Angebot passt. Versuchen Sie es mit weniger Filtern." in text


def test_a_guide_page_reads_in_french(client: Client):
    text = page_text(client, "/guide/what-is-a-micro-credential/", **{"Accept-Language": "fr"})
    assert "<h1>Qu'est-ce qu'une micro-certification\u00a0?</h1>" in text
    assert (
        "En 2022, l'Union européenne a défini ce qu'une micro-certification doit indiquer" in text
    )
    # The guide's menu comes from Python (lazy strings), not the template.
    assert "Cumuler en vue d'une certification" in text


def test_a_guide_page_reads_in_german(client: Client):
    text = page_text(client, "/guide/recognition/", **{"Accept-Language": "de"})
    assert "<h1>Ein Microcredential von einer anderen Hochschule anerkennen lassen</h1>" in text


def test_the_language_switcher_remembers_the_choice_in_a_lasting_cookie(client: Client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/guide/faq/"})
    assert response.status_code == 302
    assert response["Location"] == "/guide/faq/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fr"
    assert int(cookie["max-age"]) >= 365 * 24 * 60 * 60
    # No Accept-Language: the next page is French because of the cookie alone.
    text = page_text(client, "/guide/faq/")
    assert "<h1>Questions et réponses</h1>" in text


def test_the_language_switcher_refuses_a_language_the_portal_does_not_offer(client: Client):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.django_db
def test_dates_on_a_shared_credential_are_localised():
    credential = issue(MicroCredentialFactory(), awarded_date=date(2026, 11, 20))
    client = Client()
    french = page_text(client, credential.get_absolute_url(), **{"Accept-Language": "fr"})
    german = page_text(client, credential.get_absolute_url(), **{"Accept-Language": "de"})
    english = page_text(client, credential.get_absolute_url(), **{"Accept-Language": "en"})
    assert "Délivrée à Ana Kowalska le 20 novembre 2026." in french
    assert "Vergeben an Ana Kowalska am 20. November 2026." in german
    assert "Awarded to Ana Kowalska on 20 November 2026." in english


def test_placeholders_survive_translation_with_plural_forms():
    with translation.override("fr"):
        assert (
            translation.ngettext(
                "%(count)s credential changed.", "%(count)s credentials changed.", 3
            )
            % {"count": 3}
            == "3 attestations modifiées."
        )
    with translation.override("de"):
        assert (
            translation.ngettext(
                "%(count)s credential changed.", "%(count)s credentials changed.", 1
            )
            % {"count": 1}
            == "1 Nachweis geändert."
        )


@pytest.mark.parametrize("language", ["fr", "de"])
def test_the_committed_catalogue_is_complete_consistent_and_compiled(language: str):
    checker = load_checker()
    folder = ROOT / "locale" / language / "LC_MESSAGES"
    entries = checker.live(checker.parse_po(folder / "django.po"))
    forms = checker.plural_forms(folder / "django.po")
    assert len(entries) > 1000
    problems = [
        (entry.label, problem)
        for entry in entries.values()
        for problem in (["fuzzy"] if "fuzzy" in entry.flags else [])
        + (["untranslated"] if not all(entry.msgstr.values()) else [])
        + [f"plural form {index} missing" for index in checker.missing_plural_forms(entry, forms)]
        + checker.placeholder_problems(entry)
    ]
    assert problems == []
    assert checker.mo_problems(entries, folder / "django.mo") == []


def test_the_checker_catches_a_plural_entry_with_fewer_forms_than_the_language_has():
    checker = load_checker()
    two = checker.Entry(
        msgid="%(count)s day", msgid_plural="%(count)s days", msgstr={0: "un", 1: "deux"}
    )
    assert checker.missing_plural_forms(two, 3) == [2]
    assert checker.missing_plural_forms(two, 2) == []
    assert checker.plural_forms(ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po") == 3


def test_the_checker_catches_a_translation_that_drops_or_renames_a_placeholder():
    checker = load_checker()
    dropped = checker.Entry(msgid="Saved %(title)s.", msgstr={0: "Enregistré."})
    renamed = checker.Entry(msgid="Saved %(title)s.", msgstr={0: "%(titre)s enregistré."})
    tag_lost = checker.Entry(
        msgid="<strong>It is current.</strong> More.", msgstr={0: "Elle est actuelle. Plus."}
    )
    plural = checker.Entry(
        msgid="%(counter)s credential",
        msgid_plural="%(counter)s credentials",
        msgstr={0: "une attestation", 1: "%(counter)s attestations", 2: "%(n)s attestations"},
    )
    fine = checker.Entry(msgid="Saved %(title)s.", msgstr={0: "« %(title)s » enregistré."})
    assert checker.placeholder_problems(dropped)
    assert checker.placeholder_problems(renamed)
    assert checker.placeholder_problems(tag_lost)
    assert checker.placeholder_problems(plural) == ["msgstr[2] has unknown placeholders ['%(n)s']"]
    assert checker.placeholder_problems(fine) == []


# Staff-entered content and vocabularies in the visitor's language -----------------------------

FRENCH = {"Accept-Language": "fr"}


def bilingual_and_english_only() -> tuple:
    """Two published offers: one with a French title and description, one in English only."""
    bilingual = MicroCredentialFactory(
        title="Circular Economy Basics",
        title_translations={"fr": "Les bases de l'économie circulaire"},
        description="What a circular economy is and how to start one.",
        description_translations={"fr": "Ce qu'est l'économie circulaire et comment s'y mettre."},
    )
    english_only = MicroCredentialFactory(title="Data Literacy for Public Policy")
    return bilingual, english_only


@pytest.mark.django_db
def test_a_french_visitor_sees_french_titles_in_the_catalogue_where_staff_gave_one(
    client: Client,
):
    bilingual_and_english_only()
    french = page_text(client, "/catalogue/", **FRENCH)
    english = page_text(client, "/catalogue/", **{"Accept-Language": "en"})
    assert "Les bases de l'économie circulaire" in french
    assert "Circular Economy Basics" not in french
    assert "Data Literacy for Public Policy" in french
    assert "Circular Economy Basics" in english
    assert "Les bases de l'économie circulaire" not in english


@pytest.mark.django_db
def test_a_french_visitor_sees_the_french_title_and_description_on_an_offer_page(
    client: Client,
):
    bilingual, english_only = bilingual_and_english_only()
    text = page_text(client, reverse("credentials:offer", args=[bilingual.public_id]), **FRENCH)
    assert "<h1>Les bases de l'économie circulaire</h1>" in text
    assert "Ce qu'est l'économie circulaire et comment s'y mettre." in text
    other = page_text(client, reverse("credentials:offer", args=[english_only.public_id]), **FRENCH)
    assert "<h1>Data Literacy for Public Policy</h1>" in other


@pytest.mark.django_db
def test_a_french_learner_sees_the_french_title_on_the_wallet_card(client: Client):
    learner = UserFactory()
    bilingual, english_only = bilingual_and_english_only()
    held_credential(learner, bilingual)
    held_credential(learner, english_only)
    client.force_login(learner)
    text = page_text(client, reverse("learners:wallet"), **FRENCH)
    cards = re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', text)
    assert sorted(cards) == [
        "Data Literacy for Public Policy",
        "Les bases de l'économie circulaire",
    ]


@pytest.mark.django_db
def test_the_signed_credential_keeps_every_language_whatever_the_issuers_language():
    bilingual, _english_only = bilingual_and_english_only()
    with translation.override("fr"):
        credential = issue(bilingual)
    achievement = json.loads(credential.document)["credentialSubject"]["achievement"]
    assert achievement["name"] == "Circular Economy Basics"


@pytest.mark.django_db
def test_an_offer_page_names_the_eu_vocabulary_concepts_in_french(client: Client):
    offer = MicroCredentialFactory(
        isced_field="http://data.europa.eu/snb/isced-f/0613",
        institution=InstitutionFactory(country="NL"),
    )
    text = page_text(client, reverse("credentials:offer", args=[offer.public_id]), **FRENCH)
    assert "Niveau 6" in text  # EQF level 6
    assert "examen écrit" in text  # type of assessment
    assert "Mixte" in text  # form of participation (blended)
    assert "Évaluation institutionnelle" in text  # type of quality assurance
    assert "Pays-Bas" in text  # country of the issuer
    assert "Written examination" not in text and "written examination" not in text


@pytest.mark.parametrize(
    "scheme",
    [
        vocabularies.EQF,
        vocabularies.ISCED_F,
        vocabularies.ASSESSMENT,
        vocabularies.MODE,
        vocabularies.LEARNING_SETTING,
        vocabularies.SUPERVISION,
        vocabularies.ACCREDITATION,
        vocabularies.COUNTRY,
        vocabularies.LANGUAGE,
    ],
)
def test_every_concept_pages_show_has_a_french_and_a_german_label(scheme: str):
    unlabelled = [
        item.uri for item in vocabularies.concepts(scheme) if set(item.labels) != {"en", "fr", "de"}
    ]
    assert unlabelled == []


@pytest.mark.django_db
def test_the_catalogue_filters_list_vocabulary_labels_in_german(client: Client):
    text = page_text(client, "/catalogue/", **{"Accept-Language": "de"})
    assert "Informations- und Kommunikationstechnologien (IKT)" in text  # ISCED-F 06
    assert ">Niveau 7<" in text
    # Content languages are more than the interface's: the language filter lists all eight.
    assert '<option value="pl"' in text


@pytest.mark.django_db
def test_a_partner_offer_shows_the_name_its_achievement_gives_in_the_visitors_language(
    client: Client,
):
    partner = Partner.objects.create(
        institution=InstitutionFactory(),
        base_url="https://porto.example",
        did="did:web:porto.example:institutions:ipp",
        name="Polytechnic of Porto",
        country="PT",
        status=PartnerStatus.CONFIRMED,
    )
    offer = PartnerOffer.objects.create(
        partner=partner,
        remote_id="https://porto.example/catalogue/1/",
        document={
            "achievement": {
                "type": ["Achievement"],
                "name": {"en": "Machine Learning", "fr": "Apprentissage automatique"},
                "description": {
                    "en": "Models from data.",
                    "fr": "Des modèles à partir de données.",
                },
            },
            "summary": {"title": "Machine Learning", "language": "en"},
        },
        title="Machine Learning",
        language="en",
        modified_at=timezone.now(),
    )
    page = reverse("exchange:partner_offer_public", args=[offer.public_id])
    french = page_text(client, page, **FRENCH)
    assert "<h1>Apprentissage automatique</h1>" in french
    assert "Des modèles à partir de données." in french
    assert "Apprentissage automatique" in page_text(client, "/catalogue/", **FRENCH)
    assert "<h1>Machine Learning</h1>" in page_text(client, page, **{"Accept-Language": "de"})


def test_the_language_switcher_offers_exactly_the_languages_with_catalogues(client: Client):
    text = page_text(client, "/guide/faq/")
    switcher = re.search(r'<select id="site-language".*?</select>', text, re.DOTALL)
    assert switcher is not None
    assert re.findall(r'<option value="([^"]+)"', switcher.group()) == ["en", "fr", "de"]


def test_staff_write_titles_in_more_languages_than_the_interface_speaks():
    picker = str(forms.TranslationForm()["language"])
    offered = re.findall(r'<option value="([^"]*)"', picker)
    assert offered == ["", "en", "de", "fr", "es", "it", "nl", "pl", "pt"]
    assert [code for code, _name in settings.LANGUAGES] == ["en", "fr", "de"]


@pytest.mark.parametrize(
    ("language", "awarded", "issued"),
    [
        ("de", "20. November 2026", "23. November 2026"),
        ("fr", "20 novembre 2026", "23 novembre 2026"),
        ("en", "20 November 2026", "23 November 2026"),
    ],
)
def test_the_certificate_dates_follow_the_language_it_is_rendered_in(
    language: str, awarded: str, issued: str
):
    with translation.override(language):
        text = html.unescape(certificate.html(certificate_sample()))
    assert awarded in text
    assert issued in text


# What a read-through of the catalogues fixed, kept from coming back ----------------------------

NBSP = "\u00a0"
# (pattern, why) for each language; a msgstr matching one is wrong.
WRONG_IN = {
    "fr": [
        (r"\bà le\b", "à le → au"),
        (r"\bà les\b", "à les → aux"),
        (r"\bde le\b", "de le → du"),
        (r"\bde les\b", "de les → des"),
        (r"\b(la|le) [aeiouéèêAEIOUÉ]\w", "la/le before a vowel → l'"),
        (r" [:;?!]", "a non-breaking space before : ; ? !"),
        (r"« | »", "non-breaking spaces inside « »"),
    ],
    "de": [
        (r"\b(du|dich|dir|dein\w*)\b", "German says Sie, never du"),
        (r"\bentspricht (das|die) ", "entspricht takes the dative: entspricht dem Niveau"),
        (r"\bSeine Nachweise\b", "an institution's credentials are Ihre Nachweise"),
        (r"[Aa]bruf|abgerufen|abzurufen", "claiming is einlösen (Einlöselink)"),
        (r"Brieftasche", "the wallet is the Wallet"),
        (r"Partneruniversität", "a partner university is a Partnerhochschule"),
    ],
}
# "le" as a pronoun before a word ("enregistrez-le au format") is right.
PRONOUN_LE = re.compile(r"-(le|la) ")


def msgstrs(language: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) of every translated form in the committed catalogue, obsolete ones aside."""
    checker = load_checker()
    entries = checker.live(
        checker.parse_po(ROOT / "locale" / language / "LC_MESSAGES" / "django.po")
    )
    return [
        (entry.msgid, text) for entry in entries.values() for text in entry.msgstr.values() if text
    ]


@pytest.mark.parametrize("language", ["fr", "de"])
def test_the_catalogue_has_none_of_the_mistakes_a_read_through_fixed(language: str):
    found = []
    for msgid, text in msgstrs(language):
        for pattern, why in WRONG_IN[language]:
            probe = PRONOUN_LE.sub("-\\1_", text) if language == "fr" else text
            if re.search(pattern, probe):
                found.append(f"{why}: {msgid[:60]!r} → {text[:80]!r}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("fr", "Le niveau 6 correspond à le niveau d'une licence."),
        ("fr", "Un lien de partage : il cesse de fonctionner."),
        ("de", "Melde dich an."),
        ("de", "Niveau 6 entspricht das Niveau eines Bachelorabschlusses."),
        ("de", "Seine Nachweise von Hand prüfen"),
        ("de", "Der Nachweis wurde abgerufen."),
    ],
)
def test_the_read_through_patterns_catch_what_was_seen_wrong(language: str, text: str):
    assert any(re.search(pattern, text) for pattern, _why in WRONG_IN[language])


@pytest.mark.parametrize(
    ("level", "french", "german"),
    [
        ("6", "Le niveau 6 correspond au niveau d'une licence", "Niveau 6 entspricht dem Niveau"),
        ("1", "Le niveau 1 correspond à des connaissances", "Niveau 1 entspricht grundlegendem"),
    ],
)
def test_the_eqf_level_reads_as_one_grammatical_sentence(level: str, french: str, german: str):
    from credentials.catalogue.explanations import eqf_explanation

    uri = f"http://data.europa.eu/snb/eqf/{level}"
    with translation.override("fr"):
        assert french in eqf_explanation(uri)
    with translation.override("de"):
        assert german in eqf_explanation(uri)


# English left on German pages --------------------------------------------------------------

ENGLISH_ON_GERMAN_PAGES = ["- Select an option -", "Claim link e-mailed to", "e-mailed to"]


@pytest.mark.django_db
def test_german_staff_pages_show_no_english_select_prompt_or_event_note(
    client: Client, django_capture_on_commit_callbacks
):
    from credentials.issuing import services
    from tests.factories import MembershipFactory

    membership = MembershipFactory()
    client.force_login(membership.user)
    slug = membership.institution.slug
    with django_capture_on_commit_callbacks(execute=True):
        credential = issue(MicroCredentialFactory(institution=membership.institution))
    services.holders_notify(credential_ids=[credential.pk])
    pages = [
        reverse("credentials:micro_credential_new", kwargs={"slug": slug}),
        reverse("credentials:issue", kwargs={"slug": slug}),
        reverse("credentials:pathway_new", kwargs={"slug": slug}),
        reverse(
            "credentials:staff_detail", kwargs={"slug": slug, "public_id": credential.public_id}
        ),
    ]
    texts = [page_text(client, url, **{"Accept-Language": "de"}) for url in pages]
    for url, text in zip(pages, texts, strict=True):
        for english in ENGLISH_ON_GERMAN_PAGES:
            assert english not in text, (url, english)
    assert "Bitte wählen…" in texts[0]
    assert "Einlöselink per E-Mail an ana@example.eu gesendet" in texts[-1]


@pytest.mark.django_db
def test_the_note_of_a_sent_claim_link_is_stored_in_english_and_shown_in_the_readers_language():
    from credentials.models import CredentialEvent, status_reason_shown

    event = CredentialEvent(reason="Claim link e-mailed to ana@example.eu")
    with translation.override("fr"):
        assert event.reason_shown == "Lien de récupération envoyé par e-mail à ana@example.eu"
    with translation.override("de"):
        assert (
            status_reason_shown("Recognition decision of Uni B e-mailed to ana@example.eu")
            == "Anerkennungsentscheidung von Uni B per E-Mail an ana@example.eu gesendet"
        )
    # Staff's own words are shown as written, even in another language.
    with translation.override("de"):
        assert status_reason_shown("Sent by post") == "Sent by post"
