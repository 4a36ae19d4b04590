"""Reference data: police forces, local authority areas, inspectorates and context figures.

All of it is loaded from the open data files in data/reference by `load_reference`; the
admin can correct it, and every correction is audited.
"""

from __future__ import annotations

from django.db import models


class Country(models.TextChoices):
    ENGLAND = "england", "England"
    WALES = "wales", "Wales"


class Force(models.Model):
    """A police force. The 43 territorial forces have a police force area (PFA) code; British
    Transport Police has none."""

    code = models.CharField(
        "ONS police force area code", max_length=9, unique=True, null=True, blank=True
    )
    slug = models.SlugField(max_length=60, unique=True, help_text="data.police.uk force id")
    name = models.CharField(max_length=120, unique=True)
    area_name = models.CharField("police force area name (ONS)", max_length=120, blank=True)
    country = models.CharField(max_length=10, choices=Country.choices)
    territorial = models.BooleanField(default=True)
    population_0_17 = models.PositiveIntegerField("children aged 0 to 17", null=True, blank=True)
    population_all_ages = models.PositiveIntegerField(null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(null=True, blank=True)
    boundary = models.JSONField(
        null=True, blank=True, help_text="GeoJSON geometry of the police force area (WGS84)"
    )
    boundary_map = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text=(
            "The force area map, projected and fitted for an inline SVG: view_box, area (the "
            "SVG path), context (nearby force areas). Worked out from the boundaries by "
            "load_reference, so pages do not project the geometry on every request."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def area_label(self) -> str:
        """The police force area's name in running text: ONS writes "London, City of"."""
        name = self.area_name or self.name
        if ", " in name:
            head, tail = name.split(", ", 1)
            return f"{tail} {head}"
        return name


class LocalAuthority(models.Model):
    """An upper-tier local authority: the children's services authority, and the unit of a
    joint (JTAI or JICPA) inspection."""

    code = models.CharField("ONS upper-tier local authority code", max_length=9, unique=True)
    name = models.CharField(max_length=120)
    name_welsh = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=10, choices=Country.choices)
    la_type = models.CharField("type", max_length=60, blank=True)
    dfe_code = models.CharField("DfE LA code", max_length=3, blank=True)
    region_name = models.CharField(max_length=60, blank=True)
    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="local_authorities")
    population_0_17 = models.PositiveIntegerField("children aged 0 to 17", null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "local authorities"

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """A lower-tier local authority district, for finding an area by its district."""

    code = models.CharField("ONS district code", max_length=9, unique=True)
    name = models.CharField(max_length=120)
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="districts"
    )
    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="districts")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Inspectorate(models.Model):
    class Scope(models.TextChoices):
        ENGLAND_AND_WALES = "england_and_wales", "England and Wales"
        ENGLAND = "england", "England"
        WALES = "wales", "Wales"

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=40)
    scope = models.CharField(max_length=20, choices=Scope.choices)
    is_police_inspectorate = models.BooleanField(default=False)
    website = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContextFigure(models.Model):
    """One published figure about a force or an area, with where it came from."""

    class Measure(models.TextChoices):
        POPULATION_0_17 = "population_0_17", "Children aged 0 to 17"
        CIN_COUNT = "cin_count", "Children in need at 31 March"
        CIN_RATE = "cin_rate", "Children in need per 10,000 children"
        CPP_COUNT = "cpp_count", "Children on a child protection plan at 31 March"
        CPP_RATE = "cpp_rate", "Child protection plans per 10,000 children"

    force = models.ForeignKey(
        Force, null=True, blank=True, on_delete=models.CASCADE, related_name="context_figures"
    )
    local_authority = models.ForeignKey(
        LocalAuthority,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="context_figures",
    )
    measure = models.CharField(max_length=30, choices=Measure.choices)
    period = models.CharField(max_length=20, help_text="e.g. 2025 (year ending 31 March)")
    value = models.DecimalField(max_digits=12, decimal_places=1, null=True, blank=True)
    note = models.CharField(
        max_length=200, blank=True, help_text="e.g. 'suppressed by DfE' when value is empty"
    )
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["measure", "period"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(force__isnull=False, local_authority__isnull=True)
                    | models.Q(force__isnull=True, local_authority__isnull=False)
                ),
                name="context_figure_one_subject",
            ),
            models.UniqueConstraint(
                fields=["force", "measure", "period"],
                condition=models.Q(force__isnull=False),
                name="context_figure_unique_force",
            ),
            models.UniqueConstraint(
                fields=["local_authority", "measure", "period"],
                condition=models.Q(local_authority__isnull=False),
                name="context_figure_unique_area",
            ),
        ]

    def __str__(self) -> str:
        subject = self.force or self.local_authority
        return f"{subject}: {self.get_measure_display()} {self.period} = {self.value}"


class OfstedJudgement(models.Model):
    """An Ofsted inspection of local authority children's services (ILACS), England only."""

    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.CASCADE, related_name="ofsted_judgements"
    )
    inspection_type = models.CharField(max_length=60)
    inspection_date = models.DateField()
    publication_date = models.DateField(null=True, blank=True)
    overall_effectiveness = models.CharField(max_length=60, blank=True)
    impact_of_leaders = models.CharField(max_length=60, blank=True)
    help_and_protection = models.CharField(max_length=60, blank=True)
    children_in_care = models.CharField(max_length=60, blank=True)
    care_leavers = models.CharField(max_length=60, blank=True)
    url = models.URLField(blank=True)
    is_latest = models.BooleanField(
        default=False, help_text="The judgement in force at the source's 'as at' date"
    )

    class Meta:
        ordering = ["-inspection_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["local_authority", "inspection_date", "inspection_type"],
                name="ofsted_judgement_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.local_authority} {self.inspection_date}: {self.overall_effectiveness}"
