"""Label quality: the review queue (labels the audit after each retrain doubts, kept or changed by a second person)
and the consensus training labels with their confidence."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from loopwise.server import _quality_schemas as q
from loopwise.server import _review
from loopwise.server import _schemas as s
from loopwise.server._deps import CurrentUser, SessionDep
from loopwise.server.routes._params import MAX_ID, ProjectId, errors

router = APIRouter(prefix="/projects/{project_id:int}", tags=["label quality"], responses=errors(400, 401, 403, 404, 422))
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="A record's id.")]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="A review item's id.")]


@router.get("/review", response_model=s.Page[q.ReviewItemPublic])
def list_review(
    project_id: ProjectId, services: SessionDep, user: CurrentUser,
    status: Literal["open", "kept", "changed", "withdrawn", "all"] = Query(
        "open", description="Admins: items of this status, or all. Annotators always get the open ones they may review."
    ),
    offset: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(50, ge=1, le=1000),
) -> s.Page[q.ReviewItemPublic]:
    """The doubted labels, most suspicious first (lowest out-of-fold probability of the given label)."""
    found, count = _review.review_items(services, user, project_id, None if status == "all" else status, offset, limit)
    return s.Page(data=[_review.review_public(project_id, item) for item in found], count=count)


@router.post("/review/{item_id:int}", response_model=q.ReviewItemPublic, responses=errors(409))
def decide(
    project_id: ProjectId, item_id: ItemId, body: q.ReviewDecisionCreate, services: SessionDep, user: CurrentUser
) -> q.ReviewItemPublic:
    """Keep the label (``value`` null or the same class) or change it; not on a record you labelled yourself."""
    return _review.review_public(project_id, _review.resolve(services, user, project_id, item_id, body.value))


@router.get("/auto-labels", response_model=s.Page[q.AutoLabelPublic])
def list_auto_labels(
    project_id: ProjectId, services: SessionDep, user: CurrentUser,
    status: Literal["auto", "accepted", "overridden", "retired", "all"] = Query(
        "auto", description="auto: in force; accepted / overridden: a person decided; retired: left otherwise; or all."
    ),
    offset: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(50, ge=1, le=1000),
) -> s.Page[q.AutoLabelPublic]:
    """The labels the model gave on its own (source auto), least confident first (admins)."""
    found, count = _review.auto_labels(services, user, project_id, None if status == "all" else status, offset, limit)
    return s.Page(data=[_review.auto_label_public(project_id, label) for label in found], count=count)


@router.post("/auto-labels/{record_id:int}", response_model=q.AutoLabelPublic, responses=errors(409))
def decide_auto_label(
    project_id: ProjectId, record_id: RecordId, body: q.AutoLabelDecisionCreate, services: SessionDep, user: CurrentUser
) -> q.AutoLabelPublic:
    """Accept a record's auto-label (``value`` null or the same class) or override it (admins): either way your label,
    a new row that supersedes the auto-label, which stays in the history."""
    return _review.auto_label_public(project_id, _review.decide_auto_label(services, user, project_id, record_id, body.value))


@router.get("/consensus", response_model=s.Page[q.ConsensusLabelPublic])
def consensus(
    project_id: ProjectId, services: SessionDep, user: CurrentUser,
    offset: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(50, ge=1, le=1000),
) -> s.Page[q.ConsensusLabelPublic]:
    """The last retrain's training label of each labelled record, least confident first."""
    services.project(user, project_id)
    found, count = services.repo.consensus_page(project_id, offset, limit)
    return s.Page(data=[
        q.ConsensusLabelPublic(record_id=c.record_id, external_id=e, value=c.value, confidence=c.confidence, n_labels=c.n_labels)
        for e, c in found
    ], count=count)
