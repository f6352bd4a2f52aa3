"""Who may open every page and endpoint, generated from the URL conf.

Every named URL pattern of the portal (walked recursively from the root URL conf) must have an
entry in DOORS, so a new view without one fails test_every_url_has_an_entry. Each entry says how
to fill the URL's arguments from one small world, which methods to try, and what each of ten
actors gets:

    anonymous      nobody signed in
    learner        L, who holds a credential from institution A
    other_learner  M, who holds one from institution B
    a_viewer, a_issuer, a_admin   A's staff, one per role
    b_viewer, b_issuer, b_admin   B's staff, one per role, at A's addresses
    b_admin_own    B's admin at B's own address (its slug) naming A's objects: the probe for
                   a view that finds an object without asking whose it is

Every URL names A's slug and A's (or L's) objects, so B's staff are outsiders: 404, never 403,
so that they learn nothing. The answers are 200 (or what a passing request really gets: 202,
302 after a POST, 400 for an empty form), LOGIN (302 to the login page), 403 or 404; signed
exchange endpoints answer 401 (a problem document) to anyone without an RFC 9421 signature, and
the issuer API and the VC-API's issue and status answer 401 to anyone without an API token: a
browser session is no credential there. test_api_tokens_reach_only_their_institution checks the
token doors themselves.

POST bodies are empty or harmless; each cell runs in a transaction that is rolled back, so a
passing POST (a key rotation, a removed member) does not leak into the next cell. The world is
built once per module inside an outer transaction, also rolled back.
"""

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from credentials.catalogue import pathway_services
from credentials.issuing import services as credential_services
from credentials.models import MicroCredential, Pathway
from credentials.wallet import issuance as wallet_issuance
from exchange import deliveries
from exchange import messages as exchange_messages
from exchange.models import Partner
from institutions import services as institution_services
from institutions.models import ApiScope, Role, SigningKey
from learners import services as learner_services
from meshe.celery import app as celery_app
from tests.exchange.catalogues import offer_of
from tests.exchange.partners import partner_row
from tests.factories import (
    InstitutionFactory,
    InvitationFactory,
    MembershipFactory,
    MicroCredentialFactory,
    UserFactory,
)
from tests.learners.holding import ImportedCredentialFactory, held_credential

# What the matrix leaves out, and why: in one place. The top-level prefixes of meshe/urls.py.
SKIPPED_PREFIXES = {
    # django-allauth's own sign-in, sign-up, e-mail, password and MFA pages: the library's
    # doors, tested by it; the portal's part (rate limits, MFA for staff) has its own tests.
    "accounts/": "django-allauth",
    # Django's admin site: staff-only by Django's own is_staff check, tested by Django.
    "admin/": "django.contrib.admin",
}

ANONYMOUS = "anonymous"
LEARNER = "learner"
OTHER_LEARNER = "other_learner"
A_VIEWER, A_ISSUER, A_ADMIN = "a_viewer", "a_issuer", "a_admin"
B_VIEWER, B_ISSUER, B_ADMIN = "b_viewer", "b_issuer", "b_admin"
B_ADMIN_OWN = "b_admin_own"
ACTORS = (
    ANONYMOUS,
    LEARNER,
    OTHER_LEARNER,
    A_VIEWER,
    A_ISSUER,
    A_ADMIN,
    B_VIEWER,
    B_ISSUER,
    B_ADMIN,
    B_ADMIN_OWN,
)
A_STAFF = {Role.VIEWER: A_VIEWER, Role.ISSUER: A_ISSUER, Role.ADMIN: A_ADMIN}
RANK = {Role.VIEWER: 0, Role.ISSUER: 1, Role.ADMIN: 2}

LOGIN = "302 to login"
MD5_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"

Expect = Mapping[str, int | str]


# The expectations, by kind of door ----------------------------------------------------------


def everyone(status: int) -> Expect:
    """A public door: the same answer for all."""
    return dict.fromkeys(ACTORS, status)


