"""Annotation projects and their members: creating, listing and changing projects, who may label them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loopwise.errors import ConfigError, NotFoundError

from ._annotation_base import AnnotationBase
from ._annotation_import import IMPORT_REASON, insert_imported_labels
from ._annotation_models import AnnotationProjectRow, ProjectMemberRow
from ._annotation_records import check_records, insert_records
from ._annotation_types import AnnotationProjectInfo, ConflictError, NewRecords, UserInfo, check_label_names
from ._annotation_users import users_where
from ._json import to_json
from ._models import TASKS, AnnotatorRow, ProjectRow, RunRow
from ._util import as_utc, utc_now


class ProjectQueries(AnnotationBase):
    """Creating, reading and changing annotation projects and their member lists."""

    def create_project(
        self,
        name: str,
        task: str,
        label_names: Sequence[str],
        instructions: str,
        settings: dict[str, Any],
        cost_per_label: float = 1.0,
        *,
        records: NewRecords | None = None,
        seed: int = 0,
    ) -> AnnotationProjectInfo:
        """A new project with its run (the one its loops and human labels are recorded in).

        With ``records``, they are imported in the same transaction: if they are refused, there is no project.
        """
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ConfigError(f"a project name must be 1 to 255 characters, got {name!r}")
        if task not in TASKS:
            raise ConfigError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
        labels = check_label_names(label_names)
        clean = to_json(dict(settings), "settings")
        batch = None if records is None else check_records(records, labels)
        now = utc_now()
        try:
            with self._write() as session:
                if session.scalar(select(ProjectRow.id).where(ProjectRow.name == name)) is not None:
                    raise ConflictError(f"a project called {name!r} already exists")
                project = ProjectRow(
                    name=name, task=task, label_names=labels, cost_per_label=float(cost_per_label), created_at=now
                )
                session.add(project)
                session.flush()
                run_id = uuid.uuid4().hex[:12]
                config = {"kind": "annotation", "project": name, **clean}
                session.add(
                    RunRow(
                        id=run_id, project_id=project.id, name="annotation", config=config,
                        status="running", created_at=now,
                    )
                )
                session.flush()
                session.add(
                    AnnotationProjectRow(
                        project_id=project.id, run_id=run_id, instructions=instructions or "",
                        settings=clean, status="active", created_at=now,
                    )
                )
                if batch is not None and records is not None:
                    session.flush()
                    insert_records(session, project.id, *batch, seed=seed)
                    insert_imported_labels(
                        session, project.id, run_id, records.labels, k=int(clean.get("labels_per_record", 1)),
                        label_names=labels, reason=IMPORT_REASON, now=now,
                        single=clean.get("label_kind", "single") == "single",
                    )
        except IntegrityError:
            raise ConflictError(f"a project called {name!r} already exists") from None
        if batch is not None:
            self._analyze()
        return self.get_project(project.id)

    def get_project(self, project_id: int) -> AnnotationProjectInfo:
        """The project (NotFoundError if none): looked up behind queue requests, so Core, no ORM objects."""
        with self._engine.connect() as conn:
            row = conn.execute(_PROJECT_BY_ID, {"id": project_id}).first()
        if row is None:
            raise NotFoundError(f"no project with id {project_id}")
        return _project(row)

    def list_projects(self, member_id: int | None = None) -> list[AnnotationProjectInfo]:
        """Every annotation project, or only those ``member_id`` belongs to."""
        with self._sessions() as session:
            if member_id is None:
                return projects_where(session)
            member = exists().where(
                ProjectMemberRow.project_id == ProjectRow.id, ProjectMemberRow.annotator_id == member_id
            )
            return projects_where(session, member)

    def update_project(
        self,
        project_id: int,
        *,
        instructions: str | None = None,
        settings: dict[str, Any] | None = None,
        status: str | None = None,
    ) -> AnnotationProjectInfo:
        with self._write(project_id) as session:
            row = session.get(AnnotationProjectRow, project_id)
            if row is None:
                raise NotFoundError(f"no project with id {project_id}")
            if instructions is not None:
                row.instructions = instructions
            if settings is not None:
                row.settings = to_json(dict(settings), "settings")
            if status is not None:
                if status not in ("active", "stopped"):
                    raise ConfigError(f"status must be 'active' or 'stopped', got {status!r}")
                row.status = status
        return self.get_project(project_id)

    # -- members ---------------------------------------------------------------------------------

    def add_member(self, project_id: int, user_id: int) -> None:
        with self._write(project_id) as session:
            if session.get(AnnotatorRow, user_id) is None:
                raise NotFoundError(f"no user with id {user_id}")
            if session.get(ProjectMemberRow, (project_id, user_id)) is None:
                session.add(ProjectMemberRow(project_id=project_id, annotator_id=user_id, created_at=utc_now()))

    def remove_member(self, project_id: int, user_id: int) -> None:
        with self._write(project_id) as session:
            session.execute(
                delete(ProjectMemberRow).where(
                    ProjectMemberRow.project_id == project_id, ProjectMemberRow.annotator_id == user_id
                )
            )

    def list_members(self, project_id: int) -> list[UserInfo]:
        with self._sessions() as session:
            member = exists().where(
                ProjectMemberRow.project_id == project_id, ProjectMemberRow.annotator_id == AnnotatorRow.id
            )
            return users_where(session, member)

    def member_ids(self, project_id: int) -> frozenset[int]:
        """The ids of the project's members, in one statement (the server keeps them for a few seconds)."""
        with self._engine.connect() as conn:
            return frozenset(row[0] for row in conn.execute(_MEMBER_IDS, {"project": project_id}))

    def is_member(self, project_id: int, user_id: int) -> bool:
        with self._engine.connect() as conn:
            return conn.execute(_IS_MEMBER, {"project": project_id, "user": user_id}).first() is not None


