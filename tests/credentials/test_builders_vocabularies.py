import hashlib
import json
import re

import pytest

from credentials.standards import vocabularies
from credentials.standards.vocabularies import VOCAB_DIR, UnknownConcept

EU_MEMBER_STATES = [
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
]
EU_LANGUAGES = [
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fi",
    "fr",
    "ga",
    "hr",
    "hu",
    "it",
    "lt",
    "lv",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "sk",
    "sl",
    "sv",
]

FORM_SCHEMES = [
    pytest.param(vocabularies.EQF, 8, id="eqf"),
    pytest.param(vocabularies.ISCED_F, 143, id="isced-f"),
    pytest.param(vocabularies.ASSESSMENT, 17, id="assessment"),
    pytest.param(vocabularies.MODE, 7, id="mode"),
    pytest.param(vocabularies.LEARNING_SETTING, 2, id="learning-setting"),
    pytest.param(vocabularies.SUPERVISION, 3, id="supervision"),
    pytest.param(vocabularies.ACCREDITATION, 2, id="accreditation"),
    pytest.param(vocabularies.EDUCATION_CREDIT, 1, id="education-credit"),
]


def isced_codes(digits: int, *, core_only: bool) -> list[str]:
    codes = [
        concept.notation or ""
        for concept in vocabularies.concepts(vocabularies.ISCED_F)
        if len(concept.notation or "") == digits
    ]
    if core_only:
        # ISCED-F's own counts leave out inter-disciplinary (…8, …88) and unknown (99…) fields.
        codes = [code for code in codes if not code.startswith("99")]
        if digits > 2:
            codes = [code for code in codes if not code.endswith("8" * (digits - 2))]
    return codes


@pytest.mark.parametrize(
    ("digits", "count"),
    [
        pytest.param(2, 11, id="broad"),
        pytest.param(3, 29, id="narrow"),
        pytest.param(4, 80, id="detailed"),
    ],
)
def test_isced_f_2013_has_its_published_number_of_fields(digits, count):
    assert len(isced_codes(digits, core_only=True)) == count


def test_every_isced_f_field_below_the_broad_level_sits_under_its_parent():
    for concept in vocabularies.concepts(vocabularies.ISCED_F):
        assert concept.uri == f"http://data.europa.eu/snb/isced-f/{concept.notation}"
        if len(concept.notation or "") > 2:
            parent = vocabularies.concept(concept.broader or "", scheme=vocabularies.ISCED_F)
            assert concept.notation and concept.notation.startswith(parent.notation or "-")


def test_isced_f_includes_the_generic_programmes_and_the_fields_the_elm_samples_use():
    labels = {c.notation: c.label for c in vocabularies.concepts(vocabularies.ISCED_F)}
    assert labels["00"] == "Generic programmes and qualifications"
    assert labels["0011"] == "Basic programmes and qualifications"
    assert labels["003"] == "Personal skills and development"
    assert labels["0611"] == "Computer use"
    assert labels["0113"] == "Teacher training without subject specialisation"
    assert labels["0688"].startswith("Inter-disciplinary programmes and qualifications involving")


def test_concept_gives_the_scheme_labels_and_code_of_a_uri():
    concept = vocabularies.concept("http://data.europa.eu/snb/isced-f/0611")
    assert concept.scheme == vocabularies.ISCED_F
    assert concept.labels == {
        "en": "Computer use",
        "fr": "Utilisation des ordinateurs",
        "de": "Computernutzung",
    }
    assert concept.label == "Computer use"
    assert concept.notation == "0611"
    assert concept.broader == "http://data.europa.eu/snb/isced-f/061"


def test_an_unknown_uri_raises_a_clear_error_naming_it():
    with pytest.raises(UnknownConcept, match="eqf/9") as caught:
        vocabularies.concept("http://data.europa.eu/snb/eqf/9")
    assert caught.value.uri == "http://data.europa.eu/snb/eqf/9"
    assert isinstance(caught.value, LookupError)


def test_a_concept_from_another_scheme_is_refused_when_a_scheme_is_asked_for():
    blended = "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    assert vocabularies.concept(blended, scheme=vocabularies.MODE).label == "Blended"
    with pytest.raises(UnknownConcept, match="assessment/25831c2"):
        vocabularies.concept(blended, scheme=vocabularies.ASSESSMENT)


