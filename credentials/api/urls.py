from django.urls import path, re_path

from credentials.api import views as api

app_name = "api"

urlpatterns = [
    path("api/v1/openapi.json", api.openapi_document, name="openapi"),
    path("api/v1/credentials", api.credentials_collection, name="credentials"),
    path("api/v1/credentials/batch", api.credential_issue_batch, name="credentials_batch"),
    path("api/v1/credentials/<uuid:public_id>", api.credential_detail, name="credential"),
    path(
        "api/v1/credentials/<uuid:public_id>/revoke",
        api.credential_status_change,
        {"action": "revoke"},
        name="credential_revoke",
    ),
    path(
        "api/v1/credentials/<uuid:public_id>/suspend",
        api.credential_status_change,
        {"action": "suspend"},
        name="credential_suspend",
    ),
    path(
        "api/v1/credentials/<uuid:public_id>/reinstate",
        api.credential_status_change,
        {"action": "reinstate"},
        name="credential_reinstate",
    ),
    path("vc-api/credentials/issue", api.vc_api_issue, name="vc_issue"),
    path("vc-api/credentials/verify", api.vc_api_verify_credential, name="vc_verify"),
    path("vc-api/presentations/verify", api.vc_api_verify_presentation, name="vc_verify_vp"),
    path("vc-api/credentials/status", api.vc_api_status, name="vc_status"),
    # Anything else under the API prefixes is a JSON 404, never the HTML error page, whatever
    # the path holds (line breaks too). This module is included after credentials.urls, which
    # serves /api/v1/verify and the ESCO look-up.
    re_path(r"^(?:api/v1|vc-api)/(?P<rest>[\s\S]*)\Z", api.not_found, name="not_found"),
]