def signed_in(status: int) -> Expect:
    """Any account; anonymous visitors go to the login page."""
    return {**everyone(status), ANONYMOUS: LOGIN}


def holder(status: int) -> Expect:
    """The learner's own things: L passes, everyone else signed in gets 404."""
    return {**everyone(404), ANONYMOUS: LOGIN, LEARNER: status}


def staff(least: Role, status: int, *, own_page: int | None = None) -> Expect:
    """A page or action of institution A for `least` and above: 403 to A's staff below it,
    404 to everyone else. `own_page` is what B's admin gets at B's own address, for a door
    that names no object of A's; for one that does, it is 404."""
    expect = {**everyone(404), ANONYMOUS: LOGIN}
    for role, actor in A_STAFF.items():
        expect[actor] = status if RANK[role] >= RANK[least] else 403
    expect[B_ADMIN_OWN] = own_page if own_page is not None else 404
    return expect


def page(least: Role, status: int = 200) -> Expect:
    """A staff page naming only the institution: B's admin sees B's own."""
    return staff(least, status, own_page=status)


VIEWER, ISSUER, ADMIN = Role.VIEWER, Role.ISSUER, Role.ADMIN


# The table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Door:
    """One method on one URL and what each actor gets."""

    method: str
    expect: Expect
    data: Callable[["World"], dict[str, Any]] | None = None
    query: str = ""


@dataclass(frozen=True)
class Entry:
    """A URL name: how to fill its arguments from the world (argument → world key), and its
    doors."""

    kwargs: Mapping[str, str]
    doors: tuple[Door, ...]
    session: Callable[["World"], dict[str, str]] | None = None
    path: str = ""  # for a pattern reverse() cannot build


def get(expect: Expect, **fields: Any) -> Door:
    return Door("get", expect, **fields)


def post(expect: Expect, **fields: Any) -> Door:
    return Door("post", expect, **fields)


def entry(
    *doors: Door,
    session: Callable[["World"], dict[str, str]] | None = None,
    path: str = "",
    **kwargs: str,
) -> Entry:
    return Entry(kwargs=kwargs, doors=doors, session=session, path=path)


UNSIGNED = everyone(401)  # signed exchange endpoints: 401 problem without a signature
NO_TOKEN = everyone(401)  # token-authenticated API: 401 without a token, session or not

