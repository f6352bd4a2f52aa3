"""What the micro-credential editor posts, for the tests of its views."""

from tests.factories import BLENDED, EQF_6, INSTITUTIONAL_EVALUATION, WRITTEN_EXAMINATION

SKILL = "http://data.europa.eu/esco/skill/7dd94ad3-13d6-43fe-8b94-51fcbf67ced9"


def editor_post(**overrides: object) -> dict[str, object]:
    """A complete new specification with one outcome and one blank row; overrides replace keys."""
    data: dict[str, object] = {
        "language": "en",
        "title": "Circular Economy Basics",
        "description": "Materials, loops and business models of a circular economy.",
        "ects": "2.5",
        "workload_hours": "70",
        "eqf_level": EQF_6,
        "isced_field": "",
        "assessment_type": WRITTEN_EXAMINATION,
        "form_of_participation": BLENDED,
        "learning_setting": "",
        "quality_assurance": INSTITUTIONAL_EVALUATION,
        "supervision_verification": "",
        "outcomes-TOTAL_FORMS": "2",
        "outcomes-INITIAL_FORMS": "0",
        "outcomes-MIN_NUM_FORMS": "1",
        "outcomes-MAX_NUM_FORMS": "1000",
        "outcomes-0-text": "Explain the material loops of a circular product.",
        "outcomes-0-skills": SKILL + "\n",
        "outcomes-1-text": "",
        "outcomes-1-skills": "",
        "translations-TOTAL_FORMS": "1",
        "translations-INITIAL_FORMS": "0",
        "translations-MIN_NUM_FORMS": "0",
        "translations-MAX_NUM_FORMS": "1000",
        "translations-0-language": "",
        "translations-0-title": "",
        "translations-0-description": "",
    }
    data.update(overrides)
    return data
