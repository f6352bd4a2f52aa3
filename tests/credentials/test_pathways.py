from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from credentials.catalogue import pathway_selectors, pathway_services
from credentials.exceptions import CredentialError
from credentials.issuing import services
from credentials.models import IssuedCredential, Pathway, PathwayComponent
from credentials.standards import credential_summary, pathways
from credentials.standards.pathways import Component, Holding, evaluate
from institutions.models import AuditEvent, Role
from tests.factories import (
    PARTNER,
    MembershipFactory,
    MicroCredentialFactory,
    UserFactory,
    a_pathway,
    imported_document,
)
from tests.learners.holding import ImportedCredentialFactory, held_credential, uni_x_is_a_partner

A = Component(key="local:1", title="A", ects=Decimal("5"))
B = Component(key="local:2", title="B", ects=Decimal("5"))
C = Component(key="https://partner.example/spec/c", title="C", ects=Decimal("3"))


def held(key: str, ects: str | None = "5", *, valid: bool = True) -> Holding:
    return Holding(key=key, ects=Decimal(ects) if ects else None, valid=valid)


# The rules, from plain values ------------------------------------------------------------


def test_all_of_is_complete_only_when_every_component_is_held():
    partial = evaluate(rule="all_of", components=[A, B, C], holdings=[held("local:1")])
    assert not partial.complete
    assert partial.satisfied == (A,)
    assert partial.missing == (B, C)
    assert (partial.have, partial.needed) == (1, 3)
    whole = evaluate(
        rule="all_of",
        components=[A, B, C],
        holdings=[held("local:1"), held("local:2"), held(C.key, "3")],
    )
    assert whole.complete
    assert whole.missing == ()
    assert whole.percent == 100


@pytest.mark.date_sensitive
def test_a_revoked_suspended_or_expired_holding_does_not_count():
    progress = evaluate(rule="all_of", components=[A], holdings=[held("local:1", valid=False)])
    assert not progress.complete
    assert progress.satisfied == ()
    assert progress.ects == 0


def test_a_component_held_twice_counts_once_and_a_valid_copy_beats_a_revoked_one():
    progress = evaluate(
        rule="any_n",
        components=[A, B],
        holdings=[held("local:1", valid=False), held("local:1"), held("local:1")],
        required_count=2,
    )
    assert progress.have == 1
    assert progress.ects == Decimal("5")
    assert not progress.complete


def test_any_n_is_complete_with_n_or_more():
    holdings = [held("local:1"), held("local:2"), held(C.key)]
    assert not evaluate(
        rule="any_n", components=[A, B, C], holdings=holdings[:1], required_count=2
    ).complete
    assert evaluate(
        rule="any_n", components=[A, B, C], holdings=holdings[:2], required_count=2
    ).complete
    more = evaluate(rule="any_n", components=[A, B, C], holdings=holdings, required_count=2)
    assert more.complete
    assert more.have == 3
    assert more.percent == 100


def test_min_ects_is_complete_exactly_at_the_threshold():
    at = evaluate(
        rule="min_ects",
        components=[A, C],
        holdings=[held("local:1", "5"), held(C.key, "3")],
        required_ects=Decimal("8"),
    )
    assert at.complete
    assert at.ects == Decimal("8")
    below = evaluate(
        rule="min_ects",
        components=[A, C],
        holdings=[held("local:1", "5"), held(C.key, "2.99")],
        required_ects=Decimal("8"),
    )
    assert not below.complete
    assert below.percent == 99


def test_a_holding_without_ects_counts_the_components_ects():
    progress = evaluate(
        rule="min_ects", components=[C], holdings=[held(C.key, None)], required_ects=Decimal("3")
    )
    assert progress.ects == Decimal("3")
    assert progress.complete


def test_holdings_that_are_no_component_change_nothing():
    progress = evaluate(rule="all_of", components=[A], holdings=[held("local:99")])
    assert not progress.complete
    assert not pathways.touches([A], [held("local:99")])
    assert pathways.touches([A], [held("local:1", valid=False)])


