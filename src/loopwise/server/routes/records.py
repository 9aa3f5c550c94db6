"""Records of a project: browse with search and filters (admins), one record, its history, its image, adjudication."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from loopwise.server import _admin
from loopwise.server import _schemas as s
from loopwise.server._deps import CurrentUser, SessionDep
from loopwise.server.routes._convert import record_public
from loopwise.server.routes._params import ProjectId, RecordId, errors

router = APIRouter(prefix="/projects/{project_id:int}/records", tags=["records"], responses=errors(400, 401, 403, 404, 413, 422))
IMAGE_TYPES = {f"image/{kind}": {"schema": {"type": "string", "format": "binary"}} for kind in ("png", "jpeg", "gif", "bmp", "webp")}


@router.get("", response_model=s.Page[s.BrowsedRecordPublic])
def list_records(
    project_id: ProjectId, services: SessionDep, user: CurrentUser,
    offset: int = Query(0, ge=0, le=s.MAX_ID), limit: int = Query(50, ge=1, le=1000),
    q: str | None = Query(None, max_length=255, description="Text the record's id or payload contains (any case)."),
    status: Literal["labelled", "unlabelled", "flagged", "disagreed", "adjudicated"] | None = Query(
        None, description="labelled, unlabelled, flagged, disagreed (labels in force differ) or adjudicated."
    ),
    label: str | None = Query(None, max_length=255, description="Has a label in force with this class."),
    annotator: str | None = Query(None, max_length=255, description="Has a label in force by this user name."),
    predicted: str | None = Query(None, max_length=255, description="The last retrain predicts this class."),
    max_confidence: float | None = Query(None, ge=0, le=1, description="The prediction's probability is at most this."),
) -> s.Page[s.BrowsedRecordPublic]:
    """One page of the project's records (admins), in id order, that match the search and every filter given."""
    where = _admin.filters(q, status, label, annotator, predicted, max_confidence)
    found, count = _admin.browse_records(services, user, project_id, where, offset, limit)
    return s.Page(data=[_admin.browsed_public(project_id, r) for r in found], count=count)


@router.get("/{record_id:int}", response_model=s.RecordPublic)
def get_record(project_id: ProjectId, record_id: RecordId, services: SessionDep, user: CurrentUser) -> s.RecordPublic:
    return record_public(project_id, services.record(user, project_id, record_id))


@router.get(
    "/{record_id:int}/media", response_class=FileResponse,
    responses={200: {"description": "The record's image.", "content": IMAGE_TYPES}},
)
def media(project_id: ProjectId, record_id: RecordId, services: SessionDep, user: CurrentUser) -> FileResponse:
    path = services.media_path(user, project_id, record_id)
    return FileResponse(path, media_type=f"image/{path.suffix.lstrip('.')}", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{record_id:int}/history", response_model=s.Page[s.HistoryEntryPublic])
def history(project_id: ProjectId, record_id: RecordId, services: SessionDep, user: CurrentUser) -> s.Page[s.HistoryEntryPublic]:
    """Every label, skip, flag, undo and adjudication of the record, oldest first (admins)."""
    entries = [_admin.history_public(e) for e in _admin.record_history(services, user, project_id, record_id)]
    return s.Page(data=entries, count=len(entries))


@router.post("/{record_id:int}/adjudicate", response_model=s.HistoryEntryPublic, status_code=201, responses=errors(409))
def adjudicate(
    project_id: ProjectId, record_id: RecordId, body: s.AdjudicationCreate, services: SessionDep, user: CurrentUser
) -> s.HistoryEntryPublic:
    """Decide the record's label (admins): it wins over the annotators' labels in training and export."""
    return _admin.history_public(_admin.adjudicate(services, user, project_id, record_id, body.value))
