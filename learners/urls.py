from django.urls import path

from learners import views

app_name = "learners"

urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/credentials/<uuid:public_id>/", views.credential_detail, name="credential"),
    path(
        "wallet/credentials/<uuid:public_id>/visibility/",
        views.credential_page_visibility,
        name="credential_visibility",
    ),
    path(
        "wallet/share-links/<uuid:public_id>/revoke/",
        views.share_link_revoke,
        name="share_link_revoke",
    ),
    path("wallet/import/", views.import_new, name="import"),
    path("wallet/imported/<uuid:public_id>/", views.imported_detail, name="imported"),
    path(
        "wallet/imported/<uuid:public_id>/credential.json",
        views.imported_document,
        name="imported_document",
    ),
    path(
        "wallet/imported/<uuid:public_id>/verify/",
        views.imported_reverify,
        name="imported_reverify",
    ),
    path(
        "wallet/imported/<uuid:public_id>/remove/",
        views.imported_remove,
        name="imported_remove",
    ),
    path("wallet/profile/", views.profile_edit, name="profile"),
    path("wallet/privacy/", views.privacy, name="privacy"),
    path("wallet/privacy/export/", views.account_export, name="export"),
    path("wallet/privacy/delete/", views.account_delete, name="delete"),
    path("claim/<str:token>/", views.claim, name="claim"),
    # Public: a share link, and a learner's profile.
    path("s/<str:slug>", views.shared, name="shared"),
    path("p/<slug:slug>", views.profile_public, name="profile_public"),
]
