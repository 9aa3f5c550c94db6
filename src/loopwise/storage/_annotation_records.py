"""Records of annotation projects: importing them into the queue, and reading them back one or a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from loopwise.errors import DataError, NotFoundError

from ._annotation_base import AnnotationBase
from ._annotation_import import IMPORT_REASON, ImportedLabel, insert_imported_labels
from ._annotation_models import AnnotationProjectRow, AnnotationRecordRow
from ._annotation_types import NewRecords, QueueRecord, queue_record
from ._json import to_json
from ._models import ProjectRow, RecordRow
from ._store import existing_external_ids
from ._util import utc_now

_MAX_EXTERNAL_ID = 512


class RecordQueries(AnnotationBase):
    """Importing records into a project's queue, reading them back, deleting a whole project."""

    def add_records(
        self,
        project_id: int,
        external_ids: Sequence[str],
        payloads: Sequence[dict[str, Any] | None],
        *,
        roles: Sequence[str] | None = None,
        gold: Sequence[str | None] | None = None,
        seed: int = 0,
        labels: Sequence[ImportedLabel] = (),
    ) -> int:
        """Add new records to a project's queue (external ids it has are skipped); returns how many.

        New pool records join the end of the queue in a seeded random order until the next retrain
        ranks them; test records (with a ``gold`` label) are kept for evaluation and never queued.
        ``labels`` (from another tool's export) are written in the same transaction, as label events
        whose reason is ``import``: a refused label leaves nothing written.
        """
        records = NewRecords(external_ids, payloads, roles, gold)
        with self._write(project_id) as session:
            project = session.get(ProjectRow, project_id)
            if project is None:
                raise NotFoundError(f"no project with id {project_id}")
            added = insert_records(session, project_id, *check_records(records, project.label_names), seed=seed)
            if labels:
                # The project lock above found its settings row, so it is there.
                settings = session.get(AnnotationProjectRow, project_id)
                assert settings is not None
                insert_imported_labels(
                    session, project_id, settings.run_id, labels, k=int(settings.settings.get("labels_per_record", 1)),
                    label_names=list(project.label_names), reason=IMPORT_REASON, now=utc_now(),
                    single=settings.settings.get("label_kind", "single") == "single",
                )
        if added:
            self._analyze()
        return added

    def delete_project(self, project_id: int) -> str:
        """Delete an annotation project and everything in it (records, labels, queue, loops); returns its name."""
        from ._annotation_delete import delete_project_rows

        with self._write(project_id) as session:
            return delete_project_rows(session, project_id)

    def get_record(self, project_id: int, record_id: int) -> QueueRecord:
        with self._sessions() as session:
            found = session.execute(
                select(RecordRow, AnnotationRecordRow)
                .join(AnnotationRecordRow, AnnotationRecordRow.record_id == RecordRow.id)
                .where(RecordRow.id == record_id, AnnotationRecordRow.project_id == project_id)
            ).first()
        if found is None:
            raise NotFoundError(f"project {project_id} has no record {record_id}")
        record, state = found
        return queue_record(record, state, None)


def check_records(records: NewRecords, label_names: Sequence[str]) -> tuple[list[str], list[Any], list[str], list[str | None]]:
    """Ids, JSON payloads, roles and gold labels of ``records``, refused (DataError) before anything is written."""
    ids = [str(i) for i in records.external_ids]
    n = len(ids)
    roles, gold = records.roles, records.gold
    if len(records.payloads) != n or (roles is not None and len(roles) != n) or (gold is not None and len(gold) != n):
        raise DataError("external_ids, payloads, roles and gold must have one entry per record")
    for index, external_id in enumerate(ids):
        if not external_id or len(external_id) > _MAX_EXTERNAL_ID:
            raise DataError(f"record {index}: an id must be 1 to {_MAX_EXTERNAL_ID} characters, got {external_id!r}")
    if len(set(ids)) != n:
        raise DataError("the imported records repeat an id; ids must be unique")
    role_list = list(roles) if roles is not None else ["pool"] * n
    gold_list: list[str | None] = list(gold) if gold is not None else [None] * n
    for index, (role, value) in enumerate(zip(role_list, gold_list, strict=True)):
        if role not in ("pool", "test"):
            raise DataError(f"record {ids[index]!r}: role must be 'pool' or 'test', got {role!r}")
        if role == "test" and value not in label_names:
            raise DataError(f"test record {ids[index]!r}: its label {value!r} is not one of {list(label_names)}")
    clean = [to_json(p, f"payloads[{i}]") for i, p in enumerate(records.payloads)]
    return ids, clean, role_list, gold_list


def insert_records(
    session: Session, project_id: int, ids: list[str], clean: list[Any], role_list: list[str],
    gold_list: list[str | None], *, seed: int,
) -> int:
    """Insert the records the project lacks (by external id) at the end of its queue; returns how many."""
    n = len(ids)
    present = existing_external_ids(session, project_id, ids)
    new = [i for i in range(n) if ids[i] not in present]
    if not new:
        return 0
    inserted = session.execute(
        insert(RecordRow).returning(RecordRow.id, sort_by_parameter_order=True),
        [{"project_id": project_id, "external_id": ids[i], "payload": clean[i]} for i in new],
    ).scalars().all()
    highest = session.scalar(
        select(func.coalesce(func.max(AnnotationRecordRow.rank), -1)).where(
            AnnotationRecordRow.project_id == project_id
        )
    )
    start = max(int(highest if highest is not None else -1), -1) + 1
    order = np.random.default_rng([seed, project_id, start]).permutation(len(new))
    session.execute(
        insert(AnnotationRecordRow),
        [
            {
                "record_id": record_id,
                "project_id": project_id,
                "role": role_list[i],
                "gold": gold_list[i] if role_list[i] == "test" else None,
                "rank": start + int(position),
                "score": None,
                "n_labels": 0,
                # Test records are never queued: 'done' keeps them out of the queue's walk.
                "state": "open" if role_list[i] == "pool" else "done",
            }
            for record_id, i, position in zip(inserted, new, order, strict=True)
        ],
    )
    return len(new)
