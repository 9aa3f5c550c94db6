"""A project's labelling rules (keyword lists and regular expressions an admin defines) and what applying them gave."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from loopwise.errors import DataError, NotFoundError

from ._annotation_base import AnnotationBase
from ._annotation_models import RULE_KINDS, LabelRuleRow, RuleStatsRow, WeakLabelRow
from ._annotation_types import ConflictError
from ._models import ProjectRow
from ._util import as_utc, utc_now


@dataclass(frozen=True, slots=True)
class LabelRule:
    id: int
    name: str
    kind: str
    pattern: str
    label: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WeakLabel:
    record_id: int
    value: str
    confidence: float


@dataclass(frozen=True, slots=True)
class RuleStats:
    """The last application of the rules: its summary (per rule and per label model) and when."""

    summary: dict[str, Any]
    created_at: datetime


class RuleQueries(AnnotationBase):
    """Rules in, weak labels and their statistics out."""

    def create_rule(self, project_id: int, name: str, kind: str, pattern: str, label: str) -> LabelRule:
        """Add a rule; its class must be the project's and its name new in the project."""
        if kind not in RULE_KINDS:
            raise DataError(f"rule kind must be one of {', '.join(RULE_KINDS)}; got {kind!r}")
        now = utc_now()
        try:
            with self._write(project_id) as session:
                project = session.get(ProjectRow, project_id)
                if project is None:
                    raise NotFoundError(f"no project with id {project_id}")
                if label not in project.label_names:
                    raise DataError(f"rule {name!r}: label {label!r} is not a class of this project; classes: {list(project.label_names)}")
                row = LabelRuleRow(project_id=project_id, name=name, kind=kind, pattern=pattern, label=label, created_at=now)
                session.add(row)
                session.flush()
                rule = LabelRule(row.id, name, kind, pattern, label, now)
        except IntegrityError:
            raise ConflictError(f"the project has a rule named {name!r} already") from None
        return rule

    def list_rules(self, project_id: int) -> list[LabelRule]:
        with self._sessions() as session:
            rows = session.scalars(select(LabelRuleRow).where(LabelRuleRow.project_id == project_id).order_by(LabelRuleRow.id))
            return [LabelRule(r.id, r.name, r.kind, r.pattern, r.label, as_utc(r.created_at)) for r in rows]

    def delete_rule(self, project_id: int, rule_id: int) -> None:
        with self._write(project_id) as session:
            row = session.get(LabelRuleRow, rule_id)
            if row is None or row.project_id != project_id:
                raise NotFoundError(f"project {project_id} has no rule {rule_id}")
            session.delete(row)

    def store_weak_labels(self, project_id: int, labels: Sequence[WeakLabel], method: str, summary: dict[str, Any]) -> None:
        """Replace the project's weak labels and rule statistics with those of a new application of its rules."""
        with self._write(project_id) as session:
            session.execute(delete(WeakLabelRow).where(WeakLabelRow.project_id == project_id))
            session.execute(delete(RuleStatsRow).where(RuleStatsRow.project_id == project_id))
            if labels:
                session.execute(insert(WeakLabelRow), [
                    {"record_id": w.record_id, "project_id": project_id, "value": w.value, "confidence": float(w.confidence),
                     "method": method}
                    for w in labels
                ])
            session.add(RuleStatsRow(project_id=project_id, summary=summary, created_at=utc_now()))

    def rule_stats(self, project_id: int) -> RuleStats | None:
        with self._sessions() as session:
            row = session.get(RuleStatsRow, project_id)
            return None if row is None else RuleStats(dict(row.summary), as_utc(row.created_at))

    def weak_labels(self, project_id: int) -> dict[int, WeakLabel]:
        """Record id -> the weak label the last application of the rules gave it (covered records only)."""
        with self._sessions() as session:
            rows = session.scalars(select(WeakLabelRow).where(WeakLabelRow.project_id == project_id))
            return {r.record_id: WeakLabel(r.record_id, r.value, float(r.confidence)) for r in rows}


__all__ = ["LabelRule", "RuleQueries", "RuleStats", "WeakLabel"]
