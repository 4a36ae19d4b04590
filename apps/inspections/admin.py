from django.contrib import admin

from .models import Inspection


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    """Read-only here: inspections change through the service's own pages, whose rules
    (lifecycle, team, optimistic locking) the admin would bypass."""

    list_display = ("reference", "title", "programme_type", "state", "fieldwork_start")
    list_filter = ("programme_type", "state")
    search_fields = ("reference", "title")
    exclude = ("confidential_notes",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
