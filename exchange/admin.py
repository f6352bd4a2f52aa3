from django.contrib import admin

from exchange.models import Partner


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "did", "base_url", "status", "confirmed_at")
    list_filter = ("status",)
    search_fields = ("name", "did", "base_url")
