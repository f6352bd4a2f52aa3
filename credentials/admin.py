from django.contrib import admin

from credentials.models import (
    CredentialEvent,
    IssuedCredential,
    MicroCredential,
    MicroCredentialVersion,
    StatusList,
)


@admin.register(MicroCredential)
class MicroCredentialAdmin(admin.ModelAdmin):
    list_display = ("title", "institution", "status", "ects", "updated_at")
    list_filter = ("status", "institution")
    search_fields = ("title", "description")
    readonly_fields = ("public_id",)


@admin.register(MicroCredentialVersion)
class MicroCredentialVersionAdmin(admin.ModelAdmin):
    list_display = ("micro_credential", "number", "created_at")
    readonly_fields = ("micro_credential", "number", "snapshot", "created_at", "created_by")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


class CredentialEventInline(admin.TabularInline):
    model = CredentialEvent
    extra = 0
    can_delete = False
    readonly_fields = ("action", "actor", "reason_code", "reason", "created_at")

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(IssuedCredential)
class IssuedCredentialAdmin(admin.ModelAdmin):
    list_display = ("holder_name", "holder_email", "version", "institution", "status", "issued_at")
    list_filter = ("status", "institution")
    search_fields = ("holder_name", "holder_email", "public_id")
    inlines = (CredentialEventInline,)
    # Status changes go through the staff pages, which re-sign the status lists and audit.
    readonly_fields = [field.name for field in IssuedCredential._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(StatusList)
class StatusListAdmin(admin.ModelAdmin):
    list_display = ("institution", "purpose", "number", "allocated_count", "size", "updated_at")
    list_filter = ("purpose", "institution")
    exclude = ("bits", "allocated")
    readonly_fields = (
        "institution",
        "purpose",
        "number",
        "size",
        "allocated_count",
        "document",
        "etag",
    )