def test_a_pathway_without_components_is_never_complete():
    assert not evaluate(rule="all_of", components=[], holdings=[]).complete


def test_a_rule_without_its_number_is_refused():
    with pytest.raises(ValueError):
        evaluate(rule="any_n", components=[A], holdings=[])
    with pytest.raises(ValueError):
        evaluate(rule="min_ects", components=[A], holdings=[], required_ects=Decimal(0))
    with pytest.raises(ValueError):
        evaluate(rule="most_of", components=[A], holdings=[])  # type: ignore[arg-type]


def test_the_achievement_id_of_an_import_is_read_from_ob3_and_edc_documents():
    ob3 = {"credentialSubject": {"achievement": {"id": "https://p.example/spec/1"}}}
    edc = {"credentialSubject": {"hasClaim": [{"specifiedBy": {"id": "urn:epass:los:1"}}]}}
    assert credential_summary.achievement_id(ob3) == "https://p.example/spec/1"
    assert credential_summary.achievement_id(edc) == "urn:epass:los:1"
    assert credential_summary.achievement_id({"credentialSubject": []}) == ""


# Services --------------------------------------------------------------------------------


def completer(pathway: Pathway, parts: list):
    learner = UserFactory()
    for part in parts:
        held_credential(learner, part)
    uni_x_is_a_partner()  # the import's issuer is one this portal knows: it counts
    ImportedCredentialFactory(owner=learner, document=imported_document(PARTNER))
    return learner


@pytest.mark.django_db
def test_saving_publishing_and_components_are_audited():
    pathway, _parts = a_pathway()
    actions = set(
        AuditEvent.objects.filter(institution=pathway.institution).values_list("action", flat=True)
    )
    assert {
        "pathway.created",
        "pathway.component_added",
        "pathway.published",
    } <= actions
    assert pathway.components.count() == 3


@pytest.mark.django_db
def test_adding_a_component_twice_keeps_it_once():
    pathway, (own, _other) = a_pathway()
    again = pathway_services.pathway_component_add(
        actor=None, pathway=pathway, micro_credential=own
    )
    assert pathway.components.filter(micro_credential=own).get() == again


@pytest.mark.django_db
def test_the_stacked_credential_must_be_the_institutions_own_and_not_its_own_part():
    pathway, _parts = a_pathway()
    with pytest.raises(CredentialError):
        pathway_services.pathway_save(
            actor=None,
            institution=pathway.institution,
            pathway=pathway,
            title="x",
            rule="all_of",
            awards=MicroCredentialFactory(),
        )
    with pytest.raises(CredentialError):
        pathway_services.pathway_component_add(
            actor=None, pathway=pathway, micro_credential=pathway.awards
        )


@pytest.mark.django_db
def test_the_database_refuses_a_component_that_is_both_local_and_external():
    from django.db import IntegrityError

    pathway, (_own, _other) = a_pathway()
    with pytest.raises(IntegrityError):
        PathwayComponent.objects.create(
            pathway=pathway,
            micro_credential=MicroCredentialFactory(),
            external_url="https://x.example",
            external_title="x",
            external_ects=Decimal(1),
        )


@pytest.mark.django_db
def test_the_database_refuses_any_n_without_its_count():
    from django.db import IntegrityError

    awards = MicroCredentialFactory()
    with pytest.raises(IntegrityError):
        Pathway.objects.create(
            institution=awards.institution, title="x", rule="any_n", awards=awards
        )


@pytest.mark.django_db
def test_publishing_any_n_with_fewer_components_than_n_is_refused():
    awards = MicroCredentialFactory()
    pathway = pathway_services.pathway_save(
        actor=None,
        institution=awards.institution,
        title="x",
        rule="any_n",
        required_count=2,
        awards=awards,
    )
    with pytest.raises(CredentialError):
        pathway_services.pathway_set_status(actor=None, pathway=pathway, status="published")
    pathway_services.pathway_component_add(
        actor=None, pathway=pathway, micro_credential=MicroCredentialFactory()
    )
    with pytest.raises(CredentialError):
        pathway_services.pathway_set_status(actor=None, pathway=pathway, status="published")


