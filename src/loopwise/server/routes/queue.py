"""The queue: next record under a lease (with the model's suggestion and why it was chosen), label, change a
label, skip, flag (and an admin's unflag), undo of the last action, and the annotator's history."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from loopwise.server import _annotate as annotate
from loopwise.server import _schemas as s
from loopwise.server._deps import CurrentUser, SessionDep
from loopwise.server._services import Services
from loopwise.server._suggestions import chosen_public, suggestion_public
from loopwise.server.routes._convert import label_public, record_public
from loopwise.server.routes._params import ProjectId, RecordId, errors
from loopwise.storage._annotation_store import QueueRecord, UserInfo

# 409: a record already labelled, flagged, or a test record; nothing to undo.
router = APIRouter(prefix="/projects/{project_id:int}", tags=["queue"], responses=errors(400, 401, 403, 404, 409, 413, 422))


def _item(
    services: Services, user: UserInfo, project_id: int, record: QueueRecord | None, *,
    reason: str | None = None, my_label: str | None = None, undone: Literal["label", "skip", "flag"] | None = None,
) -> s.QueueItemPublic:
    if record is None:
        return s.QueueItemPublic(record=None, reason=reason)
    project = services.project(user, project_id)
    note, show = annotate.note_for(services, user, project, record)
    return s.QueueItemPublic(
        record=record_public(project_id, record), reason=reason, my_label=my_label, undone=undone,
        suggestion=suggestion_public(note, project.label_names) if show else None, chosen=chosen_public(note),
    )


@router.post("/queue/next", response_model=s.QueueItemPublic)
async def next_record(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.QueueItemPublic:
    """The highest-ranked record nobody holds, leased to you (the same one again until you answer it).

    Records you skipped come back once nothing else is waiting for you, the longest-skipped first.
    """
    record, reason = await services.next_record_async(user, project_id)
    return _item(services, user, project_id, record, reason=reason)


@router.post("/queue/undo", response_model=s.QueueItemPublic)
def undo(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.QueueItemPublic:
    """Undo your last action, whatever it was (label, skip or flag); its record is leased back to you."""
    _, kind, record = annotate.undo(services, user, project_id)
    return _item(services, user, project_id, record, undone=kind)  # type: ignore[arg-type]


@router.get("/history", response_model=s.Page[s.HistoryItemPublic])
def history(
    project_id: ProjectId, services: SessionDep, user: CurrentUser, limit: int = Query(20, ge=1, le=500),
) -> s.Page[s.HistoryItemPublic]:
    """Your latest labels, skips and flags in this project, newest first, each saying whether it still holds."""
    items = [
        s.HistoryItemPublic.model_validate(h, from_attributes=True) for h in annotate.history(services, user, project_id, limit)
    ]
    return s.Page(data=items, count=len(items))


@router.get("/records/{record_id:int}/item", response_model=s.QueueItemPublic)
def reopen(project_id: ProjectId, record_id: RecordId, services: SessionDep, user: CurrentUser) -> s.QueueItemPublic:
    """A record as the annotate page shows it: with the suggestion, why it was chosen, and your label on it."""
    _, record, mine = annotate.reopen(services, user, project_id, record_id)
    return _item(services, user, project_id, record, my_label=mine)


@router.post("/records/{record_id:int}/label", response_model=s.LabelPublic, status_code=201)
async def label(
    project_id: ProjectId, record_id: RecordId, body: s.LabelCreate, services: SessionDep, user: CurrentUser
) -> s.LabelPublic:
    """Record your label; once this answers, the label is committed to the store (and synced to disk)."""
    return label_public(await services.label_async(user, project_id, record_id, body.value))


@router.put("/records/{record_id:int}/label", response_model=s.LabelPublic)
def change_label(
    project_id: ProjectId, record_id: RecordId, body: s.LabelCreate, services: SessionDep, user: CurrentUser
) -> s.LabelPublic:
    """Change your label on a record: a new label that supersedes the old one (which stays in the history)."""
    return label_public(annotate.change_label(services, user, project_id, record_id, body.value))


@router.post("/records/{record_id:int}/skip", response_model=s.Message)
def skip(project_id: ProjectId, record_id: RecordId, services: SessionDep, user: CurrentUser) -> s.Message:
    """Give the record back; it comes back to you at the end of your queue."""
    services.skip(user, project_id, record_id)
    return s.Message(detail="skipped: it comes back at the end of your queue")


@router.post("/records/{record_id:int}/flag", response_model=s.Message)
def flag(project_id: ProjectId, record_id: RecordId, body: s.FlagCreate, services: SessionDep, user: CurrentUser) -> s.Message:
    services.flag(user, project_id, record_id, body.reason)
    return s.Message(detail="flagged: excluded from the queue and from training")


@router.delete("/records/{record_id:int}/flag", response_model=s.Message)
def unflag(project_id: ProjectId, record_id: RecordId, services: SessionDep, user: CurrentUser) -> s.Message:
    """Take a flag back (admins): the record returns to the queue and to training."""
    services.unflag(user, project_id, record_id)
    return s.Message(detail="unflagged: back in the queue and in training")
