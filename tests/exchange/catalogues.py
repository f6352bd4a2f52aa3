"""Catalogues for the exchange tests: a partner's offers as a sync leaves them, and
specifications published with their first version."""

from django.utils import timezone

from credentials import documents
from credentials.models import MicroCredential, MicroCredentialVersion
from exchange import catalogue_feed, catalogue_sync
from exchange.models import Partner, PartnerOffer, PartnerStatus
from tests.factories import InstitutionFactory, MicroCredentialFactory


def partner_of(institution, *, name="Polytechnic of Porto", country="PT", did=None, **fields):
    return Partner.objects.create(
        institution=institution,
        base_url="https://porto.example",
        did=did or "did:web:porto.example:institutions:ipp",
        name=name,
        country=country,
        status=fields.pop("status", PartnerStatus.CONFIRMED),
        **fields,
    )


def offer_of(partner, *, withdrawn=False, **spec_fields) -> PartnerOffer:
    """A partner offer made the way a sync makes it: from a real feed item, parsed strictly."""
    # It lives on the partner's node, so it is built here, never saved.
    remote = MicroCredentialFactory.build(
        institution=InstitutionFactory.build(slug="ipp"), updated_at=timezone.now(), **spec_fields
    )
    version = MicroCredentialVersion(
        micro_credential=remote, number=1, snapshot=documents.specification_snapshot(remote)
    )
    item = catalogue_sync.specification_feed_item(remote, version)
    item["id"] = f"https://porto.example/catalogue/{remote.public_id}/"
    item["status"] = "withdrawn" if withdrawn else "published"
    body = catalogue_feed.page_body(items=[item], next_url=None, watermark=item["modified"])
    parsed = catalogue_feed.parse_page(body).items[0]
    return PartnerOffer.objects.create(
        partner=partner,
        remote_id=parsed.remote_id,
        document=parsed.document,
        title=parsed.title,
        language=parsed.language,
        ects=parsed.ects,
        eqf_level=parsed.eqf_level,
        isced_field=parsed.isced_field,
        participation=parsed.participation,
        modified_at=parsed.modified,
        withdrawn_at=parsed.modified if withdrawn else None,
    )


def publish(institution, **fields) -> MicroCredential:
    spec = MicroCredentialFactory(institution=institution, **fields)
    if spec.status != MicroCredential.Status.DRAFT:
        MicroCredentialVersion.objects.create(
            micro_credential=spec, number=1, snapshot=documents.specification_snapshot(spec)
        )
    return spec
