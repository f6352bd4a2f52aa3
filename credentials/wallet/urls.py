from django.urls import path

from credentials.wallet import views

app_name = "wallet_issuance"

urlpatterns = [
    # The metadata is found by inserting the well-known segment between host and path.
    path(
        ".well-known/openid-credential-issuer/institutions/<slug:slug>",
        views.issuer_metadata,
        name="issuer_metadata",
    ),
    path(
        ".well-known/oauth-authorization-server/institutions/<slug:slug>",
        views.authorization_server_metadata,
        name="authorization_server_metadata",
    ),
    # Where wallets of the drafts look: the well-known segment appended to the issuer's URL.
    # Same documents; any other well-known name there answers a JSON 404, which they can read.
    path(
        "institutions/<slug:slug>/.well-known/openid-credential-issuer",
        views.issuer_metadata,
        name="issuer_metadata_appended",
    ),
    path(
        "institutions/<slug:slug>/.well-known/oauth-authorization-server",
        views.authorization_server_metadata,
        name="authorization_server_metadata_appended",
    ),
    path(
        "institutions/<slug:slug>/.well-known/<path:name>",
        views.well_known_not_served,
        name="well_known_not_served",
    ),
    path("institutions/<slug:slug>/oid4vci/token", views.token, name="token"),
    path("institutions/<slug:slug>/oid4vci/nonce", views.nonce, name="nonce"),
    path("institutions/<slug:slug>/oid4vci/credential", views.credential, name="credential"),
    path(
        "institutions/<slug:slug>/token-status/<int:number>",
        views.token_status_list,
        name="token_status_list",
    ),
    path("sd-jwt-vc/types/eu-micro-credential/v1", views.type_metadata, name="type_metadata"),
    path(
        "wallet/credentials/<uuid:public_id>/add-to-wallet/",
        views.offer_create,
        name="offer_create",
    ),
    path(
        "wallet/credentials/<uuid:public_id>/add-to-wallet/<uuid:offer_id>/",
        views.offer,
        name="offer",
    ),
]
