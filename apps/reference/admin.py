"""Admin for the reference data. Reference data comes from `load_reference`; the admin is for
corrections, and every save and delete made here is audited (see apps/core/admin_audit.py)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin_audit import AuditedModelAdmin

from .models import ContextFigure, District, Force, Inspectorate, LocalAuthority, OfstedJudgement


class AuditedAdmin(AuditedModelAdmin):
    data_kind = "reference"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Inspectorate)
class InspectorateAdmin(AuditedAdmin):
    list_display = ("name", "short_name", "code", "scope", "is_police_inspectorate")
    list_filter = ("scope", "is_police_inspectorate")
    search_fields = ("name", "short_name", "code")


@admin.register(Force)
class ForceAdmin(AuditedAdmin):
    list_display = ("name", "code", "slug", "country", "territorial", "population_0_17")
    list_filter = ("country", "territorial")
    search_fields = ("name", "area_name", "code", "slug")
    # The boundary is large and comes from the boundary file; load_reference keeps it and the
    # map worked out from it up to date.
    exclude = ("boundary",)
    readonly_fields = ("boundary_points",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Force]:
        # The list does not need the geometry (several hundred kilobytes for all forces).
        return super().get_queryset(request).defer("boundary", "boundary_map")

    @admin.display(description="Boundary")
    def boundary_points(self, obj: Force) -> str:
        if not obj.boundary:
            return "No boundary (no police force area)"
        rings = obj.boundary["coordinates"]
        if obj.boundary["type"] == "Polygon":
            rings = [rings]
        points = sum(len(ring) for polygon in rings for ring in polygon)
        return f"{obj.boundary['type']} with {points:,} points, from the boundary file"


@admin.register(LocalAuthority)
class LocalAuthorityAdmin(AuditedAdmin):
    list_display = ("name", "code", "country", "force", "la_type", "dfe_code", "population_0_17")
    list_filter = ("country", "la_type", "force")
    list_select_related = ("force",)
    search_fields = ("name", "name_welsh", "code", "dfe_code")
    autocomplete_fields = ("force",)


@admin.register(District)
class DistrictAdmin(AuditedAdmin):
    list_display = ("name", "code", "local_authority", "force")
    list_select_related = ("local_authority", "force")
    search_fields = ("name", "code", "local_authority__name")
    autocomplete_fields = ("local_authority", "force")


@admin.register(ContextFigure)
class ContextFigureAdmin(AuditedAdmin):
    list_display = ("subject", "measure", "period", "value", "note")
    list_filter = ("measure", "period")
    list_select_related = ("force", "local_authority")
    search_fields = ("force__name", "local_authority__name", "local_authority__code", "period")
    autocomplete_fields = ("force", "local_authority")

    @admin.display(description="Force or area")
    def subject(self, obj: ContextFigure) -> str:
        return str(obj.force or obj.local_authority)


@admin.register(OfstedJudgement)
class OfstedJudgementAdmin(AuditedAdmin):
    list_display = (
        "local_authority",
        "inspection_date",
        "inspection_type",
        "overall_effectiveness",
        "is_latest",
    )
    list_filter = ("is_latest", "inspection_type", "overall_effectiveness")
    list_select_related = ("local_authority",)
    search_fields = ("local_authority__name", "local_authority__code")
    autocomplete_fields = ("local_authority",)
    date_hierarchy = "inspection_date"
