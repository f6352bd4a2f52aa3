"""The plain-text rule of typed text: what cannot be signed, and the bidirectional overrides and
isolates that would make a name or title show as something else."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from credentials.staff.forms import TranslationForm
from institutions.admin import InstitutionAdminForm
from meshe import plain_text
from tests.factories import InstitutionFactory

REFUSED = "This contains control characters; remove them and try again."
# LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI.
OVERRIDES_AND_ISOLATES = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("character", OVERRIDES_AND_ISOLATES, ids=lambda c: f"U+{ord(c):04X}")
def test_every_override_and_isolate_is_refused_on_one_line_and_in_longer_text(character):
    text = f"Ana {character}akswolaK"
    assert plain_text.typed_text_problem(text, multiline=False) == REFUSED
    for validate in (plain_text.validate_one_line_text, plain_text.validate_multiline_text):
        with pytest.raises(ValidationError, match="control characters") as refused:
            validate(text)
        assert refused.value.code == "control_characters"


@pytest.mark.parametrize(
    "text",
    [
        "Ana Kowalska",
        "\u0645\u062d\u0645\u062f \u0639\u0644\u064a",  # Arabic, written right to left
        "\u05d3\u05d5\u05d3 (2026)\u200e",  # Hebrew with a left-to-right mark after the number
        "\u200fSara\u061c",  # the right-to-left and Arabic letter marks
        "Zoë \U0001f469\u200d\U0001f393",
    ],
)
def test_right_to_left_text_and_the_direction_marks_are_accepted(text):
    assert plain_text.typed_text_problem(text, multiline=False) is None
    plain_text.validate_one_line_text(text)
    plain_text.validate_multiline_text(text)


def test_what_cannot_be_signed_is_refused_as_before_and_overrides_only_in_typed_text():
    assert plain_text.typed_text_problem("Ana\x07") == REFUSED
    assert plain_text.typed_text_problem("Ana\nKowalska", multiline=False) == REFUSED
    # Text received from partners is checked for what cannot be signed only.
    assert plain_text.control_character_problem("Ana \u202eakswolaK") is None


def test_the_specification_translation_form_refuses_an_override_in_title_and_description():
    translation = TranslationForm(
        data={"language": "fr", "title": "Donn\u00e9es\u202e", "description": "D\u2066ata"}
    )
    assert translation.errors == {"title": [REFUSED], "description": [REFUSED]}


@pytest.mark.django_db
def test_an_institution_name_with_an_override_is_refused_in_the_admin():
    institution = InstitutionFactory()
    form = InstitutionAdminForm(
        data={"name": "University of \u202emoorredlA"}, instance=institution
    )
    assert form.errors == {"name": [REFUSED]}
    form = InstitutionAdminForm(data={"name": "University of Aldermoor"}, instance=institution)
    assert form.is_valid()
