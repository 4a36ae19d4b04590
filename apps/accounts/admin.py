from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.core.admin_audit import AuditedModelAdmin

from .models import Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(AuditedModelAdmin):
    list_display = ("name", "kind", "force", "local_authority", "inspectorate")
    list_filter = ("kind",)
    search_fields = ("name",)
    autocomplete_fields = ("force", "local_authority", "inspectorate")


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    audit_exclude = ("password", "last_login")
    list_display = ("username", "full_name", "email", "role", "organisation", "is_active")
    list_filter = ("role", "is_active", "organisation__kind")
    search_fields = ("username", "full_name", "email")
    ordering = ("full_name",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("full_name", "email", "organisation", "role")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "full_name",
                    "email",
                    "organisation",
                    "role",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