DOORS: dict[str, Entry] = {
    # meshe ------------------------------------------------------------------------------------
    "home": entry(get(everyone(200))),
    "dashboard": entry(get(signed_in(302))),  # staff to their institutions, learners to wallet
    "guide_home": entry(get(everyone(200))),
    "guide": entry(get(everyone(200)), slug="guide"),
    "set_language": entry(post(everyone(302), data=lambda w: {"language": "en"})),
    # institutions -----------------------------------------------------------------------------
    "institutions:staff_home": entry(get(signed_in(200))),  # lists one's own memberships only
    "institutions:detail": entry(get(page(VIEWER)), slug="a"),
    "institutions:members": entry(get(page(ADMIN)), post(page(ADMIN)), slug="a"),
    "institutions:member_role": entry(
        post(staff(ADMIN, 302)), slug="a", membership_id="membership"
    ),
    "institutions:member_remove": entry(
        post(staff(ADMIN, 302)), slug="a", membership_id="membership"
    ),
    "institutions:key_rotate": entry(post(page(ADMIN, 302)), slug="a"),
    "institutions:output_set": entry(post(page(ADMIN, 302)), slug="a"),
    # An empty upload re-renders the form; an empty removal is refused (no reason, no tick).
    "institutions:e_seal": entry(get(page(ADMIN)), post(page(ADMIN)), slug="a"),
    "institutions:e_seal_remove": entry(post(page(ADMIN, 400)), slug="a"),
    "institutions:audit": entry(get(page(ADMIN)), slug="a"),
    "institutions:audit_csv": entry(get(page(ADMIN)), slug="a"),
    "institutions:api_tokens": entry(get(page(ADMIN)), post(page(ADMIN)), slug="a"),
    "institutions:api_token_revoke": entry(
        post(staff(ADMIN, 302)), slug="a", public_id="api_token"
    ),
    "institutions:public": entry(get(everyone(200)), slug="a"),
    "institutions:did_document": entry(get(everyone(200)), slug="a"),
    # Anyone holding the link may see whom it is for; accepting checks the address.
    "institutions:invitation_accept": entry(get(signed_in(200)), public_id="invitation"),
    # learners ---------------------------------------------------------------------------------
    "learners:wallet": entry(get(signed_in(200))),
    "learners:credential": entry(get(holder(200)), post(holder(200)), public_id="credential"),
    "learners:credential_visibility": entry(post(holder(302)), public_id="credential"),
    "learners:share_link_revoke": entry(
        get(holder(200)), post(holder(302)), public_id="share_link"
    ),
    "learners:import": entry(get(signed_in(200)), post(signed_in(400))),
    "learners:imported": entry(get(holder(200)), public_id="imported"),
    "learners:imported_document": entry(get(holder(200)), public_id="imported"),
    "learners:imported_reverify": entry(post(holder(302)), public_id="imported"),
    "learners:imported_remove": entry(post(holder(302)), public_id="imported"),
    "learners:profile": entry(get(signed_in(200))),
    "learners:privacy": entry(get(signed_in(200))),
    "learners:export": entry(post(signed_in(200))),  # each account downloads its own data
    "learners:delete": entry(
        get(signed_in(200)), post(signed_in(200))
    ),  # an empty POST is an unbound form
    # A link that is not (or no longer) current says so to anyone and names nothing; an open
    # one sends a visitor to sign in first (tests/learners/test_claim.py).
    "learners:claim": entry(get(everyone(200)), token="claim_token"),
    "learners:shared": entry(get(everyone(200)), slug="share_slug"),
    "learners:profile_public": entry(get(everyone(200)), slug="profile_slug"),
    # credentials: public -----------------------------------------------------------------------
    "credentials:verify": entry(get(everyone(200))),
    "credentials:catalogue": entry(get(everyone(200))),
    "credentials:compare": entry(get(everyone(200))),
    "credentials:offer": entry(get(everyone(200)), public_id="micro_credential"),
    "credentials:offer_elm": entry(get(everyone(200)), public_id="micro_credential"),
    "credentials:elm_feed": entry(get(everyone(200))),
    "credentials:verify_api": entry(post(everyone(200))),  # {"verified": false, ...}
    "credentials:status_list": entry(
        get(everyone(200)), slug="a", purpose="status_purpose", number="status_number"
    ),
    # The credential's own unguessable address is the capability (see docs/security.md).
    "credentials:public": entry(get(everyone(200)), public_id="credential"),
    "credentials:document": entry(get(everyone(200)), public_id="credential"),
    "credentials:edc": entry(get(everyone(200)), public_id="credential"),
    "credentials:certificate": entry(get(everyone(202)), public_id="credential"),  # rendering
    "credentials:badge_png": entry(get(everyone(200)), public_id="credential"),
    "credentials:badge_svg": entry(get(everyone(200)), public_id="credential"),
    "credentials:specification_version": entry(
        get(everyone(200)), public_id="micro_credential", number="version"
    ),
    "credentials:specification_badge": entry(
        get(everyone(200)), public_id="micro_credential", number="version"
    ),
    # Signed-in only (staff_required without an institution): ESCO is public data.
    "credentials:esco_skills": entry(
        get({**signed_in(200), LEARNER: 403, OTHER_LEARNER: 403}, query="q=data")
    ),
    # credentials: staff -------------------------------------------------------------------------
    "credentials:micro_credentials": entry(get(page(VIEWER)), slug="a"),
    "credentials:micro_credential_new": entry(get(page(ISSUER)), slug="a"),
    "credentials:micro_credential": entry(
        get(staff(VIEWER, 200)), slug="a", public_id="micro_credential"
    ),
    "credentials:micro_credential_edit": entry(
        get(staff(ISSUER, 200)), slug="a", public_id="micro_credential"
    ),
    # The preview before publishing: of a draft, so the page itself answers.
    "credentials:micro_credential_publish": entry(
        get(staff(ISSUER, 200)), slug="a", public_id="draft_micro_credential"
    ),
    # Recording an endorsement from outside MESHE: admins only; an empty form answers itself.
    "credentials:micro_credential_endorsement_record": entry(
        get(staff(ADMIN, 200)), post(staff(ADMIN, 200)), slug="a", public_id="micro_credential"
    ),
    "credentials:micro_credential_status": entry(
        post(staff(ISSUER, 302)), slug="a", public_id="micro_credential", status="mc_status"
    ),
    "credentials:pathways": entry(get(page(VIEWER)), slug="a"),
    "credentials:pathway_new": entry(get(page(ISSUER)), slug="a"),
    "credentials:pathway": entry(get(staff(VIEWER, 200)), slug="a", public_id="pathway"),
    "credentials:pathway_edit": entry(get(staff(ISSUER, 200)), slug="a", public_id="pathway"),
    "credentials:pathway_component_add": entry(
        post(staff(ISSUER, 400)), slug="a", public_id="pathway"
    ),
    "credentials:pathway_component_remove": entry(
        post(staff(ISSUER, 302)), slug="a", public_id="pathway", component_id="component"
    ),
    "credentials:pathway_learners": entry(get(staff(VIEWER, 200)), slug="a", public_id="pathway"),
    "credentials:pathway_award_issue": entry(
        post(staff(ISSUER, 302), data=lambda w: {"learner": w["learner_email"]}),
        slug="a",
        public_id="pathway",
    ),
    "credentials:pathway_status": entry(
        post(staff(ISSUER, 302)), slug="a", public_id="pathway", status="pathway_status"
    ),
    "credentials:dashboard": entry(get(page(VIEWER)), slug="a"),
    "credentials:staff_list": entry(get(page(VIEWER)), slug="a"),
    "credentials:bulk_upload": entry(get(page(ISSUER)), slug="a"),
    # The selection leads to the confirmation page (200); B's admin names A's credential at
    # B's address: the selector keeps B's only (none), so back to the list (302).
    "credentials:status_bulk": entry(
        post(
            staff(ISSUER, 200, own_page=302),
            data=lambda w: {"credentials": [w["credential"]], "action": "suspend"},
        ),
        slug="a",
    ),
    "credentials:bulk_template": entry(get(page(VIEWER)), slug="a", kind="kind"),
    "credentials:bulk_job": entry(
        get(staff(VIEWER, 200)), post(staff(ISSUER, 302)), slug="a", public_id="bulk_job"
    ),
    "credentials:bulk_progress": entry(get(staff(VIEWER, 200)), slug="a", public_id="bulk_job"),
    "credentials:bulk_report": entry(get(staff(VIEWER, 200)), slug="a", public_id="bulk_job"),
    "credentials:issue": entry(get(page(ISSUER)), slug="a"),
    "credentials:staff_detail": entry(get(staff(VIEWER, 200)), slug="a", public_id="credential"),
    "credentials:resend_claim": entry(post(staff(ISSUER, 302)), slug="a", public_id="credential"),
    # The confirmation page; an empty POST is refused with the form's errors.
    "credentials:status_change": entry(
        get(staff(ISSUER, 200)),
        post(staff(ISSUER, 400)),
        slug="a",
        public_id="credential",
        action="action",
    ),
    "credentials:staff_api_detail": entry(
        get(staff(VIEWER, 200)), slug="a", public_id="api_credential"
    ),
    # The same confirmation page for a credential signed through the VC-API.
    "credentials:api_status_change": entry(
        get(staff(ISSUER, 200)),
        post(staff(ISSUER, 400)),
        slug="a",
        public_id="api_credential",
        action="action",
    ),
    # api: tokens only ---------------------------------------------------------------------------
    "api:openapi": entry(get(everyone(200))),
    "api:credentials": entry(get(NO_TOKEN), post(NO_TOKEN)),
    "api:credentials_batch": entry(post(NO_TOKEN)),
    "api:credential": entry(get(NO_TOKEN), public_id="credential"),
    "api:credential_revoke": entry(post(NO_TOKEN), public_id="credential"),
    "api:credential_suspend": entry(post(NO_TOKEN), public_id="credential"),
    "api:credential_reinstate": entry(post(NO_TOKEN), public_id="credential"),
    "api:vc_issue": entry(post(NO_TOKEN)),
    "api:vc_verify": entry(post(everyone(400))),  # public; an empty body is not a credential
    "api:vc_verify_vp": entry(post(everyone(400))),
    "api:vc_status": entry(post(NO_TOKEN)),
    "api:not_found": entry(get(everyone(404)), path="/api/v1/nothing/here"),
    # wallet_issuance: OID4VCI ---------------------------------------------------------------------
    "wallet_issuance:issuer_metadata": entry(get(everyone(200)), slug="a"),
    "wallet_issuance:authorization_server_metadata": entry(get(everyone(200)), slug="a"),
    "wallet_issuance:issuer_metadata_appended": entry(get(everyone(200)), slug="a"),
    "wallet_issuance:authorization_server_metadata_appended": entry(get(everyone(200)), slug="a"),
    "wallet_issuance:well_known_not_served": entry(  # a JSON 404 for draft clients' probes
        get(everyone(404)), slug="a", name="well_known_name"
    ),
    "wallet_issuance:token": entry(post(everyone(400)), slug="a"),  # no pre-authorised code
    "wallet_issuance:nonce": entry(post(everyone(200)), slug="a"),
    "wallet_issuance:credential": entry(post(everyone(401)), slug="a"),  # no access token
    "wallet_issuance:token_status_list": entry(
        get(everyone(200)), slug="a", number="token_status_number"
    ),
    "wallet_issuance:type_metadata": entry(get(everyone(200))),
    "wallet_issuance:offer_create": entry(post(holder(302)), public_id="credential"),
    "wallet_issuance:offer": entry(
        get(holder(200)),
        session=lambda w: {f"wallet_offer:{w['wallet_offer']}": w["wallet_offer_uri"]},
        public_id="credential",
        offer_id="wallet_offer",
    ),
    # exchange ------------------------------------------------------------------------------------
    "exchange:node_manifest": entry(get(everyone(200))),
    "exchange:partnership": entry(post(UNSIGNED), slug="a"),
    "exchange:echo": entry(post(UNSIGNED), slug="a"),
    "exchange:catalogue": entry(get(UNSIGNED), slug="a"),
    "exchange:inbox": entry(post(UNSIGNED), slug="a"),
    "exchange:notices": entry(post(UNSIGNED), slug="a"),
    "exchange:partners": entry(get(page(VIEWER)), slug="a"),
    "exchange:partner_discover": entry(get(page(ADMIN)), slug="a"),
    "exchange:elm_partner_add": entry(get(page(ADMIN)), post(page(ADMIN)), slug="a"),
    "exchange:partner": entry(get(staff(VIEWER, 200)), slug="a", public_id="partner"),
    "exchange:partner_check": entry(post(staff(ISSUER, 302)), slug="a", public_id="partner"),
    "exchange:partner_change": entry(
        post(staff(ADMIN, 302)), slug="a", public_id="partner", action="partner_action"
    ),
    "exchange:partner_offers": entry(get(page(VIEWER)), slug="a"),
    "exchange:partner_offer_adopt": entry(
        get(staff(ISSUER, 200)), slug="a", public_id="partner_offer"
    ),
    "exchange:partner_offer_unadopt": entry(
        post(staff(ISSUER, 302)), slug="a", public_id="partner_offer"
    ),
    # Signing an endorsement, or revoking one: an empty form answers itself.
    "exchange:partner_offer_endorse": entry(
        get(staff(ISSUER, 200)), post(staff(ISSUER, 200)), slug="a", public_id="partner_offer"
    ),
    "exchange:partner_offer_endorsement_revoke": entry(
        get(staff(ISSUER, 200)),
        post(staff(ISSUER, 200)),
        slug="a",
        public_id="partner_offer",
        endorsement_id="endorsement",
    ),
    "exchange:partner_sync": entry(
        get(staff(VIEWER, 200)), post(staff(ISSUER, 302)), slug="a", public_id="partner"
    ),
    "exchange:partner_offer_public": entry(get(everyone(200)), public_id="partner_offer"),
    "exchange:deliveries": entry(get(page(VIEWER)), slug="a"),
    "exchange:deliveries_send": entry(get(page(ISSUER)), slug="a"),
    "exchange:delivery_retry": entry(post(staff(ISSUER, 302)), slug="a", public_id="delivery"),
    "exchange:incoming": entry(get(page(VIEWER)), slug="a"),
    "exchange:incoming_detail": entry(
        get(staff(VIEWER, 200)), post(staff(ISSUER, 200)), slug="a", public_id="incoming"
    ),
    "exchange:incoming_recheck": entry(post(staff(ISSUER, 302)), slug="a", public_id="incoming"),
    "exchange:recognition": entry(get(holder(200)), public_id="credential"),
}


