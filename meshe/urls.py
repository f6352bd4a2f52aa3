from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from meshe import views

handler400 = "meshe.errors.bad_request"
handler403 = "meshe.errors.permission_denied"
handler404 = "meshe.errors.page_not_found"
handler500 = "meshe.errors.server_error"
# Not a Django hook: allauth answers its own rate limits with this view.
handler429 = "meshe.rate_limits.allauth_too_many_requests"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("guide/", views.guide, name="guide_home"),
    path("guide/<slug:slug>/", views.guide, name="guide"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("institutions.urls")),
    path("", include("learners.urls")),
    path("", include("credentials.urls")),
    path("", include("credentials.api.urls")),
    path("", include("credentials.wallet.urls")),
    path("", include("exchange.urls")),
]

if settings.DEBUG:
    urlpatterns.append(
        path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
    )
