from datetime import timedelta

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from institutions import services, tasks
from institutions.exceptions import InstitutionError
from institutions.models import AuditEvent, Invitation, Membership, Role
from tests.conftest import wait_for
from tests.factories import InvitationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_inviting_records_an_event_and_emails_the_link(
    eager_celery, django_capture_on_commit_callbacks
):
    admin = MembershipFactory()
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            actor=admin.user,
            institution=admin.institution,
            email="new@uni.example",
            role=Role.ISSUER,
        )
    assert (
        AuditEvent.objects.filter(action="invitation.sent", institution=admin.institution).count()
        == 1
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@uni.example"]
    assert str(invitation.public_id) in mail.outbox[0].body
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_the_email_waits_for_the_transaction_to_commit(django_capture_on_commit_callbacks):
    admin = MembershipFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.invitation_create(
            actor=admin.user,
            institution=admin.institution,
            email="new@uni.example",
            role=Role.ISSUER,
        )
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_inviting_the_same_address_again_renews_the_open_invitation(eager_celery):
    admin = MembershipFactory()
    first = services.invitation_create(
        actor=admin.user, institution=admin.institution, email="new@uni.example", role=Role.VIEWER
    )
    second = services.invitation_create(
        actor=admin.user, institution=admin.institution, email="NEW@uni.example", role=Role.ISSUER
    )
    assert first.pk == second.pk
    assert Invitation.objects.get().role == Role.ISSUER


def test_inviting_a_current_member_is_refused():
    admin = MembershipFactory()
    colleague = MembershipFactory(institution=admin.institution, role=Role.VIEWER)
    with pytest.raises(InstitutionError, match="already a member"):
        services.invitation_create(
            actor=admin.user,
            institution=admin.institution,
            email=colleague.user.email,
            role=Role.ISSUER,
        )


def test_accepting_makes_the_user_a_member_with_the_invited_role():
    invitation = InvitationFactory(role=Role.ISSUER)
    user = UserFactory(email=invitation.email)
    membership = services.invitation_accept(invitation=invitation, user=user)
    assert membership.role == Role.ISSUER
    assert membership.institution == invitation.institution
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    assert AuditEvent.objects.filter(action="membership.joined").count() == 1


def test_accepting_twice_is_harmless():
    invitation = InvitationFactory()
    user = UserFactory(email=invitation.email)
    first = services.invitation_accept(invitation=invitation, user=user)
    second = services.invitation_accept(invitation=invitation, user=user)
    assert first == second
    assert Membership.objects.count() == 1


def test_an_invitation_cannot_be_used_by_someone_with_another_address():
    invitation = InvitationFactory(email="right@uni.example")
    # The refusal hints at the address without giving it away to whoever holds the link.
    with pytest.raises(InstitutionError, match=r"r•••@uni\.example\. Sign in"):
        services.invitation_accept(
            invitation=invitation, user=UserFactory(email="wrong@uni.example")
        )
    assert Membership.objects.count() == 0


@pytest.mark.date_sensitive
def test_an_expired_invitation_is_refused():
    invitation = InvitationFactory(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(InstitutionError, match="expired"):
        services.invitation_accept(invitation=invitation, user=UserFactory(email=invitation.email))


def test_changing_a_role_is_audited_and_idempotent():
    admin = MembershipFactory()
    colleague = MembershipFactory(institution=admin.institution, role=Role.VIEWER)
    services.membership_change_role(actor=admin.user, membership=colleague, role=Role.ISSUER)
    services.membership_change_role(actor=admin.user, membership=colleague, role=Role.ISSUER)
    colleague.refresh_from_db()
    assert colleague.role == Role.ISSUER
    assert AuditEvent.objects.filter(action="membership.role_changed").count() == 1


def test_the_last_administrator_cannot_step_down_or_be_removed():
    admin = MembershipFactory()
    with pytest.raises(InstitutionError, match="at least one administrator"):
        services.membership_change_role(actor=admin.user, membership=admin, role=Role.VIEWER)
    with pytest.raises(InstitutionError, match="at least one administrator"):
        services.membership_remove(actor=admin.user, membership=admin)
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_an_administrator_can_step_down_when_another_remains():
    admin = MembershipFactory()
    MembershipFactory(institution=admin.institution, role=Role.ADMIN)
    services.membership_change_role(actor=admin.user, membership=admin, role=Role.VIEWER)
    admin.refresh_from_db()
    assert admin.role == Role.VIEWER


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_invitation(celery_worker_process, settings):
    admin = MembershipFactory()
    invitation = services.invitation_create(
        actor=admin.user, institution=admin.institution, email="far@uni.example", role=Role.ISSUER
    )

    def sent() -> bool:
        invitation.refresh_from_db()
        return invitation.sent_at is not None

    assert wait_for(sent), "the worker did not send the invitation"


def test_an_invitation_whose_database_write_fails_is_sent_again_by_the_task(monkeypatch):
    admin = MembershipFactory()
    invitation = InvitationFactory(institution=admin.institution, invited_by=admin.user)
    send = services.invitation_send
    calls: list[int] = []

    def failing_once(*, invitation_id: int) -> None:
        calls.append(invitation_id)
        if len(calls) == 1:
            raise OperationalError("the database went away")
        send(invitation_id=invitation_id)

    monkeypatch.setattr(services, "invitation_send", failing_once)
    result = tasks.send_invitation.apply(args=[invitation.pk])

    assert result.successful() and calls == [invitation.pk, invitation.pk]
    invitation.refresh_from_db()
    assert invitation.sent_at is not None and len(mail.outbox) == 1