# The URL conf --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str | None
    route: str


def _walk(patterns: list[Any], prefix: str, namespace: tuple[str, ...]) -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            route = prefix + str(pattern.pattern)
            if not prefix and str(pattern.pattern) in SKIPPED_PREFIXES:
                continue
            inner = namespace + ((pattern.namespace,) if pattern.namespace else ())
            yield from _walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = ":".join((*namespace, pattern.name)) if pattern.name else None
            yield Route(name=name, route=prefix + str(pattern.pattern))


def routes() -> list[Route]:
    """Every URL pattern of the portal outside SKIPPED_PREFIXES."""
    return list(_walk(get_resolver().url_patterns, "", ()))


def test_every_url_has_an_entry():
    names = {route.name for route in routes()}
    missing = sorted(name for name in names if name is not None and name not in DOORS)
    assert not missing, f"add these URL names to DOORS: {missing}"


def test_every_url_has_a_name():
    unnamed = [route.route for route in routes() if route.name is None]
    assert not unnamed, f"name these URL patterns, then add them to DOORS: {unnamed}"


def test_every_entry_is_a_url():
    names = {route.name for route in routes()}
    assert not sorted(set(DOORS) - names), "DOORS names URLs that no longer exist"


def test_every_entry_says_what_each_actor_gets():
    for name, item in DOORS.items():
        for door in item.doors:
            assert set(door.expect) == set(ACTORS), name


