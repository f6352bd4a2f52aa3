from django.contrib import admin
from django.http import HttpRequest

from learners.models import ImportedCredential, LearnerEvent, PublicProfile, ShareLink


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("credential", "owner", "label", "created_at", "expires_at", "revoked_at")
    list_select_related = ("credential__version__micro_credential", "owner")
    # The slug is the secret a link gives away; administrators see it but never edit it.
    readonly_fields = ("public_id", "slug", "credential", "owner", "view_count", "created_at")
    search_fields = ("owner__email", "label")


@admin.register(ImportedCredential)
class ImportedCredentialAdmin(admin.ModelAdmin):
    list_display = ("title", "issuer_name", "format", "owner", "verified_at", "created_at")
    list_select_related = ("owner",)
    list_filter = ("format",)
    # Stored verbatim as the learner gave it: nothing here may change it.
    readonly_fields = [field.name for field in ImportedCredential._meta.fields]
    search_fields = ("owner__email", "title", "issuer_name")


@admin.register(PublicProfile)
class PublicProfileAdmin(admin.ModelAdmin):
    list_display = ("slug", "user", "is_public", "updated_at")
    list_select_related = ("user",)
    raw_id_fields = ("user", "credentials")
    search_fields = ("slug", "user__email")


@admin.register(LearnerEvent)
class LearnerEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "action", "subject")
    list_select_related = ("user",)
    list_filter = ("action",)
    readonly_fields = ("created_at", "user", "action", "subject")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # append-only: only services write it

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
