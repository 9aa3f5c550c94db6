"""Consensus labels and annotator quality as the last retrain estimated them, and the adjudicated records it must respect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from ._annotation_admin import latest_adjudications
from ._annotation_base import AnnotationBase
from ._annotation_models import AnnotatorQualityRow, ConsensusRow
from ._models import AnnotatorRow, RecordRow
from ._util import utc_now


@dataclass(frozen=True, slots=True)
class ConsensusLabel:
    """A labelled record's training label, the consensus model's confidence in it, and how many labels it had."""

    record_id: int
    value: str
    confidence: float
    n_labels: int


@dataclass(frozen=True, slots=True)
class AnnotatorQuality:
    """An annotator's estimated quality (None where no record has two labels to compare), agreement, label count."""

    annotator: str
    quality: float | None
    agreement: float | None
    n_labels: int


@dataclass(frozen=True, slots=True)
class StoredConsensus:
    method: str
    loop_index: int
    labels: dict[int, ConsensusLabel]
    quality: list[AnnotatorQuality]


class ConsensusQueries(AnnotationBase):
    """Writes the retrain's consensus and annotator quality (replacing the last), and reads them for the API."""

    def adjudicated_values(self, project_id: int) -> dict[int, str]:
        """Record id -> the label an admin or reviewer decided (it wins over every consensus model)."""
        with self._sessions() as session:
            return {r: label.value for r, label in latest_adjudications(session, project_id).items()}

    def store_consensus(
        self, project_id: int, loop_index: int, method: str, labels: Sequence[ConsensusLabel],
        quality: Sequence[AnnotatorQuality],
    ) -> None:
        """Replace the project's consensus labels and annotator quality with the ones of retrain ``loop_index``."""
        now = utc_now()
        with self._write(project_id) as session:
            ids = dict(session.execute(
                select(AnnotatorRow.name, AnnotatorRow.id).where(AnnotatorRow.name.in_([q.annotator for q in quality]))
            ).all()) if quality else {}
            session.execute(delete(ConsensusRow).where(ConsensusRow.project_id == project_id))
            session.execute(delete(AnnotatorQualityRow).where(AnnotatorQualityRow.project_id == project_id))
            if labels:
                session.execute(insert(ConsensusRow), [
                    {"record_id": c.record_id, "project_id": project_id, "value": c.value, "confidence": float(c.confidence),
                     "method": method, "n_labels": c.n_labels, "loop_index": loop_index}
                    for c in labels
                ])
            rows = [
                {"project_id": project_id, "annotator_id": ids[q.annotator], "quality": q.quality, "agreement": q.agreement,
                 "n_labels": q.n_labels, "method": method, "loop_index": loop_index, "updated_at": now}
                for q in quality if q.annotator in ids
            ]
            if rows:
                session.execute(insert(AnnotatorQualityRow), rows)

    def consensus_page(self, project_id: int, offset: int = 0, limit: int = 50) -> tuple[list[tuple[str, ConsensusLabel]], int]:
        """(external id, consensus label) of the project's labelled records, least confident first, and their count."""
        with self._sessions() as session:
            count = int(session.scalar(select(func.count()).where(ConsensusRow.project_id == project_id)) or 0)
            rows = session.execute(
                select(RecordRow.external_id, ConsensusRow).join(RecordRow, RecordRow.id == ConsensusRow.record_id)
                .where(ConsensusRow.project_id == project_id)
                .order_by(ConsensusRow.confidence, ConsensusRow.record_id).offset(offset).limit(limit)
            ).all()
        return [(str(e), ConsensusLabel(c.record_id, c.value, float(c.confidence), c.n_labels)) for e, c in rows], count

    def stored_consensus(self, project_id: int) -> StoredConsensus | None:
        """The last retrain's consensus labels and annotator quality; None before any."""
        with self._sessions() as session:
            labels = list(session.scalars(select(ConsensusRow).where(ConsensusRow.project_id == project_id)))
            quality = session.execute(
                select(AnnotatorRow.name, AnnotatorQualityRow)
                .join(AnnotatorQualityRow, AnnotatorQualityRow.annotator_id == AnnotatorRow.id)
                .where(AnnotatorQualityRow.project_id == project_id)
                .order_by(AnnotatorRow.name)
            ).all()
        if not labels and not quality:
            return None
        first = labels[0] if labels else quality[0][1]
        return StoredConsensus(
            method=str(first.method), loop_index=int(first.loop_index),
            labels={c.record_id: ConsensusLabel(c.record_id, c.value, float(c.confidence), c.n_labels) for c in labels},
            quality=[AnnotatorQuality(str(name), row.quality, row.agreement, row.n_labels) for name, row in quality],
        )


__all__ = ["AnnotatorQuality", "ConsensusLabel", "ConsensusQueries", "StoredConsensus"]
