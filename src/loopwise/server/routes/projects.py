"""Projects: create (with or without a file of records), configure, delete, import, members, figures, export."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from loopwise.server import _schemas as s
from loopwise.server._deps import CurrentUser, SessionDep
from loopwise.server._services import require_admin
from loopwise.server.routes._convert import project_public, user_public
from loopwise.server.routes._params import ProjectId, UserId, errors

router = APIRouter(prefix="/projects", tags=["projects"], responses=errors(400, 401, 403, 404, 413, 422))
CONFLICT = errors(409)
EXPORT_TYPES = {
    "text/csv": {"schema": {"type": "string"}},
    "application/x-ndjson": {"schema": {"type": "string"}},
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
    "application/xml": {"schema": {"type": "string"}},
    "text/plain": {"schema": {"type": "string"}},
}


@router.get("", response_model=s.Page[s.ProjectPublic])
def list_projects(services: SessionDep, user: CurrentUser) -> s.Page[s.ProjectPublic]:
    projects = [project_public(p) for p in services.list_projects(user)]
    return s.Page(data=projects, count=len(projects))


@router.post("", response_model=s.ProjectPublic, status_code=201, responses=CONFLICT)
def create_project(body: s.ProjectCreate, services: SessionDep, user: CurrentUser) -> s.ProjectPublic:
    return project_public(services.create_project(user, body))


@router.post("/upload", response_model=s.ProjectPublic, status_code=201, responses=CONFLICT)
def create_project_with_records(
    services: SessionDep,
    user: CurrentUser,
    project: str = Form(description="The project, as the JSON body of POST /api/projects."),
    file: UploadFile = File(description="CSV, TSV, JSONL, Parquet, or a zip of images"),
    id_column: str = Form(""),
) -> s.ProjectPublic:
    """Create a project and import its records at once: a bad file leaves no project behind."""
    created = services.create_project_with_records(user, project, file.file, file.filename or "", id_column or None)
    return project_public(created)


@router.get("/{project_id:int}", response_model=s.ProjectPublic)
def get_project(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.ProjectPublic:
    return project_public(services.project(user, project_id))


@router.patch("/{project_id:int}", response_model=s.ProjectPublic)
def update_project(project_id: ProjectId, body: s.ProjectUpdate, services: SessionDep, user: CurrentUser) -> s.ProjectPublic:
    return project_public(services.update_project(user, project_id, body))


@router.delete("/{project_id:int}", response_model=s.Message)
def delete_project(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.Message:
    """Delete a project (admins) with its records, labels, queue, loops and members."""
    name = services.delete_project(user, project_id)
    return s.Message(detail=f"deleted project {name!r}")


@router.get("/{project_id:int}/members", response_model=s.Page[s.UserPublic])
def members(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.Page[s.UserPublic]:
    found = [user_public(u) for u in services.members(user, project_id)]
    return s.Page(data=found, count=len(found))


@router.post("/{project_id:int}/members", response_model=s.Page[s.UserPublic], status_code=201)
def add_member(project_id: ProjectId, body: s.MemberCreate, services: SessionDep, user: CurrentUser) -> s.Page[s.UserPublic]:
    found = [user_public(u) for u in services.add_member(user, project_id, body.user_id)]
    return s.Page(data=found, count=len(found))


@router.delete("/{project_id:int}/members/{user_id:int}", response_model=s.Page[s.UserPublic])
def remove_member(project_id: ProjectId, user_id: UserId, services: SessionDep, user: CurrentUser) -> s.Page[s.UserPublic]:
    found = [user_public(u) for u in services.remove_member(user, project_id, user_id)]
    return s.Page(data=found, count=len(found))


@router.post("/{project_id:int}/import/upload", response_model=s.ImportPublic, status_code=201, responses=CONFLICT)
def import_upload(
    project_id: ProjectId,
    services: SessionDep,
    user: CurrentUser,
    file: UploadFile = File(description="CSV, TSV, JSONL, Parquet, or a zip of images"),
    id_column: str = Form(""),
) -> s.ImportPublic:
    return services.import_upload(user, project_id, file.file, file.filename or "", id_column or None)


@router.post("/{project_id:int}/import/path", response_model=s.ImportPublic, status_code=201, responses=CONFLICT)
def import_path(project_id: ProjectId, body: s.ImportPath, services: SessionDep, user: CurrentUser) -> s.ImportPublic:
    return services.import_path(user, project_id, body)


@router.get("/{project_id:int}/progress", response_model=s.ProgressPublic)
def progress(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.ProgressPublic:
    return services.progress(user, project_id)


@router.get("/{project_id:int}/stats", response_model=s.StatsPublic)
def stats(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.StatsPublic:
    return services.stats(user, project_id)


@router.post("/{project_id:int}/retrain", response_model=s.Message, status_code=202)
def retrain(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.Message:
    require_admin(user)
    services.project(user, project_id)
    services.worker.schedule(project_id)
    return s.Message(detail="retraining scheduled")


@router.get(
    "/{project_id:int}/export", response_class=StreamingResponse,
    responses={200: {"description": "The labels, as a file in the format asked for.", "content": EXPORT_TYPES}},
)
def export(
    project_id: ProjectId, request: Request, services: SessionDep, user: CurrentUser,
    format: Literal["csv", "jsonl", "labelstudio", "labelstudio_config", "argilla", "conll", "spans_jsonl"] = "csv",
    history: Annotated[bool, Query(description="CSV and JSONL: every label row of each record, superseded ones "
                                   "included, with label_id, source, annotator, run_id, created_at, supersedes and "
                                   "superseded_by (as `loopwise labels history`).")] = False,
) -> StreamingResponse:
    """The project's records and labels: loopwise CSV or JSONL, Label Studio tasks or labelling config, Argilla records;
    for a spans project also CoNLL (BIO) and JSONL with character offsets, and Label Studio gives span tasks."""
    media_type, filename, chunks = services.export(user, project_id, format, str(request.base_url), history)
    return StreamingResponse(
        chunks, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
