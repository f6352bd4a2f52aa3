import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from institutions import selectors
from institutions.models import Role
from tests.factories import InstitutionFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_member_gets_their_membership():
    membership = MembershipFactory(role=Role.VIEWER)
    found = selectors.membership_for_staff(user=membership.user, slug=membership.institution.slug)
    assert found == membership


def test_an_outsider_gets_404_not_403():
    InstitutionFactory(slug="uni-x")
    outsider = MembershipFactory().user  # staff elsewhere
    with pytest.raises(Http404):
        selectors.membership_for_staff(user=outsider, slug="uni-x")


def test_an_unknown_institution_is_404_too():
    membership = MembershipFactory()
    with pytest.raises(Http404):
        selectors.membership_for_staff(user=membership.user, slug="no-such-uni")


def test_a_member_without_the_role_gets_403():
    membership = MembershipFactory(role=Role.ISSUER)
    with pytest.raises(PermissionDenied):
        selectors.membership_for_staff(
            user=membership.user, slug=membership.institution.slug, roles=selectors.MANAGE_STAFF
        )


def test_a_viewer_cannot_issue():
    membership = MembershipFactory(role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        selectors.membership_for_staff(
            user=membership.user, slug=membership.institution.slug, roles=selectors.ISSUE
        )


def test_members_of_institution_lists_only_the_viewers_institution():
    viewer = MembershipFactory()
    colleague = MembershipFactory(institution=viewer.institution, role=Role.ISSUER)
    MembershipFactory()  # someone at another institution
    assert set(selectors.members_of_institution(viewer=viewer)) == {viewer, colleague}


def test_a_membership_of_another_institution_cannot_be_reached_by_id():
    viewer = MembershipFactory()
    elsewhere = MembershipFactory()
    with pytest.raises(Http404):
        selectors.member_of_institution(viewer=viewer, membership_id=elsewhere.pk)


def test_memberships_for_user_lists_every_institution_of_the_user_in_one_query(
    django_assert_num_queries,
):
    user = UserFactory()
    for _ in range(3):
        MembershipFactory(user=user)
    with django_assert_num_queries(1):
        names = [m.institution.name for m in selectors.memberships_for_user(user=user)]
    assert len(names) == 3


def test_members_of_institution_loads_users_in_one_query(django_assert_num_queries):
    viewer = MembershipFactory()
    for _ in range(4):
        MembershipFactory(institution=viewer.institution, role=Role.VIEWER)
    with django_assert_num_queries(1):
        emails = [m.user.email for m in selectors.members_of_institution(viewer=viewer)]
    assert len(emails) == 5
