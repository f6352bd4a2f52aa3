"""The micro-credential editor guides staff: nothing chosen for them, errors in the words of the
field, outcomes added and removed, languages by name, a preview before publishing, and a
detail page that shows everything entered."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from credentials.models import PRACTICAL_FIELDS, SPECIFICATION_FIELDS, MicroCredential
from institutions.models import Role
from tests.credentials.editor import editor_post
from tests.factories import MembershipFactory, MicroCredentialFactory

pytestmark = pytest.mark.django_db

REQUIRED_CHOICES = {
    "eqf_level": "Choose the level (EQF).",
    "assessment_type": "Choose the type of assessment.",
    "form_of_participation": "Choose the form of participation.",
    "quality_assurance": "Choose the type of quality assurance.",
}


@pytest.fixture
def issuer():
    return MembershipFactory(role=Role.ISSUER)


def new_url(membership) -> str:
    return reverse("credentials:micro_credential_new", kwargs={"slug": membership.institution.slug})


def page_url(name: str, micro_credential: MicroCredential) -> str:
    return reverse(
        name,
        kwargs={"slug": micro_credential.institution.slug, "public_id": micro_credential.public_id},
    )


def select(html: str, name: str) -> str:
    found = re.search(rf'<select name="{name}"[^>]*>.*?</select>', html, re.S)
    assert found, f"no select {name}"
    return found.group(0)


# 1. Nothing is chosen for staff -----------------------------------------------------------


def test_required_eu_elements_start_on_an_empty_choose_prompt(logged_in, issuer):
    html = logged_in(issuer.user).get(new_url(issuer)).text
    for name in REQUIRED_CHOICES:
        picker = select(html, name)
        assert re.search(r'<option value="" selected>Choose…</option>', picker), name
        assert picker.count(" selected") == 1, f"{name} has a value chosen in advance"
        assert " required" in picker.split(">")[0]


def test_required_fields_are_marked_and_the_mark_is_explained(logged_in, issuer):
    html = logged_in(issuer.user).get(new_url(issuer)).text
    star = '</label><span class="required-mark" aria-hidden="true">*</span>'
    assert '<label for="id_eqf_level" class="required">Level (EQF):' + star in html
    assert '<label for="id_title" class="required">Title:' + star in html
    assert '<label for="id_isced_field">Field of education (ISCED-F 2013):</label>\n' in html
    assert '<span class="required-mark" aria-hidden="true">*</span> required' in html


def test_the_editor_refuses_to_save_without_a_choice_for_each_required_element(logged_in, issuer):
    response = logged_in(issuer.user).post(
        new_url(issuer), editor_post(**dict.fromkeys(REQUIRED_CHOICES, ""))
    )
    assert response.status_code == 200
    for message in REQUIRED_CHOICES.values():
        assert message in response.text
    assert MicroCredential.objects.count() == 0


# 2. Errors speak of the field and are summed up -----------------------------------------------


def test_removing_every_outcome_asks_for_one_in_the_editors_words(logged_in, issuer):
    response = logged_in(issuer.user).post(
        new_url(issuer), editor_post(**{"outcomes-0-DELETE": "on"})
    )
    assert "Add at least one learning outcome." in response.text
    assert "Please submit" not in response.text
    assert MicroCredential.objects.count() == 0


def test_a_form_that_arrived_incomplete_says_so_without_djangos_words(logged_in, issuer):
    data = editor_post()
    del data["translations-TOTAL_FORMS"]
    response = logged_in(issuer.user).post(new_url(issuer), data)
    assert "The form arrived incomplete. Reload the page" in response.text
    assert "ManagementForm" not in response.text
    assert MicroCredential.objects.count() == 0


def test_errors_are_summed_up_on_top_with_links_to_their_fields(logged_in, issuer):
    response = logged_in(issuer.user).post(
        new_url(issuer), editor_post(title="", **{"outcomes-0-DELETE": "on"})
    )
    html = response.text
    summary = html[
        html.index('id="error-summary"') : html.index("</div>", html.index('id="error-summary"'))
    ]
    assert "Nothing was saved: 2 things to correct" in summary
    assert '<a href="#id_title">Title: Give the micro-credential a title.</a>' in summary
    assert '<a href="#outcomes">Add at least one learning outcome.</a>' in summary
    # Each field names its error for assistive technology.
    assert 'aria-describedby="id_title_error"' in html
    assert '<ul class="errorlist" id="id_title_error">' in html
    assert "<title>Error:" in html


def test_an_outcomes_error_names_its_row_in_the_summary(logged_in, issuer):
    response = logged_in(issuer.user).post(
        new_url(issuer),
        editor_post(**{"outcomes-1-skills": "https://example.com/not-esco"}),
    )
    assert (
        '<a href="#id_outcomes-1-skills">ESCO skills (links, one per line), number 2: '
        in response.text
    )


def test_a_clean_form_has_no_summary(logged_in, issuer):
    assert 'id="error-summary"' not in logged_in(issuer.user).get(new_url(issuer)).text


# 3. Outcomes added and removed; languages by name -------------------------------------------


def test_add_another_outcome_without_javascript_keeps_what_was_typed_and_saves_nothing(
    logged_in, issuer
):
    data = editor_post(add_outcome="1", eqf_level="", instruction_languages=["nl"])
    data["outcomes-1-text"] = "Compare two business models."
    response = logged_in(issuer.user).post(new_url(issuer), data)
    html = response.text
    assert response.status_code == 200
    assert MicroCredential.objects.count() == 0
    # Both typed outcomes, then one new empty row that takes the focus.
    assert 'name="outcomes-TOTAL_FORMS" value="3"' in html
    assert "Explain the material loops of a circular product." in html
    assert "Compare two business models." in html
    assert re.search(r'<textarea name="outcomes-2-text"[^>]*autofocus', html)
    assert 'value="Circular Economy Basics"' in html
    assert re.search(r'value="nl"[^>]*checked', html)
    # What is not filled in yet is not an error yet.
    assert 'id="error-summary"' not in html
    assert "Choose the level (EQF)." not in html


def test_an_outcome_ticked_for_removal_is_not_saved(logged_in, issuer):
    data = editor_post(
        **{
            "outcomes-1-text": "An outcome written by mistake.",
            "outcomes-1-DELETE": "on",
        }
    )
    logged_in(issuer.user).post(new_url(issuer), data)
    saved = MicroCredential.objects.get()
    assert [outcome["text"] for outcome in saved.learning_outcomes] == [
        "Explain the material loops of a circular product."
    ]


def test_an_outcome_added_in_the_browser_is_saved(logged_in, issuer):
    # What editor-rows.js sends after "Add another outcome": one more row, counted.
    data = editor_post(
        **{
            "outcomes-TOTAL_FORMS": "3",
            "outcomes-2-text": "Design a take-back scheme.",
            "outcomes-2-skills": "",
        }
    )
    logged_in(issuer.user).post(new_url(issuer), data)
    saved = MicroCredential.objects.get()
    assert [outcome["text"] for outcome in saved.learning_outcomes] == [
        "Explain the material loops of a circular product.",
        "Design a take-back scheme.",
    ]


def test_languages_of_instruction_are_chosen_by_name_and_stored_as_codes(logged_in, issuer):
    client = logged_in(issuer.user)
    html = client.get(new_url(issuer)).text
    assert re.search(
        r'<input type="checkbox" name="instruction_languages" value="nl"[^>]*>\s*Dutch', html
    )
    assert "Language codes separated by commas" not in html
    client.post(new_url(issuer), editor_post(instruction_languages=["nl", "de"]))
    assert MicroCredential.objects.get().instruction_languages == ["nl", "de"]


def test_language_names_follow_the_page_language(logged_in, issuer):
    client = logged_in(issuer.user)
    html = client.get(new_url(issuer), HTTP_ACCEPT_LANGUAGE="de").text
    assert re.search(r'name="instruction_languages" value="nl"[^>]*>\s*Niederländisch', html)


def test_a_language_code_saved_before_names_were_offered_keeps_working(logged_in, issuer):
    micro_credential = MicroCredentialFactory(
        institution=issuer.institution, instruction_languages=["en", "gsw"]
    )
    client = logged_in(issuer.user)
    html = client.get(page_url("credentials:micro_credential_edit", micro_credential)).text
    assert re.search(r'value="gsw"[^>]*checked', html)
    assert re.search(r'value="en"[^>]*checked', html)
    client.post(
        page_url("credentials:micro_credential_edit", micro_credential),
        editor_post(instruction_languages=["en", "gsw"]),
    )
    micro_credential.refresh_from_db()
    assert micro_credential.instruction_languages == ["en", "gsw"]


def test_a_language_that_is_not_offered_is_refused(logged_in, issuer):
    response = logged_in(issuer.user).post(
        new_url(issuer), editor_post(instruction_languages=["Dutch"])
    )
    assert MicroCredential.objects.count() == 0
    assert 'href="#id_instruction_languages"' in response.text


# 4. A preview before publishing ----------------------------------------------------------------


def test_the_publish_page_previews_the_public_offer_and_asks_for_confirmation(logged_in, issuer):
    draft = MicroCredentialFactory(
        institution=issuer.institution,
        status=MicroCredential.Status.DRAFT,
        title="Circular Design",
    )
    html = logged_in(issuer.user).get(page_url("credentials:micro_credential_publish", draft)).text
    assert "<strong>Preview</strong>" in html
    assert "<h1>Circular Design</h1>" in html
    assert "Where it is recognised" in html  # the offer page's own content
    assert "The published version is permanent" in html
    assert 'name="confirm"' in html
    draft.refresh_from_db()
    assert draft.status == MicroCredential.Status.DRAFT


def test_publishing_without_ticking_the_confirmation_publishes_nothing(logged_in, issuer):
    draft = MicroCredentialFactory(
        institution=issuer.institution, status=MicroCredential.Status.DRAFT
    )
    response = logged_in(issuer.user).post(
        page_url("credentials:micro_credential_publish", draft), {}
    )
    assert response.status_code == 200
    assert "Tick the box to confirm that you checked the preview." in response.text
    draft.refresh_from_db()
    assert draft.status == MicroCredential.Status.DRAFT
    assert draft.versions.count() == 0


def test_confirming_the_preview_publishes_version_one(logged_in, issuer):
    draft = MicroCredentialFactory(
        institution=issuer.institution, status=MicroCredential.Status.DRAFT
    )
    response = logged_in(issuer.user).post(
        page_url("credentials:micro_credential_publish", draft), {"confirm": "on"}, follow=True
    )
    assert "is now published." in response.text
    draft.refresh_from_db()
    assert draft.status == MicroCredential.Status.PUBLISHED
    assert list(draft.versions.values_list("number", flat=True)) == [1]


def test_an_incomplete_draft_gets_no_preview_but_what_is_missing(logged_in, issuer):
    draft = MicroCredentialFactory(
        institution=issuer.institution, status=MicroCredential.Status.DRAFT, learning_outcomes=[]
    )
    response = logged_in(issuer.user).get(
        page_url("credentials:micro_credential_publish", draft), follow=True
    )
    assert "missing something the EU standard requires" in response.text
    assert response.redirect_chain[-1][0] == page_url("credentials:micro_credential", draft)


def test_a_viewer_may_not_publish(logged_in):
    viewer = MembershipFactory(role=Role.VIEWER)
    draft = MicroCredentialFactory(
        institution=viewer.institution, status=MicroCredential.Status.DRAFT
    )
    url = page_url("credentials:micro_credential_publish", draft)
    assert logged_in(viewer.user).post(url, {"confirm": "on"}).status_code == 403
    draft.refresh_from_db()
    assert draft.status == MicroCredential.Status.DRAFT


def test_the_detail_page_leads_to_the_preview_not_straight_to_publishing(logged_in, issuer):
    draft = MicroCredentialFactory(
        institution=issuer.institution, status=MicroCredential.Status.DRAFT
    )
    html = logged_in(issuer.user).get(page_url("credentials:micro_credential", draft)).text
    assert f'href="{page_url("credentials:micro_credential_publish", draft)}"' in html
    assert "Preview and publish" in html


# 5. The staff detail page shows every field ----------------------------------------------------


def test_the_detail_page_shows_every_field_staff_entered(logged_in, issuer):
    micro_credential = MicroCredentialFactory(
        institution=issuer.institution,
        language="en",
        title="Circular Design",
        title_translations={"nl": "Circulair ontwerpen"},
        description="Designing products for many lives.",
        description_translations={"nl": "Producten ontwerpen voor meerdere levens."},
        ects=Decimal("2.5"),
        workload_hours=63,
        isced_field="http://data.europa.eu/snb/isced-f/0732",
        learning_setting="http://data.europa.eu/snb/learning-setting/e207a81fc7",
        supervision_verification="http://data.europa.eu/snb/supervision-verification/70be69aaf9",
        quality_assurance_note="Reviewed by the faculty board each year.",
        prerequisites="A first course in design.",
        criteria="A portfolio of three redesigned products.",
        grading_scheme="Pass or fail.",
        is_partial=True,
        part_of=[{"url": "https://partner.example.eu/specs/42", "title": {"en": "x"}}],
        further_information="Taught in the maker space.",
        further_information_url="https://example.eu/circular-design",
        instruction_languages=["nl", "en"],
        validity_months=36,
        enrolment_url="https://example.eu/enrol/circular-design",
        enrolment_contact="Write to the study office.",
        start_dates=["2027-03-01"],
        duration_amount=6,
        duration_unit="weeks",
        schedule="Tuesday evenings.",
        cost=MicroCredential.Cost.FEE,
        price=Decimal("450"),
        currency="EUR",
        cost_note="Alumni pay half.",
        place="Delft, north campus",
    )
    html = (
        logged_in(issuer.user).get(page_url("credentials:micro_credential", micro_credential)).text
    )
    shown = {
        "language": "English",
        "title": "Circular Design",
        "title_translations": "Circulair ontwerpen",
        "description": "Designing products for many lives.",
        "description_translations": "Producten ontwerpen voor meerdere levens.",
        "learning_outcomes": "Interpret descriptive statistics in policy reports.",
        "ects": "2.5 ECTS",
        "workload_hours": "63 hours",
        "eqf_level": "EQF Level 6",
        "isced_field": "Building and civil engineering",
        "assessment_type": "written examination",
        "form_of_participation": "Blended",
        "learning_setting": "non-formal learning",
        "quality_assurance": "Institutional evaluation",
        "quality_assurance_note": "Reviewed by the faculty board each year.",
        "supervision_verification": "Supervised with ID Verification",
        "prerequisites": "A first course in design.",
        "criteria": "A portfolio of three redesigned products.",
        "grading_scheme": "Pass or fail.",
        "is_partial": "Stacks towards a larger credential",
        "part_of": "https://partner.example.eu/specs/42",
        "further_information": "Taught in the maker space.",
        "further_information_url": "https://example.eu/circular-design",
        "instruction_languages": "Dutch, English",
        "validity_months": "36 months",
        "enrolment_url": "https://example.eu/enrol/circular-design",
        "enrolment_contact": "Write to the study office.",
        "start_dates": "1 March 2027",
        "starts_any_time": "",  # below: it replaces the dates
        "duration_amount": "6 weeks",
        "duration_unit": "6 weeks",
        "schedule": "Tuesday evenings.",
        "cost": "450.00 EUR",
        "price": "450.00 EUR",
        "currency": "450.00 EUR",
        "cost_note": "Alumni pay half.",
        "place": "Delft, north campus",
    }
    # A field added to the specification or its practical information must be shown here too.
    assert set(shown) == set(SPECIFICATION_FIELDS) | set(PRACTICAL_FIELDS)
    missing = {name: text for name, text in shown.items() if text not in html}
    assert missing == {}
    micro_credential.starts_any_time = True
    micro_credential.start_dates = []
    micro_credential.save()
    html = (
        logged_in(issuer.user).get(page_url("credentials:micro_credential", micro_credential)).text
    )
    assert "Any time: start when you are ready" in html


def test_the_detail_page_says_what_was_left_empty(logged_in, issuer):
    micro_credential = MicroCredentialFactory(institution=issuer.institution)
    html = (
        logged_in(issuer.user).get(page_url("credentials:micro_credential", micro_credential)).text
    )
    assert "Not given" in html
    assert "Does not expire" in html