def test_an_unknown_scheme_has_no_choices():
    with pytest.raises(UnknownConcept):
        vocabularies.choices("http://data.europa.eu/snb/no-such-scheme/25831c2")


@pytest.mark.parametrize(("scheme", "count"), FORM_SCHEMES)
def test_choices_give_each_concept_of_a_scheme_with_its_english_label(scheme, count):
    choices = vocabularies.choices(scheme)
    assert len(choices) == count
    for uri, label in choices:
        assert label.strip()
        assert vocabularies.concept(uri, scheme=scheme).label == label
        # ELM concept URIs live beside their scheme's URI: …/eqf/6 beside …/eqf/25831c2.
        assert uri.rsplit("/", 1)[0] == scheme.rsplit("/", 1)[0]


def test_eqf_choices_are_levels_one_to_eight_in_order():
    assert vocabularies.choices(vocabularies.EQF) == [
        (f"http://data.europa.eu/snb/eqf/{level}", f"Level {level}") for level in range(1, 9)
    ]


def test_supervision_lists_the_recommendations_options_with_the_caveat_kept():
    by_option = {
        c.annotations["recommendationOption"]: c.uri
        for c in vocabularies.concepts(vocabularies.SUPERVISION)
    }
    assert by_option["unsupervised with no identity verification"] == (
        "http://data.europa.eu/snb/supervision-verification/c598449d64"
    )
    assert by_option["supervised online or onsite with identity verification"] == (
        "http://data.europa.eu/snb/supervision-verification/70be69aaf9"
    )
    unconfirmed = vocabularies.concept(
        "http://data.europa.eu/snb/supervision-verification/df2880c5cb"
    )
    assert "not confirmed" in unconfirmed.annotations["caveat"]


def test_ects_is_the_credit_framework_concept():
    ects = vocabularies.concept(vocabularies.ECTS, scheme=vocabularies.EDUCATION_CREDIT)
    assert "ECTS" in ects.label


@pytest.mark.parametrize("alpha2", EU_MEMBER_STATES)
def test_every_eu_member_state_maps_to_its_eu_authority_country(alpha2):
    country = vocabularies.country(alpha2)
    assert country.scheme == vocabularies.COUNTRY
    assert country.uri == f"{vocabularies.COUNTRY}/{country.notation}"
    assert len(country.notation or "") == 3


def test_country_codes_map_to_alpha_3_whatever_their_case():
    assert vocabularies.country("nl").uri.endswith("/country/NLD")
    assert vocabularies.country("GR").uri.endswith("/country/GRC")
    assert vocabularies.country("GB").label == "United Kingdom"
    with pytest.raises(UnknownConcept, match="'XX'"):
        vocabularies.country("XX")


@pytest.mark.parametrize("tag", EU_LANGUAGES)
def test_every_official_eu_language_maps_to_its_eu_authority_language(tag):
    language = vocabularies.language(tag)
    assert language.uri == f"{vocabularies.LANGUAGE}/{language.notation}"


def test_language_tags_map_to_the_authority_codes_ignoring_regions():
    assert vocabularies.language("en").uri.endswith("/language/ENG")
    assert vocabularies.language("pt-BR").uri.endswith("/language/POR")
    assert vocabularies.language("EL").label == "Greek"
    with pytest.raises(UnknownConcept):
        vocabularies.language("tlh")


def test_the_bundled_elm_list_is_the_unchanged_copy_its_readme_records():
    readme = (VOCAB_DIR / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if "`elm-controlled-vocabularies.json`" in line)
    recorded = re.search(r"SHA-256 `([0-9a-f]{64})`", row)
    assert recorded is not None, row
    bundled = (VOCAB_DIR / "elm-controlled-vocabularies.json").read_bytes()
    assert hashlib.sha256(bundled).hexdigest() == recorded.group(1)


def test_each_added_file_names_its_scheme_and_the_readme_names_each_file():
    readme = (VOCAB_DIR / "README.md").read_text(encoding="utf-8")
    for path in sorted(VOCAB_DIR.glob("*.json")):
        assert f"`{path.name}`" in readme
        data = json.loads(path.read_text(encoding="utf-8"))
        assert "scheme" in data or "schemes" in data