@pytest.mark.django_db
def test_issuing_the_stacked_credential_puts_it_in_the_wallet_and_refuses_twice():
    pathway, parts = a_pathway()
    learner = completer(pathway, parts)
    credential = pathway_services.pathway_award_issue(actor=None, pathway=pathway, learner=learner)
    assert credential.holder == learner
    assert IssuedCredential.objects.get(pk=credential.pk).version.micro_credential == pathway.awards
    assert AuditEvent.objects.filter(action="pathway.awarded").count() == 1
    with pytest.raises(CredentialError, match="already holds"):
        pathway_services.pathway_award_issue(actor=None, pathway=pathway, learner=learner)


@pytest.mark.django_db
def test_issuing_to_a_learner_who_has_not_completed_is_refused():
    pathway, (own, other) = a_pathway()
    learner = UserFactory()
    held_credential(learner, own)
    revoked = held_credential(learner, other)
    services.credential_revoke(credential=revoked, actor=None, reason="Fraud")
    ImportedCredentialFactory(owner=learner, document=imported_document(PARTNER))
    with pytest.raises(CredentialError, match="not completed"):
        pathway_services.pathway_award_issue(actor=None, pathway=pathway, learner=learner)
    assert not IssuedCredential.objects.filter(version__micro_credential=pathway.awards).exists()


@pytest.mark.date_sensitive
@pytest.mark.django_db
def test_an_unverified_or_expired_import_does_not_complete_a_pathway():
    pathway, parts = a_pathway()
    learner = UserFactory()
    for part in parts:
        held_credential(learner, part)
    ImportedCredentialFactory(
        owner=learner, document=imported_document(PARTNER), verification={"verified": False}
    )
    ImportedCredentialFactory(
        owner=learner,
        document=imported_document(PARTNER) + " ",
        valid_until=timezone.now() - timedelta(days=1),
    )
    assert not pathway_selectors.pathway_progress_of(pathway=pathway, user=learner).complete


@pytest.mark.django_db
def test_a_draft_pathway_awards_nothing():
    pathway, parts = a_pathway()
    learner = completer(pathway, parts)
    pathway_services.pathway_set_status(actor=None, pathway=pathway, status="draft")
    with pytest.raises(CredentialError):
        pathway_services.pathway_award_issue(actor=None, pathway=pathway, learner=learner)


# Staff pages -----------------------------------------------------------------------------


def staff(pathway: Pathway, role: str = Role.ISSUER):
    return MembershipFactory(institution=pathway.institution, role=role).user


def url(name: str, pathway: Pathway, **kwargs) -> str:
    return reverse(
        f"credentials:{name}",
        kwargs={"slug": pathway.institution.slug, "public_id": pathway.public_id, **kwargs},
    )


