"""Organisations, people and their roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models


class Organisation(models.Model):
    class Kind(models.TextChoices):
        INSPECTORATE = "inspectorate", "Inspectorate"
        PARTNER_INSPECTORATE = "partner_inspectorate", "Partner inspectorate"
        FORCE = "force", "Police force"
        LOCAL_AUTHORITY = "local_authority", "Local authority"
        NATIONAL_BODY = "national_body", "National body"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    inspectorate = models.ForeignKey(
        "reference.Inspectorate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisations",
    )
    force = models.ForeignKey(
        "reference.Force",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisations",
    )
    local_authority = models.ForeignKey(
        "reference.LocalAuthority",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisations",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="force") | models.Q(force__isnull=False),
                name="organisation_force_has_force",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="local_authority")
                | models.Q(local_authority__isnull=False),
                name="organisation_la_has_la",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["inspectorate", "partner_inspectorate"])
                | models.Q(inspectorate__isnull=False),
                name="organisation_inspectorate_has_inspectorate",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.FORCE and not self.force_id:
            raise ValidationError({"force": "A police force organisation must name its force."})
        if self.kind == self.Kind.LOCAL_AUTHORITY and not self.local_authority_id:
            raise ValidationError(
                {"local_authority": "A local authority organisation must name its authority."}
            )
        if self.kind in (self.Kind.INSPECTORATE, self.Kind.PARTNER_INSPECTORATE) and not (
            self.inspectorate_id
        ):
            raise ValidationError({"inspectorate": "Name the inspectorate."})


class Role(models.TextChoices):
    PROGRAMME_MANAGER = "programme_manager", "Programme manager"
    LEAD_INSPECTOR = "lead_inspector", "Lead inspector"
    INSPECTOR = "inspector", "Inspector"
    ANALYST = "analyst", "Analyst"
    PARTNER_INSPECTOR = "partner_inspector", "Partner inspector"
    FORCE_LIAISON = "force_liaison", "Force liaison"
    ADMINISTRATOR = "administrator", "Administrator"


# Roles that see every inspection of the programme.
PROGRAMME_WIDE_ROLES = frozenset({Role.PROGRAMME_MANAGER, Role.ANALYST, Role.ADMINISTRATOR})
# Roles of the police inspectorate's own staff.
INSPECTORATE_STAFF_ROLES = frozenset(
    {
        Role.PROGRAMME_MANAGER,
        Role.LEAD_INSPECTOR,
        Role.INSPECTOR,
        Role.ANALYST,
        Role.ADMINISTRATOR,
    }
)


class User(AbstractUser):
    """A person who signs in. The public never signs in."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    role = models.CharField(max_length=30, choices=Role.choices)

    REQUIRED_FIELDS = ["email", "full_name", "role"]

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name

    @property
    def sees_whole_programme(self) -> bool:
        return self.role in PROGRAMME_WIDE_ROLES

    @property
    def is_inspectorate_staff(self) -> bool:
        return self.role in INSPECTORATE_STAFF_ROLES

    @property
    def own_force_id(self) -> int | None:
        """The force a force liaison belongs to; None for everyone else."""
        if self.role != Role.FORCE_LIAISON or self.organisation is None:
            return None
        return self.organisation.force_id

    def clean(self) -> None:
        super().clean()
        if self.role == Role.FORCE_LIAISON and (
            self.organisation is None or self.organisation.kind != Organisation.Kind.FORCE
        ):
            raise ValidationError(
                {"organisation": "A force liaison must belong to a police force."}
            )
        if self.role == Role.PARTNER_INSPECTOR and (
            self.organisation is None
            or self.organisation.kind != Organisation.Kind.PARTNER_INSPECTORATE
        ):
            raise ValidationError(
                {"organisation": "A partner inspector must belong to a partner inspectorate."}
            )
