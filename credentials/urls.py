from django.urls import path

from credentials.catalogue import views as catalogue_views
from credentials.issuing import views
from credentials.staff import views as staff_views

app_name = "credentials"

urlpatterns = [
    path("verify", views.verify_page, name="verify"),
    path("catalogue/", catalogue_views.catalogue, name="catalogue"),
    path("catalogue/compare/", catalogue_views.compare, name="compare"),
    path("catalogue/<uuid:public_id>/", catalogue_views.offer, name="offer"),
    path("catalogue/<uuid:public_id>/elm.jsonld", catalogue_views.offer_elm, name="offer_elm"),
    path("catalogue/elm/", catalogue_views.elm_feed_page, name="elm_feed"),
    path("api/v1/verify", views.verify_api, name="verify_api"),
    path("api/v1/esco/skills", staff_views.esco_skills, name="esco_skills"),
    path("status/<slug:slug>/<str:purpose>/<int:number>", views.status_list, name="status_list"),
    path("credentials/<uuid:public_id>", views.public_credential, name="public"),
    path("credentials/<uuid:public_id>.json", views.credential_document, name="document"),
    path("credentials/<uuid:public_id>/edc.json", views.credential_edc, name="edc"),
    path(
        "credentials/<uuid:public_id>/certificate.pdf",
        views.credential_certificate,
        name="certificate",
    ),
    path(
        "micro-credentials/<uuid:public_id>/versions/<int:number>",
        catalogue_views.specification_version,
        name="specification_version",
    ),
    path(
        "micro-credentials/<uuid:public_id>/versions/<int:number>/badge.svg",
        views.specification_badge,
        name="specification_badge",
    ),
    path(
        "staff/<slug:slug>/micro-credentials/",
        staff_views.micro_credential_list,
        name="micro_credentials",
    ),
    path(
        "staff/<slug:slug>/micro-credentials/new/",
        staff_views.micro_credential_edit,
        name="micro_credential_new",
    ),
    path(
        "staff/<slug:slug>/micro-credentials/<uuid:public_id>/",
        staff_views.micro_credential_detail,
        name="micro_credential",
    ),
    path(
        "staff/<slug:slug>/micro-credentials/<uuid:public_id>/edit/",
        staff_views.micro_credential_edit,
        name="micro_credential_edit",
    ),
    path(
        "staff/<slug:slug>/micro-credentials/<uuid:public_id>/publish/",
        staff_views.micro_credential_publish,
        name="micro_credential_publish",
    ),
    path(
        "staff/<slug:slug>/micro-credentials/<uuid:public_id>/endorsements/record/",
        staff_views.micro_credential_endorsement_record,
        name="micro_credential_endorsement_record",
    ),
    path(
        "staff/<slug:slug>/micro-credentials/<uuid:public_id>/<str:status>/",
        staff_views.micro_credential_status,
        name="micro_credential_status",
    ),
    # Pathways
    path("staff/<slug:slug>/pathways/", staff_views.pathway_list, name="pathways"),
    path("staff/<slug:slug>/pathways/new/", staff_views.pathway_edit, name="pathway_new"),
    path(
        "staff/<slug:slug>/pathways/<uuid:public_id>/", staff_views.pathway_detail, name="pathway"
    ),
    path(
        "staff/<slug:slug>/pathways/<uuid:public_id>/edit/",
        staff_views.pathway_edit,
        name="pathway_edit",
    ),
    path(
        "staff/<slug:slug>/pathways/<uuid:public_id>/components/",
        staff_views.pathway_component_add,
        name="pathway_component_add",
    ),
    path(
        "staff/<slug:slug>/pathways/<uuid:public_id>/components/<uuid:component_id>/remove/",
        staff_views.pathway_component_remove,
        name="pathway_component_remove",
    ),
    path(
        "staff/<slug:slug>/pathways/<uuid:public_id>/learners/",
        staff_views.pathway_learners,
        name="pathway_learners",
    ),
    path(
        "staff/<slug:slug>/pathways/<uuid:public_id>/learners/issue/",
        staff_views.pathway_award_issue,
        name="pathway_award_issue",
    ),
    path(
        "staff/<slug:slug>/pathways/<uuid:public_id>/status/<str:status>/",
        staff_views.pathway_status,
        name="pathway_status",
    ),
    path("staff/<slug:slug>/dashboard/", staff_views.dashboard, name="dashboard"),
    path("staff/<slug:slug>/credentials/", staff_views.credential_list, name="staff_list"),
    path("staff/<slug:slug>/credentials/bulk/", staff_views.bulk_upload, name="bulk_upload"),
    path(
        "staff/<slug:slug>/credentials/status/",
        staff_views.credentials_status_bulk,
        name="status_bulk",
    ),
    path(
        "staff/<slug:slug>/credentials/bulk/template.<str:kind>",
        staff_views.bulk_template,
        name="bulk_template",
    ),
    path(
        "staff/<slug:slug>/credentials/bulk/<uuid:public_id>/",
        staff_views.bulk_job,
        name="bulk_job",
    ),
    path(
        "staff/<slug:slug>/credentials/bulk/<uuid:public_id>/progress.json",
        staff_views.bulk_job_progress,
        name="bulk_progress",
    ),
    path(
        "staff/<slug:slug>/credentials/bulk/<uuid:public_id>/report.csv",
        staff_views.bulk_job_report,
        name="bulk_report",
    ),
    path("staff/<slug:slug>/credentials/issue/", staff_views.credential_issue, name="issue"),
    path(
        "staff/<slug:slug>/credentials/api/<uuid:public_id>/",
        staff_views.api_credential_detail,
        name="staff_api_detail",
    ),
    path(
        "staff/<slug:slug>/credentials/api/<uuid:public_id>/<str:action>/",
        staff_views.api_credential_status_change,
        name="api_status_change",
    ),
    path(
        "staff/<slug:slug>/credentials/<uuid:public_id>/",
        staff_views.credential_staff_detail,
        name="staff_detail",
    ),
    path(
        "staff/<slug:slug>/credentials/<uuid:public_id>/resend-claim/",
        staff_views.credential_resend_claim,
        name="resend_claim",
    ),
    path(
        "staff/<slug:slug>/credentials/<uuid:public_id>/<str:action>/",
        staff_views.credential_status_change,
        name="status_change",
    ),
    # Badge images: the signed credential baked into a picture (Open Badges 3.0 baking).
    path(
        "credentials/<uuid:public_id>/badge.png",
        views.credential_badge_png,
        name="badge_png",
    ),
    path(
        "credentials/<uuid:public_id>/badge.svg",
        views.credential_badge_svg,
        name="badge_svg",
    ),
]