@pytest.mark.django_db
def test_an_issuer_creates_a_pathway_through_the_form(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    awards = MicroCredentialFactory(institution=membership.institution)
    response = logged_in(membership.user).post(
        reverse("credentials:pathway_new", kwargs={"slug": membership.institution.slug}),
        {"title": "Stack", "awards": awards.pk, "rule": "min_ects", "required_ects": "10"},
    )
    pathway = Pathway.objects.get(title="Stack")
    assert response.status_code == 302
    assert response.url == url("pathway", pathway)
    assert pathway.required_ects == Decimal("10")
    assert pathway.required_count is None


@pytest.mark.django_db
def test_an_issuer_adds_a_partners_component_and_a_local_one_of_another_institution(logged_in):
    pathway, _parts = a_pathway()
    client = logged_in(staff(pathway))
    elsewhere = MicroCredentialFactory(title="Elsewhere")
    assert (
        client.post(
            url("pathway_component_add", pathway), {"micro_credential": elsewhere.pk}
        ).status_code
        == 302
    )
    response = client.post(
        url("pathway_component_add", pathway),
        {
            "external_url": "https://other.example/s",
            "external_title": "Other",
            "external_ects": "2",
        },
    )
    assert response.status_code == 302
    assert pathway.components.count() == 5
    both = client.post(
        url("pathway_component_add", pathway),
        {"micro_credential": elsewhere.pk, "external_url": "https://x.example/s"},
    )
    assert both.status_code == 400
    assert "not both" in both.text


@pytest.mark.django_db
def test_the_completers_list_offers_one_button_that_issues_the_stacked_credential(logged_in):
    pathway, parts = a_pathway()
    learner = completer(pathway, parts)
    UserFactory()  # someone who holds nothing
    client = logged_in(staff(pathway))
    page = client.get(url("pathway_learners", pathway))
    assert page.status_code == 200
    assert learner.email in page.text
    assert "Issue Master of Data" in page.text
    response = client.post(
        url("pathway_award_issue", pathway), {"learner": learner.email}, follow=True
    )
    assert "Master of Data issued to" in response.text
    assert learner.credentials.filter(version__micro_credential=pathway.awards).count() == 1
    again = client.post(
        url("pathway_award_issue", pathway), {"learner": learner.email}, follow=True
    )
    assert "already holds" in again.text
    assert learner.credentials.filter(version__micro_credential=pathway.awards).count() == 1


@pytest.mark.django_db
def test_the_one_action_refuses_a_learner_who_has_not_completed_as_it_refuses_no_account(
    logged_in,
):
    pathway, (own, _other) = a_pathway()
    learner = UserFactory(name="Partial Progress")
    held_credential(learner, own)
    client = logged_in(staff(pathway))
    answers = [
        client.post(url("pathway_award_issue", pathway), {"learner": address}, follow=True)
        for address in (learner.email, "nobody-here@example.org")
    ]
    for response in answers:
        assert "No learner who completed this pathway has that address." in response.text
        assert "Partial Progress" not in response.text
    # Whether an account exists is not told apart.
    assert [r.redirect_chain for r in answers[:1]] == [r.redirect_chain for r in answers[1:]]
    assert not learner.credentials.filter(version__micro_credential=pathway.awards).exists()


@pytest.mark.django_db
def test_the_completers_list_loads_in_a_constant_number_of_queries(
    logged_in, django_assert_max_num_queries
):
    pathway, parts = a_pathway()
    for _ in range(3):
        completer(pathway, parts)
    client = logged_in(staff(pathway, Role.VIEWER))
    with django_assert_max_num_queries(12):
        page = client.get(url("pathway_learners", pathway))
    assert page.text.count("<tr>") == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "method", "viewer", "issuer"),
    [
        ("pathways", "get", 200, 200),
        ("pathway", "get", 200, 200),
        ("pathway_learners", "get", 200, 200),
        ("pathway_edit", "get", 403, 200),
        ("pathway_component_add", "post", 403, 400),
        ("pathway_award_issue", "post", 403, 302),
        ("pathway_status", "post", 403, 302),
    ],
)
def test_viewers_see_issuers_edit_outsiders_get_404_and_anonymous_sign_in(
    client, logged_in, name, method, viewer, issuer
):
    pathway, _parts = a_pathway()
    kwargs = {"status": "draft"} if name == "pathway_status" else {}
    target = (
        reverse("credentials:pathways", kwargs={"slug": pathway.institution.slug})
        if name == "pathways"
        else url(name, pathway, **kwargs)
    )
    anonymous = getattr(client, method)(target)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("account_login"))
    for role, expected in ((Role.VIEWER, viewer), (Role.ISSUER, issuer), (Role.ADMIN, issuer)):
        assert getattr(logged_in(staff(pathway, role)), method)(target).status_code == expected
    outsider = MembershipFactory(role=Role.ADMIN).user
    assert getattr(logged_in(outsider), method)(target).status_code == 404


@pytest.mark.django_db
def test_another_institutions_pathway_is_a_404_even_under_ones_own_slug(logged_in):
    pathway, _parts = a_pathway()
    member = MembershipFactory(role=Role.ADMIN)
    target = reverse(
        "credentials:pathway",
        kwargs={"slug": member.institution.slug, "public_id": pathway.public_id},
    )
    assert logged_in(member.user).get(target).status_code == 404
