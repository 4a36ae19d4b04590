from django.contrib import admin

from .models import MethodologyVersion


@admin.register(MethodologyVersion)
class MethodologyVersionAdmin(admin.ModelAdmin):
    """Read-only: methodologies are data files, changed by loading a new version."""

    list_display = ("code", "title", "valid_from", "valid_to")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
