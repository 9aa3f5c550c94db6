"""Labelling rules (admins): keyword and regex rules per project, applied to the pool with Snorkel's label model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from loopwise.server import _quality_schemas as q
from loopwise.server import _rules
from loopwise.server import _schemas as s
from loopwise.server._deps import CurrentUser, SessionDep
from loopwise.server._services import require_admin
from loopwise.server.routes._params import MAX_ID, ProjectId, errors

router = APIRouter(prefix="/projects/{project_id:int}/rules", tags=["label quality"], responses=errors(400, 401, 403, 404, 422))
RuleId = Annotated[int, Path(ge=1, le=MAX_ID, description="A rule's id.")]


@router.get("", response_model=s.Page[q.RulePublic])
def list_rules(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> s.Page[q.RulePublic]:
    require_admin(user)
    services.repo.get_project(project_id)
    rules = [_rules.rule_public(r) for r in services.repo.list_rules(project_id)]
    return s.Page(data=rules, count=len(rules))


@router.post("", response_model=q.RulePublic, status_code=201, responses=errors(409))
def create_rule(project_id: ProjectId, body: q.RuleCreate, services: SessionDep, user: CurrentUser) -> q.RulePublic:
    """Add a rule: keywords (comma-separated) or a regular expression, and the class it votes for."""
    return _rules.rule_public(_rules.create_rule(services, user, project_id, body))


@router.delete("/{rule_id:int}", response_model=s.Message)
def delete_rule(project_id: ProjectId, rule_id: RuleId, services: SessionDep, user: CurrentUser) -> s.Message:
    require_admin(user)
    services.repo.delete_rule(project_id, rule_id)
    return s.Message(detail=f"deleted rule {rule_id}")


@router.post("/apply", response_model=q.RuleStatsPublic)
def apply_rules(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> q.RuleStatsPublic:
    """Apply the rules to the pool: per-rule coverage, overlap, conflict and accuracy; label model vs majority vote."""
    return _rules.apply_rules(services, user, project_id)


@router.get("/stats", response_model=q.RuleStatsPublic | None)
def rule_stats(project_id: ProjectId, services: SessionDep, user: CurrentUser) -> q.RuleStatsPublic | None:
    """The statistics of the last application (null before any)."""
    return _rules.rule_stats(services, user, project_id)