def test_what_is_skipped_is_only_the_libraries_own_urls():
    top = {str(pattern.pattern) for pattern in get_resolver().url_patterns}
    assert set(SKIPPED_PREFIXES) <= top


# The world -------------------------------------------------------------------------------------


class World(dict[str, Any]):
    """Values to fill URLs with, by key, the users behind the actors and their sessions."""

    users: dict[str, Any]
    sessions: dict[str, str]


def build_world() -> World:
    """The small world every door names; tests/browser/test_every_page_fits_a_phone.py walks
    it too."""
    world = World()
    uni_a = InstitutionFactory(slug="matrix-a", name="University A")
    uni_b = InstitutionFactory(slug="matrix-b", name="University B")
    members = {
        (uni, role): MembershipFactory(institution=uni, role=role)
        for uni in (uni_a, uni_b)
        for role in (Role.VIEWER, Role.ISSUER, Role.ADMIN)
    }
    learner = UserFactory(email="learner-l@example.eu")
    other = UserFactory(email="learner-m@example.eu")
    world.users = {
        LEARNER: learner,
        OTHER_LEARNER: other,
        A_VIEWER: members[uni_a, Role.VIEWER].user,
        A_ISSUER: members[uni_a, Role.ISSUER].user,
        A_ADMIN: members[uni_a, Role.ADMIN].user,
        B_VIEWER: members[uni_b, Role.VIEWER].user,
        B_ISSUER: members[uni_b, Role.ISSUER].user,
        B_ADMIN: members[uni_b, Role.ADMIN].user,
        B_ADMIN_OWN: members[uni_b, Role.ADMIN].user,
    }
    a_admin = members[uni_a, Role.ADMIN].user

    spec = MicroCredentialFactory(institution=uni_a, title="Data Literacy")
    draft_spec = MicroCredentialFactory(
        institution=uni_a, title="Data Ethics", status=MicroCredential.Status.DRAFT
    )
    credential = held_credential(learner, spec)
    other_credential = held_credential(other, MicroCredentialFactory(institution=uni_b))

    link = learner_services.share_link_create(user=learner, credential=credential)
    profile = learner_services.profile_save(
        user=learner, is_public=True, slug="learner-l", credentials=[credential]
    )
    imported = ImportedCredentialFactory(owner=learner)

    pathway = pathway_services.pathway_save(
        actor=None,
        institution=uni_a,
        title="Data pathway",
        rule=Pathway.Rule.ALL_OF,
        awards=MicroCredentialFactory(institution=uni_a, title="Master of Data"),
    )
    component = pathway_services.pathway_component_add(
        actor=None, pathway=pathway, micro_credential=spec
    )
    job = credential_services.bulk_job_create(
        actor=a_admin,
        institution=uni_a,
        micro_credential=spec,
        filename="learners.csv",
        content=b"name,email,awarded_date\nJo,jo@example.eu,2026-01-01\n",
    )
    token, token_text = institution_services.api_token_create(
        actor=a_admin, institution=uni_a, name="SIS", scopes=list(ApiScope.values)
    )
    api_credential = credential_services.api_credential_sign(
        token=token,
        credential={
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": uni_a.did,
            "credentialSubject": {"id": "did:example:matrix"},
        },
        credential_id="",
        with_status=True,
    )
    a_to_b: Partner = partner_row(uni_a, uni_b)
    partner_row(uni_b, uni_a)
    partner_offer = offer_of(a_to_b, title="Machine Learning")
    endorsement = credential_services.endorsement_issue(
        actor=None,
        institution=uni_a,
        subject_id=partner_offer.remote_id,
        subject_name=partner_offer.title,
        comment="Recognised for 5 ECTS",
    )
    delivery = deliveries.delivery_create(
        credential=credential, partner=a_to_b, actor=None, by_learner=True, note=""
    )
    incoming, _created = deliveries.incoming_receive(
        partner=a_to_b,
        message=exchange_messages.inbox_message_parse(
            (json.dumps({"credential": json.loads(other_credential.document), "note": ""})).encode()
        ),
    )
    offer = wallet_issuance.wallet_offer_create(user=learner, credential=credential)
    # Token Status Lists are made by the first SD-JWT VC; the matrix needs one to exist.
    # It locks the institution's row, which PostgreSQL allows only inside a transaction (the
    # phone walk builds this world outside the test's own).
    with transaction.atomic():
        token_status, _index = wallet_issuance._allocate_token_status(uni_a)
        wallet_issuance._allocate_token_status(uni_b)

    # Signed in once: each cell presents the session cookie (its changes are rolled back).
    world.sessions = {}
    for actor, user in world.users.items():
        client = Client()
        client.force_login(user)
        world.sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
    world.update(
        a=uni_a.slug,
        b=uni_b.slug,
        guide="faq",
        well_known_name="openid-configuration",
        learner_email=learner.email,
        credential=str(credential.public_id),
        micro_credential=str(spec.public_id),
        draft_micro_credential=str(draft_spec.public_id),
        version=credential.version.number,
        status_purpose=credential.revocation_list.purpose,
        status_number=credential.revocation_list.number,
        token_status_number=token_status.number,
        membership=members[uni_a, Role.VIEWER].pk,
        api_token=str(token.public_id),
        token_text=token_text,
        other_credential=str(other_credential.public_id),
        api_credential=str(api_credential.public_id),
        invitation=str(InvitationFactory(institution=uni_a).public_id),
        share_link=str(link.public_id),
        share_slug=link.slug,
        profile_slug=profile.slug,
        imported=str(imported.public_id),
        claim_token="a-claim-link-token",
        pathway=str(pathway.public_id),
        component=str(component.public_id),
        pathway_status=Pathway.Status.PUBLISHED,
        mc_status="retired",
        action="suspend",
        kind="csv",
        bulk_job=str(job.public_id),
        partner=str(a_to_b.public_id),
        partner_action="suspend",
        partner_offer=str(partner_offer.public_id),
        endorsement=str(endorsement.public_id),
        delivery=str(delivery.public_id),
        incoming=str(incoming.public_id),
        wallet_offer=str(offer.offer.public_id),
        wallet_offer_uri=offer.uri,
    )
    return world


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once, in a transaction rolled back after the module; each cell runs in a savepoint
    of it (pytest-django's django_db), rolled back after the cell."""
    with django_db_blocker.unblock(), transaction.atomic():
        # As the suite's autouse fixtures do for each test: fast hashing, tasks run inline.
        with override_settings(PASSWORD_HASHERS=[MD5_HASHER]):
            celery_app.conf.task_always_eager = True
            try:
                world = build_world()
            finally:
                celery_app.conf.task_always_eager = False
        yield world
        transaction.set_rollback(True)


# The cells --------------------------------------------------------------------------------------


def _cells() -> Iterator[Any]:
    for name, item in DOORS.items():
        for door in item.doors:
            for actor in ACTORS:
                yield pytest.param(name, door, actor, id=f"{name}-{door.method.upper()}-{actor}")


def door_url(name: str, item: Entry, world: World, actor: str) -> str:
    if item.path:
        return item.path
    kwargs = {argument: world[key] for argument, key in item.kwargs.items()}
    if actor == B_ADMIN_OWN and item.kwargs.get("slug") == "a":
        kwargs["slug"] = world["b"]
    return reverse(name, kwargs=kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "door", "actor"), list(_cells()))
