from django.urls import path, register_converter

from exchange import catalogue_views, delivery_views, services, views


class PartnerActionConverter:
    """What an admin may do to a partnership; other words fall through to other routes."""

    regex = "|".join(services.LOCAL_TRANSITIONS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PartnerActionConverter, "partner_action")


app_name = "exchange"

urlpatterns = [
    path(".well-known/meshe-node.json", views.node_manifest, name="node_manifest"),
    # Partnerships and node health (exchange.views)
    path("exchange/v1/<slug:slug>/partnership", views.partnership_receive, name="partnership"),
    path("exchange/v1/<slug:slug>/echo", views.echo_receive, name="echo"),
    path("staff/<slug:slug>/partners/", views.partner_list, name="partners"),
    path("staff/<slug:slug>/partners/discover/", views.partner_discover, name="partner_discover"),
    path("staff/<slug:slug>/partners/<uuid:public_id>/", views.partner_detail, name="partner"),
    path(
        "staff/<slug:slug>/partners/<uuid:public_id>/check/",
        views.partner_check,
        name="partner_check",
    ),
    path(
        "staff/<slug:slug>/partners/<uuid:public_id>/<partner_action:action>/",
        views.partner_change,
        name="partner_change",
    ),
    # Catalogue feed, sync and partner offers (exchange.catalogue_views)
    path("exchange/v1/<slug:slug>/catalogue", catalogue_views.feed, name="catalogue"),
    path("staff/<slug:slug>/partner-offers/", catalogue_views.offer_list, name="partner_offers"),
    path(
        "staff/<slug:slug>/partner-offers/<uuid:public_id>/adopt/",
        catalogue_views.offer_adopt,
        name="partner_offer_adopt",
    ),
    path(
        "staff/<slug:slug>/partner-offers/<uuid:public_id>/stop-adopting/",
        catalogue_views.offer_unadopt,
        name="partner_offer_unadopt",
    ),
    path(
        "staff/<slug:slug>/partners/elm-feed/",
        catalogue_views.elm_partner_add,
        name="elm_partner_add",
    ),
    path(
        "staff/<slug:slug>/partner-offers/<uuid:public_id>/endorse/",
        catalogue_views.offer_endorse,
        name="partner_offer_endorse",
    ),
    path(
        "staff/<slug:slug>/partner-offers/<uuid:public_id>/endorsements/<uuid:endorsement_id>/revoke/",
        catalogue_views.offer_endorsement_revoke,
        name="partner_offer_endorsement_revoke",
    ),
    path(
        "staff/<slug:slug>/partners/<uuid:public_id>/sync/",
        catalogue_views.sync,
        name="partner_sync",
    ),
    path(
        "catalogue/partner/<uuid:public_id>/",
        catalogue_views.offer_public,
        name="partner_offer_public",
    ),
    # Deliveries, incoming credentials and notices (exchange.delivery_views)
    path("exchange/v1/<slug:slug>/inbox", delivery_views.inbox_receive, name="inbox"),
    path("exchange/v1/<slug:slug>/notices", delivery_views.notices_receive, name="notices"),
    path("staff/<slug:slug>/deliveries/", delivery_views.deliveries_list, name="deliveries"),
    path(
        "staff/<slug:slug>/deliveries/send/",
        delivery_views.deliveries_send,
        name="deliveries_send",
    ),
    path(
        "staff/<slug:slug>/deliveries/<uuid:public_id>/retry/",
        delivery_views.delivery_retry,
        name="delivery_retry",
    ),
    path("staff/<slug:slug>/incoming/", delivery_views.incoming_list, name="incoming"),
    path(
        "staff/<slug:slug>/incoming/<uuid:public_id>/",
        delivery_views.incoming_detail,
        name="incoming_detail",
    ),
    path(
        "staff/<slug:slug>/incoming/<uuid:public_id>/recheck/",
        delivery_views.incoming_recheck,
        name="incoming_recheck",
    ),
    path(
        "wallet/credentials/<uuid:public_id>/recognition/",
        delivery_views.recognition,
        name="recognition",
    ),
]
