from django.contrib import admin
from django.utils.html import format_html, format_html_join

from .loaders import COMPARABLE_LABELS
from .models import MethodologyVersion


@admin.register(MethodologyVersion)
class MethodologyVersionAdmin(admin.ModelAdmin):
    """Read-only: methodologies are data files, changed by loading a new version."""

    list_display = ("code", "title", "valid_from", "valid_to", "grades_cases", "area_count")
    fields = (
        "code",
        "title",
        "programme_types",
        "valid_from",
        "valid_to",
        "grade_scale",
        "mapping",
        "mapping_note",
        "areas",
        "criteria",
        "source_file",
        "source_sha256",
    )
    readonly_fields = ("mapping", "mapping_note", "areas", "criteria")

    @admin.display(boolean=True, description="Grades cases")
    def grades_cases(self, obj: MethodologyVersion) -> bool:
        return obj.grades_cases

    @admin.display(description="Audit areas")
    def area_count(self, obj: MethodologyVersion) -> int:
        return len(obj.audit_areas)

    @admin.display(description="Grades on the common scale")
    def mapping(self, obj: MethodologyVersion) -> str:
        return format_html_join(
            "",
            "<div>{} &rarr; {}</div>",
            (
                (grade, COMPARABLE_LABELS.get(obj.comparable(grade) or "", "(not mapped)"))
                for grade in obj.grade_scale
            ),
        )

    @admin.display(description="How the grades map")
    def mapping_note(self, obj: MethodologyVersion) -> str:
        return obj.mapping_note

    @admin.display(description="Audit areas (stages)")
    def areas(self, obj: MethodologyVersion) -> str:
        return format_html_join(
            "",
            "<div><strong>{}</strong>: {}</div>",
            ((area["name"], ", ".join(area["stages"])) for area in obj.audit_areas),
        )

    @admin.display(description="Stages and criteria")
    def criteria(self, obj: MethodologyVersion) -> str:
        return format_html_join(
            "",
            "<div><strong>{}</strong>{}<ul>{}</ul></div>",
            (
                (
                    stage["name"],
                    "" if stage["case_level"] else " (not assessed from case files)",
                    format_html_join(
                        "", "<li>{}: {}</li>", ((c["code"], c["text"]) for c in stage["criteria"])
                    ),
                )
                for stage in obj.stages
            ),
        ) or format_html("{}", "-")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
