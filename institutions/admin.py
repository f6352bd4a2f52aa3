from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from institutions import publications, services
from institutions.models import AuditEvent, Institution, Invitation, Membership
from meshe.plain_text import validate_one_line_text


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


class InstitutionAdminForm(forms.ModelForm):
    """The name is signed into every credential as the issuer's: plain text on one line."""

    class Meta:
        model = Institution
        fields = ("name",)  # the admin adds the others it shows

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        validate_one_line_text(name)
        return name


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    form = InstitutionAdminForm
    list_display = ("name", "slug", "country", "schac_code", "erasmus_code", "require_mfa")
    list_filter = ("country", "require_mfa")
    search_fields = ("name", "slug", "schac_code", "erasmus_code", "pic")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)

    def save_model(self, request: HttpRequest, obj: Institution, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            # Its name (and slug, hence DID) may have changed: verifiers read them again.
            publications.changed()
        else:
            # A new institution needs its first signing key before it can issue anything.
            services.signing_key_rotate(actor=request.user, institution=obj)  # type: ignore[arg-type]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "institution", "role", "created_at")
    list_filter = ("role", "institution")
    search_fields = ("user__email", "user__name", "institution__name")
    autocomplete_fields = ("user", "institution")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "institution", "role", "created_at", "expires_at", "accepted_at")
    list_filter = ("role", "institution")
    search_fields = ("email",)
    readonly_fields = ("public_id", "sent_at", "accepted_at", "accepted_by")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "institution", "actor", "action")
    list_filter = ("action", "institution")
    readonly_fields = ("institution", "actor", "action", "detail", "created_at")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