# An AnnotationProjectInfo's columns, built once (columns skip the ORM's per-row objects).
_PROJECT_COLUMNS = select(
    ProjectRow.id, ProjectRow.name, ProjectRow.task, ProjectRow.label_names, ProjectRow.created_at,
    ProjectRow.cost_per_label, AnnotationProjectRow.instructions, AnnotationProjectRow.settings,
    AnnotationProjectRow.status, AnnotationProjectRow.run_id, AnnotationProjectRow.archived_at,
).join(AnnotationProjectRow, AnnotationProjectRow.project_id == ProjectRow.id)
_PROJECT_BY_ID = _PROJECT_COLUMNS.where(ProjectRow.id == bindparam("id"))
_MEMBER_IDS = select(ProjectMemberRow.annotator_id).where(ProjectMemberRow.project_id == bindparam("project"))
_IS_MEMBER = select(ProjectMemberRow.project_id).where(
    ProjectMemberRow.project_id == bindparam("project"), ProjectMemberRow.annotator_id == bindparam("user")
)


def _project(row: Any) -> AnnotationProjectInfo:
    return AnnotationProjectInfo(
        id=row.id, name=row.name, task=row.task, label_names=list(row.label_names),
        instructions=row.instructions, settings=dict(row.settings), status=row.status,
        run_id=row.run_id, created_at=as_utc(row.created_at), cost_per_label=float(row.cost_per_label),
        archived=row.archived_at is not None,
    )


def projects_where(session: Session, *where: Any) -> list[AnnotationProjectInfo]:
    """The annotation projects matching ``where``, by id."""
    return [_project(row) for row in session.execute(_PROJECT_COLUMNS.where(*where).order_by(ProjectRow.id))]


def project_info(session: Session, project_id: int) -> AnnotationProjectInfo:
    """The annotation project ``project_id``; NotFoundError if there is none."""
    found = projects_where(session, ProjectRow.id == project_id)
    if not found:
        raise NotFoundError(f"no project with id {project_id}")
    return found[0]
