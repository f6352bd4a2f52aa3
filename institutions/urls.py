from django.urls import path

from institutions import views

app_name = "institutions"

urlpatterns = [
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/<slug:slug>/", views.institution_detail, name="detail"),
    path("staff/<slug:slug>/members/", views.member_list, name="members"),
    path(
        "staff/<slug:slug>/members/<int:membership_id>/role/",
        views.member_change_role,
        name="member_role",
    ),
    path(
        "staff/<slug:slug>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("staff/<slug:slug>/keys/rotate/", views.signing_key_rotate, name="key_rotate"),
    path("staff/<slug:slug>/e-seal/", views.e_seal_page, name="e_seal"),
    path("staff/<slug:slug>/e-seal/remove/", views.e_seal_remove, name="e_seal_remove"),
    path("staff/<slug:slug>/output/", views.output_set, name="output_set"),
    path("staff/<slug:slug>/audit/", views.audit_log, name="audit"),
    path("staff/<slug:slug>/audit/export.csv", views.audit_log_csv, name="audit_csv"),
    path("staff/<slug:slug>/api-tokens/", views.api_token_list, name="api_tokens"),
    path(
        "staff/<slug:slug>/api-tokens/<uuid:public_id>/revoke/",
        views.api_token_revoke,
        name="api_token_revoke",
    ),
    path("institutions/<slug:slug>/", views.public_profile, name="public"),
    path("institutions/<slug:slug>/did.json", views.did_document, name="did_document"),
    path("invitations/<uuid:public_id>/", views.invitation_accept, name="invitation_accept"),
]
