from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import transaction

from apps.core.audit import Actor, audit_record, audit_snapshot
from apps.core.models import AuditEvent

from .loaders import MethodologyFile, MethodologyFileError
from .models import MethodologyVersion


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def methodologies_load(*, actor: Actor, files: list[MethodologyFile]) -> LoadResult:
    """Create or update methodology versions, all or nothing. A version under which any case
    has been graded cannot change: publish a new version instead. (Until then an amendment,
    such as a reworded criterion, reaches the inspections planned under it.)"""
    result = LoadResult()
    with transaction.atomic():
        for file in files:
            data = file.data
            definition = json.loads(json.dumps(data, default=str))
            values = {
                "title": data["title"],
                "programme_types": data["programme_types"],
                "valid_from": data["valid_from"],
                "valid_to": data["valid_to"],
                "grade_scale": data["grade_scale"],
                "definition": definition,
                "source_file": file.path.name,
                "source_sha256": file.sha256,
            }
            existing = MethodologyVersion.objects.filter(code=data["code"]).first()
            if existing is None:
                version = MethodologyVersion.objects.create(code=data["code"], **values)
                audit_record(
                    actor=actor,
                    action=AuditEvent.Action.CREATE,
                    instance=version,
                    after=audit_snapshot(version),
                )
                result.created.append(version.code)
                continue
            if existing.source_sha256 == file.sha256:
                result.unchanged.append(existing.code)
                continue
            if existing.inspections.filter(case_audits__isnull=False).exists():
                raise MethodologyFileError(
                    f"{file.path.name}: cases have been graded under methodology "
                    f"'{existing.code}', so it cannot change; add a new version with a new "
                    "code instead"
                )
            before = audit_snapshot(existing)
            for name, value in values.items():
                setattr(existing, name, value)
            existing.save()
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                instance=existing,
                before=before,
                after=audit_snapshot(existing),
            )
            result.updated.append(existing.code)
    return result