def test_each_actor_gets_the_expected_answer(world: World, name: str, door: Door, actor: str):
    item = DOORS[name]
    client = Client()
    if actor != ANONYMOUS:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor]
    if item.session is not None:
        session = client.session
        session.update(item.session(world))
        session.save()
    url = door_url(name, item, world, actor)
    if door.query:
        url += "?" + door.query
    data = door.data(world) if door.data else {}
    response = (
        getattr(client, door.method)(url, data) if data else getattr(client, door.method)(url)
    )
    expected = door.expect[actor]
    if expected == LOGIN:
        assert response.status_code == 302, (url, response.status_code)
        assert response.url.startswith(reverse("account_login")), response.url
    else:
        assert response.status_code == expected, (url, response.status_code)
        if expected == 302:
            assert not response.url.startswith(reverse("account_login")), response.url


# The API's own credential: a token, and only its institution's credentials --------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "name", "whose", "status"),
    [
        ("get", "api:credential", "credential", 200),
        ("get", "api:credential", "other_credential", 404),
        ("post", "api:credential_suspend", "credential", 200),
        ("post", "api:credential_suspend", "other_credential", 404),
        ("post", "api:credential_revoke", "other_credential", 404),
    ],
)
def test_api_tokens_reach_only_their_institution(world, method, name, whose, status):
    client = Client()
    url = reverse(name, kwargs={"public_id": world[whose]})
    response = getattr(client, method)(
        url,
        **({"data": {}, "content_type": "application/json"} if method == "post" else {}),
        headers={"Authorization": f"Bearer {world['token_text']}"},
    )
    assert response.status_code == status


@pytest.mark.django_db
def test_a_signed_in_form_post_without_the_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[A_ADMIN]
    keys = SigningKey.objects.filter(institution__slug=world["a"]).count()
    response = client.post(reverse("institutions:key_rotate", kwargs={"slug": world["a"]}))
    assert response.status_code == 403
    assert SigningKey.objects.filter(institution__slug=world["a"]).count() == keys
