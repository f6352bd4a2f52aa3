"""Security-relevant actions land in the audit log, which administrators read and download."""

import csv
import io
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from credentials.issuing import services as credential_services
from institutions.models import AuditEvent, Role
from learners.models import LearnerEvent
from meshe.csv_cells import safe_cell
from tests.factories import PASSWORD, MembershipFactory, MicroCredentialFactory, UserFactory, issue

pytestmark = pytest.mark.django_db


def actions(institution, prefix: str = "") -> list[str]:
    return list(
        AuditEvent.objects.filter(institution=institution, action__startswith=prefix)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def learner_actions(user) -> list[str]:
    return list(LearnerEvent.objects.filter(user=user).values_list("action", flat=True))


def sign_in(client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


# ---------------------------------------------------------------- what is recorded


def test_a_staff_sign_in_is_audited_at_each_of_their_institutions(client):
    first = MembershipFactory()
    second = MembershipFactory(user=first.user, role=Role.VIEWER)
    assert sign_in(client, first.user.email, PASSWORD).status_code == 302
    for membership in (first, second):
        event = AuditEvent.objects.get(
            institution=membership.institution, action="account.signed_in"
        )
        assert event.actor == first.user
        assert event.detail == {"email": first.user.email, "ip": "127.0.0.1"}
    assert learner_actions(first.user) == ["signed_in"]


def test_a_learners_security_events_go_to_their_own_account_history(client):
    learner = UserFactory()
    sign_in(client, learner.email, "wrong")
    sign_in(client, learner.email, PASSWORD)
    assert learner_actions(learner) == ["sign_in_failed", "signed_in"]
    assert not AuditEvent.objects.filter(action__startswith="account.").exists()


def test_a_failed_staff_sign_in_is_audited_without_the_password(client):
    membership = MembershipFactory()
    sign_in(client, membership.user.email.upper(), "Wrong-Password-1")
    event = AuditEvent.objects.get(action="account.sign_in_failed")
    assert event.institution == membership.institution
    assert event.detail["factor"] == "password"
    assert "Wrong-Password-1" not in str(event.detail)


def test_guesses_at_unknown_addresses_record_nothing(client):
    sign_in(client, "nobody@example.eu", "guess")
    assert not LearnerEvent.objects.exists()
    assert not AuditEvent.objects.exists()


def test_second_factor_changes_are_audited(client):
    membership = MembershipFactory()
    authenticator = Authenticator.objects.create(
        user=membership.user, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.4")
    for signal in (authenticator_added, authenticator_removed):
        signal.send(
            sender=Authenticator, request=request, user=membership.user, authenticator=authenticator
        )
    events = AuditEvent.objects.filter(action="account.mfa_changed").order_by("pk")
    assert [(e.detail["change"], e.detail["type"]) for e in events] == [
        ("added", "totp"),
        ("removed", "totp"),
    ]
    assert events[0].detail["ip"] == "192.0.2.4"
    assert learner_actions(membership.user) == ["mfa_changed", "mfa_changed"]


def test_a_password_change_is_audited(logged_in):
    membership = MembershipFactory()
    client = logged_in(membership.user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "An0ther-long-passphrase",
            "password2": "An0ther-long-passphrase",
        },
    )
    assert response.status_code == 302
    assert actions(membership.institution, "account.password") == ["account.password_changed"]


def test_a_role_change_and_a_key_rotation_are_audited(logged_in):
    admin = MembershipFactory()
    colleague = MembershipFactory(institution=admin.institution, role=Role.VIEWER)
    client = logged_in(admin.user)
    client.post(
        reverse(
            "institutions:member_role",
            kwargs={"slug": admin.institution.slug, "membership_id": colleague.pk},
        ),
        {"role": Role.ISSUER},
    )
    client.post(reverse("institutions:key_rotate", kwargs={"slug": admin.institution.slug}))
    assert "membership.role_changed" in actions(admin.institution)
    assert "signing_key.rotated" in actions(admin.institution)


def test_issuing_and_revoking_are_audited_with_the_credential():
    admin = MembershipFactory()
    micro_credential = MicroCredentialFactory(institution=admin.institution)
    credential = issue(micro_credential, actor=admin.user)
    credential_services.credential_suspend(credential=credential, actor=admin.user, reason="Check")
    credential_services.credential_revoke(credential=credential, actor=admin.user, reason="Fraud")
    credential_services.credential_revoke(credential=credential, actor=admin.user, reason="Again")
    events = AuditEvent.objects.filter(action__startswith="credential.").order_by("pk")
    assert [e.action for e in events] == [
        "credential.issued",
        "credential.suspended",
        "credential.revoked",
    ]
    assert {e.detail["credential"] for e in events} == {str(credential.public_id)}
    assert events[2].detail["reason"] == "Fraud"
    assert all(e.actor == admin.user for e in events)


# ---------------------------------------------------------------- the page and the download


def audit_url(institution, **query) -> str:
    path = reverse("institutions:audit", kwargs={"slug": institution.slug})
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_only_administrators_read_the_audit_log(logged_in):
    admin = MembershipFactory()
    issuer = MembershipFactory(institution=admin.institution, role=Role.ISSUER)
    outsider = MembershipFactory()
    assert logged_in(admin.user).get(audit_url(admin.institution)).status_code == 200
    for path in (
        audit_url(admin.institution),
        reverse("institutions:audit_csv", kwargs={"slug": admin.institution.slug}),
    ):
        assert logged_in(issuer.user).get(path).status_code == 403
        assert logged_in(outsider.user).get(path).status_code == 404


@pytest.mark.date_sensitive
def test_the_audit_log_filters_by_action_and_days(logged_in, time_machine):
    admin = MembershipFactory()
    institution = admin.institution
    time_machine.move_to(timezone.now() - timedelta(days=10))
    old = AuditEvent.objects.create(institution=institution, action="partner.agreed")
    time_machine.move_to(timezone.now() + timedelta(days=10))
    AuditEvent.objects.create(institution=institution, action="partner.requested")
    AuditEvent.objects.create(institution=institution, action="delivery.created")
    AuditEvent.objects.create(institution=MembershipFactory().institution, action="partner.x")
    client = logged_in(admin.user)

    page = client.get(audit_url(institution, action="partner."))
    assert [e.action for e in page.context["events"]] == ["partner.requested", "partner.agreed"]

    day = timezone.localdate(old.created_at).isoformat()
    page = client.get(audit_url(institution, since=day, until=day))
    assert [e.action for e in page.context["events"]] == ["partner.agreed"]

    backwards = client.get(audit_url(institution, since="2030-01-02", until="2030-01-01"))
    assert backwards.status_code == 400
    assert "The first day is after the last." in backwards.text


def test_the_audit_log_pages_in_a_fixed_number_of_queries(logged_in, django_assert_max_num_queries):
    admin = MembershipFactory()
    client = logged_in(admin.user)
    AuditEvent.objects.bulk_create(
        AuditEvent(institution=admin.institution, actor=UserFactory(), action="x.y")
        for _ in range(60)
    )
    with django_assert_max_num_queries(8):
        first = client.get(audit_url(admin.institution))
    with django_assert_max_num_queries(8):
        second = client.get(audit_url(admin.institution, page=2))
    assert len(first.context["events"]) == 50
    assert second.context["page"].number == 2
    assert "Older" in first.text


def test_the_download_holds_the_filtered_events_with_formulas_defused(logged_in):
    admin = MembershipFactory()
    sneaky = UserFactory(email="=1+2@example.org")
    AuditEvent.objects.create(
        institution=admin.institution, actor=sneaky, action="partner.agreed", detail={"a": "b"}
    )
    AuditEvent.objects.create(institution=admin.institution, action="delivery.created")
    response = logged_in(admin.user).get(
        reverse("institutions:audit_csv", kwargs={"slug": admin.institution.slug})
        + "?action=partner."
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('-audit.csv"')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["time", "action", "actor", "detail"]
    assert [row[1:] for row in rows[1:]] == [["partner.agreed", "'=1+2@example.org", '{"a": "b"}']]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_that_spreadsheets_would_run_are_quoted(value, cell):
    assert safe_cell(value) == cell


def test_admins_find_the_audit_log_from_the_institution_page(logged_in):
    admin = MembershipFactory()
    page = logged_in(admin.user).get(
        reverse("institutions:detail", kwargs={"slug": admin.institution.slug})
    )
    assert audit_url(admin.institution) in page.text
