import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from institutions.models import AuditEvent, Invitation, Membership, Role
from tests.factories import InvitationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def give_totp(user) -> None:
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("institutions:staff_home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_staff_home_lists_the_users_institutions(logged_in):
    membership = MembershipFactory(institution__name="Université de Test")
    MembershipFactory(institution__name="Somewhere Else")
    response = logged_in(membership.user).get(reverse("institutions:staff_home"))
    assert response.status_code == 200
    assert "Université de Test" in response.text
    assert "Somewhere Else" not in response.text


def test_an_outsider_gets_404_on_another_institutions_page(logged_in):
    other = MembershipFactory()
    response = logged_in(UserFactory()).get(other.institution.get_absolute_url())
    assert response.status_code == 404


def test_an_issuer_may_not_manage_staff(logged_in):
    issuer = MembershipFactory(role=Role.ISSUER)
    url = reverse("institutions:members", kwargs={"slug": issuer.institution.slug})
    response = logged_in(issuer.user).get(url)
    assert response.status_code == 403
    assert "You are not allowed to do that" in response.text


def test_an_admin_invites_a_colleague_and_sees_it_listed(logged_in, eager_celery):
    admin = MembershipFactory()
    url = reverse("institutions:members", kwargs={"slug": admin.institution.slug})
    client = logged_in(admin.user)
    response = client.post(
        url, {"email": "colleague@uni.example", "role": Role.ISSUER}, follow=True
    )
    assert response.redirect_chain[-1][0] == url
    assert "Invitation sent to colleague@uni.example." in response.text
    assert "colleague@uni.example" in client.get(url).text


def test_a_bad_invitation_is_shown_inline_and_nothing_is_saved(logged_in):
    admin = MembershipFactory()
    url = reverse("institutions:members", kwargs={"slug": admin.institution.slug})
    response = logged_in(admin.user).post(url, {"email": "not-an-address", "role": "owner"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.text
    assert Invitation.objects.count() == 0


def test_an_invitation_page_names_the_address_only_to_its_owner(logged_in):
    invitation = InvitationFactory(email="ada.lovelace@uni.example", role=Role.VIEWER)
    url = reverse("institutions:invitation_accept", kwargs={"public_id": invitation.public_id})
    invited = logged_in(UserFactory(email="ada.lovelace@uni.example")).get(url)
    assert "This invitation is for ada.lovelace@uni.example, with the role Viewer." in invited.text
    other = logged_in(UserFactory(email="someone@else.example")).get(url)
    assert "ada.lovelace" not in other.text
    assert "This invitation is for a•••@uni.example, with the role Viewer." in other.text
    refused = logged_in(UserFactory(email="someone2@else.example")).post(url, follow=True)
    assert "ada.lovelace" not in refused.text
    assert not Membership.objects.filter(institution=invitation.institution).exists()


def test_an_admin_changes_a_role(logged_in):
    admin = MembershipFactory()
    viewer = MembershipFactory(institution=admin.institution, role=Role.VIEWER)
    url = reverse(
        "institutions:member_role",
        kwargs={"slug": admin.institution.slug, "membership_id": viewer.pk},
    )
    response = logged_in(admin.user).post(url, {"role": Role.ISSUER}, follow=True)
    assert "is now Issuer" in response.text
    viewer.refresh_from_db()
    assert viewer.role == Role.ISSUER


def test_an_admin_cannot_change_a_role_at_another_institution(logged_in):
    admin = MembershipFactory()
    elsewhere = MembershipFactory(role=Role.VIEWER)
    url = reverse(
        "institutions:member_role",
        kwargs={"slug": admin.institution.slug, "membership_id": elsewhere.pk},
    )
    response = logged_in(admin.user).post(url, {"role": Role.ADMIN})
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.role == Role.VIEWER


def test_the_last_admin_is_told_why_they_cannot_leave(logged_in):
    admin = MembershipFactory()
    url = reverse(
        "institutions:member_role",
        kwargs={"slug": admin.institution.slug, "membership_id": admin.pk},
    )
    response = logged_in(admin.user).post(url, {"role": Role.VIEWER}, follow=True)
    assert "An institution needs at least one administrator." in response.text
    assert not AuditEvent.objects.filter(action="membership.role_changed").exists()


def test_an_invited_person_accepts_and_lands_on_the_institution(logged_in):
    invitation = InvitationFactory(role=Role.VIEWER)
    user = UserFactory(email=invitation.email)
    response = logged_in(user).post(invitation.get_absolute_url(), follow=True)
    assert response.redirect_chain[-1][0] == invitation.institution.get_absolute_url()
    assert Membership.objects.get(user=user).role == Role.VIEWER


def test_staff_of_an_institution_that_requires_mfa_must_set_it_up_first(logged_in):
    membership = MembershipFactory(institution__require_mfa=True)
    client = logged_in(membership.user)
    response = client.get(reverse("institutions:staff_home"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
    give_totp(membership.user)
    assert client.get(reverse("institutions:staff_home")).status_code == 200


def test_the_node_can_require_mfa_of_all_staff(logged_in, settings):
    settings.MESHE_STAFF_REQUIRE_MFA = True
    membership = MembershipFactory(institution__require_mfa=False)
    response = logged_in(membership.user).get(reverse("institutions:staff_home"))
    assert response.url == reverse("mfa_activate_totp")


def test_learner_pages_do_not_ask_for_mfa(logged_in):
    response = logged_in(UserFactory()).get(reverse("learners:wallet"))
    assert response.status_code == 200
