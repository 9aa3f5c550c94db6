"""Records of a project: list (admins), one record, its image."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from loopwise.server import _schemas as s
from loopwise.server._deps import CurrentUser, SessionDep
from loopwise.server.routes._convert import record_public
from loopwise.server.routes._params import ProjectId, RecordId, errors

router = APIRouter(prefix="/projects/{project_id:int}/records", tags=["records"], responses=errors(400, 401, 403, 404, 413, 422))
IMAGE_TYPES = {f"image/{kind}": {"schema": {"type": "string", "format": "binary"}} for kind in ("png", "jpeg", "gif", "bmp", "webp")}


@router.get("", response_model=s.Page[s.RecordPublic])
def list_records(
    project_id: ProjectId, services: SessionDep, user: CurrentUser,
    offset: int = Query(0, ge=0, le=s.MAX_ID), limit: int = Query(50, ge=1, le=1000),
) -> s.Page[s.RecordPublic]:
    found, count = services.list_records(user, project_id, offset, limit)
    return s.Page(data=[record_public(project_id, r) for r in found], count=count)


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
