"""Writes of reference data, every one audited.

`load_reference_data` writes a checked `ReferenceDataset` (see loaders.py) in one transaction:
rows are matched on their natural keys (codes), new ones created, changed ones updated and the
rest left alone, so loading the same files twice changes nothing. Nothing is deleted: a force
or area that drops out of the files may still be referred to by inspections. One audit event
records the load. The admin's corrections are audited by apps/core/admin_audit.py.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models, transaction

from apps.core.audit import Actor, audit_record
from apps.core.cache import data_changed
from apps.core.models import AuditEvent

from .loaders import ReferenceDataset
from .models import ContextFigure, District, Force, Inspectorate, LocalAuthority, OfstedJudgement

M = TypeVar("M", bound=models.Model)

BATCH_SIZE = 500


@dataclass
class SyncCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class LoadResult:
    counts: dict[str, SyncCounts] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    audit_event: AuditEvent | None = None

    @property
    def total(self) -> SyncCounts:
        return SyncCounts(
            created=sum(c.created for c in self.counts.values()),
            updated=sum(c.updated for c in self.counts.values()),
            unchanged=sum(c.unchanged for c in self.counts.values()),
        )

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.counts.values())

    def summary(self) -> str:
        parts = [f"{name}: {counts}" for name, counts in self.counts.items()]
        return "; ".join(parts)


def _sync(
    model: type[M],
    existing: Mapping[Any, M],
    wanted: Iterable[tuple[Hashable, dict[str, Any]]],
) -> SyncCounts:
    """Create the wanted rows that are missing, update those that differ, in bulk."""
    counts = SyncCounts()
    to_create: list[M] = []
    to_update: list[M] = []
    changed_fields: set[str] = set()
    for key, values in wanted:
        instance = existing.get(key)
        if instance is None:
            to_create.append(model(**values))
            continue
        changed = [name for name, value in values.items() if getattr(instance, name) != value]
        if changed:
            for name in changed:
                setattr(instance, name, values[name])
            changed_fields.update(changed)
            to_update.append(instance)
        else:
            counts.unchanged += 1
    if to_create:
        model._default_manager.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        model._default_manager.bulk_update(to_update, sorted(changed_fields), batch_size=BATCH_SIZE)
    counts.created, counts.updated = len(to_create), len(to_update)
    return counts


def _force_key(force: Force) -> str:
    return force.code or f"slug:{force.slug}"


def load_reference_data(dataset: ReferenceDataset, *, actor: Actor, source: str) -> LoadResult:
    """Write the dataset and one audit event, all in one transaction."""
    result = LoadResult(skipped=dict(dataset.skipped))
    with transaction.atomic():
        before = _row_counts()

        result.counts["inspectorates"] = _sync(
            Inspectorate,
            {i.code: i for i in Inspectorate.objects.all()},
            (
                (r.code, {
                    "code": r.code, "name": r.name, "short_name": r.short_name,
                    "scope": r.scope, "is_police_inspectorate": r.is_police_inspectorate,
                    "website": r.website,
                })
                for r in dataset.inspectorates
            ),
        )  # fmt: skip

        result.counts["forces"] = _sync(
            Force,
            {_force_key(f): f for f in Force.objects.all()},
            (
                (r.key, {
                    "code": r.code, "slug": r.slug, "name": r.name, "area_name": r.area_name,
                    "country": r.country, "territorial": r.territorial,
                    "population_0_17": r.population_0_17,
                    "population_all_ages": r.population_all_ages,
                    "population_year": r.population_year, "boundary": r.boundary,
                    "boundary_map": r.boundary_map,
                })
                for r in dataset.forces
            ),
        )  # fmt: skip
        force_ids = dict(Force.objects.filter(code__isnull=False).values_list("code", "id"))

        result.counts["local authorities"] = _sync(
            LocalAuthority,
            {a.code: a for a in LocalAuthority.objects.all()},
            (
                (r.code, {
                    "code": r.code, "name": r.name, "name_welsh": r.name_welsh,
                    "country": r.country, "la_type": r.la_type, "dfe_code": r.dfe_code,
                    "region_name": r.region_name, "force_id": force_ids[r.force_code],
                    "population_0_17": r.population_0_17, "population_year": r.population_year,
                })
                for r in dataset.local_authorities
            ),
        )  # fmt: skip
        area_ids = dict(LocalAuthority.objects.values_list("code", "id"))

        result.counts["districts"] = _sync(
            District,
            {d.code: d for d in District.objects.all()},
            (
                (r.code, {
                    "code": r.code, "name": r.name,
                    "local_authority_id": area_ids[r.local_authority_code],
                    "force_id": force_ids[r.force_code],
                })
                for r in dataset.districts
            ),
        )  # fmt: skip

        def figure_key(f: ContextFigure) -> tuple[str, int, str, str]:
            if f.force_id is not None:
                return ("force", f.force_id, f.measure, f.period)
            return ("area", f.local_authority_id, f.measure, f.period)  # type: ignore[return-value]

        result.counts["context figures"] = _sync(
            ContextFigure,
            {figure_key(f): f for f in ContextFigure.objects.all()},
            (
                (
                    ("force", force_ids[r.force_code], r.measure, r.period)
                    if r.force_code
                    else ("area", area_ids[r.local_authority_code or ""], r.measure, r.period),
                    {
                        "force_id": force_ids[r.force_code] if r.force_code else None,
                        "local_authority_id": (
                            area_ids[r.local_authority_code] if r.local_authority_code else None
                        ),
                        "measure": r.measure, "period": r.period, "value": r.value,
                        "note": r.note, "source": r.source,
                    },
                )
                for r in dataset.figures
            ),
        )  # fmt: skip

        judgements = {
            (j.local_authority_id, j.inspection_date, j.inspection_type): j
            for j in OfstedJudgement.objects.all()
        }
        wanted = [
            (
                (area_ids[r.local_authority_code], r.inspection_date, r.inspection_type),
                {
                    "local_authority_id": area_ids[r.local_authority_code],
                    "inspection_type": r.inspection_type, "inspection_date": r.inspection_date,
                    "publication_date": r.publication_date,
                    "overall_effectiveness": r.overall_effectiveness,
                    "impact_of_leaders": r.impact_of_leaders,
                    "help_and_protection": r.help_and_protection,
                    "children_in_care": r.children_in_care, "care_leavers": r.care_leavers,
                    "url": r.url, "is_latest": r.is_latest,
                },
            )
            for r in dataset.judgements
        ]  # fmt: skip
        # A judgement that was the latest but is no longer in the files is no longer latest.
        wanted_keys = {key for key, _ in wanted}
        wanted += [
            (key, {"is_latest": False})
            for key, j in judgements.items()
            if j.is_latest and key not in wanted_keys
        ]
        result.counts["Ofsted judgements"] = _sync(OfstedJudgement, judgements, wanted)

        after = _row_counts()
        data_changed("reference")
        result.audit_event = audit_record(
            actor=actor,
            action=AuditEvent.Action.SYSTEM,
            object_type="reference.dataset",
            object_repr="Reference data",
            summary=(
                f"Loaded reference data ({'changes made' if result.changed else 'no changes'}). "
                f"{result.summary()}. From {source}"
            ),
            changes={
                name: [before[name], after[name]] for name in before if before[name] != after[name]
            },
        )
    return result


def _row_counts() -> dict[str, int]:
    return {
        "inspectorates": Inspectorate.objects.count(),
        "forces": Force.objects.count(),
        "local authorities": LocalAuthority.objects.count(),
        "districts": District.objects.count(),
        "context figures": ContextFigure.objects.count(),
        "Ofsted judgements": OfstedJudgement.objects.count(),
    }


# The admin's writes.
