"""The queue: next record under a lease, label, skip, flag (and an admin's unflag), undo."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.server import _schemas as s
from loopwise.server._deps import CurrentUser, SessionDep
from loopwise.server.routes._convert import label_public, record_public
from loopwise.server.routes._params import ProjectId, RecordId, errors

# 409: a record already labelled, flagged, or a test record; nothing to undo.
router = APIRouter(prefix="/projects/{project_id:int}", tags=["queue"], responses=errors(400, 401, 403, 404, 409, 413, 422))


@router.post("/queue/next", response_model=s.QueueItemPublic)
async def next_record(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.QueueItemPublic:
    """The highest-ranked record nobody holds, leased to you (the same one again until you answer it)."""
    record, reason = await services.next_record_async(user, project_id)
    return s.QueueItemPublic(record=None if record is None else record_public(project_id, record), reason=reason)


@router.post("/queue/undo", response_model=s.QueueItemPublic)
def undo(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.QueueItemPublic:
    """Take back your last label; its record is leased back to you."""
    return s.QueueItemPublic(record=record_public(project_id, services.undo(user, project_id)))


@router.post("/records/{record_id:int}/label", response_model=s.LabelPublic, status_code=201)
async def label(
    project_id: ProjectId, record_id: RecordId, body: s.LabelCreate, services: SessionDep, user: CurrentUser
) -> s.LabelPublic:
    """Record your label; once this answers, the label is committed to the store (and synced to disk)."""
    return label_public(await services.label_async(user, project_id, record_id, body.value))


@router.post("/records/{record_id:int}/skip", response_model=s.Message)
def skip(project_id: ProjectId, record_id: RecordId, services: SessionDep, user: CurrentUser) -> s.Message:
    services.skip(user, project_id, record_id)
    return s.Message(detail="skipped")


@router.post("/records/{record_id:int}/flag", response_model=s.Message)
def flag(project_id: ProjectId, record_id: RecordId, body: s.FlagCreate, services: SessionDep, user: CurrentUser) -> s.Message:
    services.flag(user, project_id, record_id, body.reason)
    return s.Message(detail="flagged: excluded from the queue and from training")


@router.delete("/records/{record_id:int}/flag", response_model=s.Message)
def unflag(project_id: ProjectId, record_id: RecordId, services: SessionDep, user: CurrentUser) -> s.Message:
    """Take a flag back (admins): the record returns to the queue and to training."""
    services.unflag(user, project_id, record_id)
    return s.Message(detail="unflagged: back in the queue and in training")
