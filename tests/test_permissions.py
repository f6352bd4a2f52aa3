"""Every staff page and action, for each role, for staff of another institution and for
anonymous visitors. Outsiders learn nothing (404); members without the role get 403."""

from dataclasses import dataclass

import pytest
from django.urls import reverse

from credentials import services
from institutions.models import Role
from tests.credentials.test_services import issue
from tests.factories import MembershipFactory, MicroCredentialFactory

pytestmark = pytest.mark.django_db

ADMIN, ISSUER, VIEWER = Role.ADMIN, Role.ISSUER, Role.VIEWER
RANK = {VIEWER: 0, ISSUER: 1, ADMIN: 2}


@dataclass(frozen=True)
class Door:
    name: str
    method: str
    needs: str  # the least role that may pass
    kwargs: tuple[str, ...] = ()  # which objects the URL names, besides the slug


DOORS = [
    Door("institutions:detail", "get", VIEWER),
    Door("institutions:members", "get", ADMIN),
    Door("institutions:member_role", "post", ADMIN, ("membership",)),
    Door("institutions:member_remove", "post", ADMIN, ("membership",)),
    Door("institutions:key_rotate", "post", ADMIN),
    Door("credentials:micro_credentials", "get", VIEWER),
    Door("credentials:micro_credential_new", "get", ISSUER),
    Door("credentials:micro_credential", "get", VIEWER, ("micro_credential",)),
    Door("credentials:micro_credential_edit", "get", ISSUER, ("micro_credential",)),
    Door("credentials:micro_credential_status", "post", ISSUER, ("micro_credential", "status")),
    Door("credentials:staff_list", "get", VIEWER),
    Door("credentials:status_bulk", "post", ISSUER),
    Door("credentials:issue", "get", ISSUER),
    Door("credentials:bulk_upload", "get", ISSUER),
    Door("credentials:bulk_template", "get", VIEWER, ("kind",)),
    Door("credentials:staff_detail", "get", VIEWER, ("credential",)),
    Door("credentials:status_change", "post", ISSUER, ("credential", "action")),
    Door("credentials:resend_claim", "post", ISSUER, ("credential",)),
    Door("credentials:dashboard", "get", VIEWER),
]


@pytest.fixture
def scene():
    """An institution with one member per role, a specification and a credential."""
    admin = MembershipFactory(role=ADMIN)
    institution = admin.institution
    members = {
        ADMIN: admin,
        ISSUER: MembershipFactory(institution=institution, role=ISSUER),
        VIEWER: MembershipFactory(institution=institution, role=VIEWER),
    }
    micro_credential = MicroCredentialFactory(institution=institution)
    credential = issue(micro_credential)
    return members, micro_credential, credential


def url_for(door: Door, members, micro_credential, credential) -> str:
    kwargs: dict[str, object] = {"slug": micro_credential.institution.slug}
    values = {
        "membership": ("membership_id", members[VIEWER].pk),
        "micro_credential": ("public_id", micro_credential.public_id),
        "credential": ("public_id", credential.public_id),
        "status": ("status", "retired"),
        "action": ("action", "suspend"),
        "kind": ("kind", "csv"),
    }
    for name in door.kwargs:
        key, value = values[name]
        kwargs[key] = value
    return reverse(door.name, kwargs=kwargs)


@pytest.mark.parametrize("door", DOORS, ids=[door.name for door in DOORS])
@pytest.mark.parametrize("who", ["admin", "issuer", "viewer", "outsider", "anonymous"])
def test_every_staff_door_admits_only_who_it_should(client, scene, door, who):
    members, micro_credential, credential = scene
    url = url_for(door, members, micro_credential, credential)
    if who == "outsider":
        client.force_login(MembershipFactory(role=ADMIN).user)
    elif who != "anonymous":
        client.force_login(members[who].user)
    response = getattr(client, door.method)(url)
    if who == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    elif who == "outsider":
        assert response.status_code == 404
    elif RANK[who] < RANK[door.needs]:
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            assert not response.url.startswith(reverse("account_login"))


def test_the_bulk_job_pages_follow_the_same_rules(client, scene):
    members, micro_credential, _credential = scene
    job = services.bulk_job_create(
        actor=members[ISSUER].user,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        filename="r.csv",
        content=b"name,email,awarded_date\nAna,ana2@example.eu,2026-01-01\n",
    )
    slug = micro_credential.institution.slug
    for name in ("credentials:bulk_job", "credentials:bulk_progress", "credentials:bulk_report"):
        url = reverse(name, kwargs={"slug": slug, "public_id": job.public_id})
        client.force_login(members[VIEWER].user)
        assert client.get(url).status_code == 200
        client.force_login(MembershipFactory().user)
        assert client.get(url).status_code == 404
    client.force_login(members[VIEWER].user)
    start = reverse("credentials:bulk_job", kwargs={"slug": slug, "public_id": job.public_id})
    assert client.post(start).status_code == 403
