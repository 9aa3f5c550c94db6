"""The review queue's and annotator quality's services: who may review what, and the dashboard's figures."""

from __future__ import annotations

from loopwise.server import _quality_schemas as q
from loopwise.server import _schemas as s
from loopwise.server._errors import ForbiddenError
from loopwise.server._services import Services
from loopwise.storage._annotation_review import ReviewItem
from loopwise.storage._annotation_store import UserInfo

UNCERTAIN = 0.8  # a consensus confidence under this counts as uncertain on the dashboard


def review_items(
    services: Services, actor: UserInfo, project_id: int, status: str | None, offset: int, limit: int
) -> tuple[list[ReviewItem], int]:
    """The project's review items; an annotator sees only open ones on records they did not label."""
    services.project(actor, project_id)
    if actor.role != "admin":
        return services.repo.review_items(project_id, "open", offset, limit, not_labelled_by=actor.name)
    return services.repo.review_items(project_id, status, offset, limit)


def resolve(services: Services, actor: UserInfo, project_id: int, item_id: int, value: str | None) -> ReviewItem:
    """Keep or change a doubted label: an admin or a project member who gave no label on the record."""
    services.project(actor, project_id)
    item = services.repo.review_item(project_id, item_id)
    if actor.name in item.labelled_by:
        raise ForbiddenError(f"you labelled record {item.external_id}; a second person reviews it")
    resolved = services.repo.resolve_review(project_id, item_id, actor, value)
    if resolved.status == "changed":
        services.worker.schedule(project_id)  # the changed label trains from the next retrain on
    return resolved


def review_public(project_id: int, item: ReviewItem) -> q.ReviewItemPublic:
    media = f"/api/projects/{project_id}/records/{item.record_id}/media" if item.payload and "image" in item.payload else None
    return q.ReviewItemPublic(
        id=item.id, given=item.given, suggested=item.suggested, self_confidence=item.self_confidence,
        loop_index=item.loop_index, status=item.status, reviewer=item.reviewer, decided=item.decided,  # type: ignore[arg-type]
        labelled_by=item.labelled_by, created_at=item.created_at, resolved_at=item.resolved_at,
        record=s.RecordPublic(
            id=item.record_id, external_id=item.external_id, payload=item.payload, role="pool", state="done",
            n_labels=len(item.labelled_by), media_url=media,
        ),
    )


def review_counts(services: Services, project_id: int) -> s.ReviewCountsPublic:
    counts = services.repo.review_counts(project_id)
    return s.ReviewCountsPublic(
        n_open=counts.n_open, n_kept=counts.n_kept, n_changed=counts.n_changed, n_withdrawn=counts.n_withdrawn
    )


def consensus_public(services: Services, project_id: int) -> s.ConsensusPublic | None:
    """The last retrain's consensus: its method, how many labels it is unsure of, and each annotator's quality."""
    stored = services.repo.stored_consensus(project_id)
    if stored is None:
        return None
    return s.ConsensusPublic(
        method=stored.method, loop_index=stored.loop_index, n_records=len(stored.labels),
        n_uncertain=sum(c.confidence < UNCERTAIN for c in stored.labels.values()),
        annotators=[
            s.AnnotatorQualityPublic(annotator=a.annotator, quality=a.quality, agreement=a.agreement, n_labels=a.n_labels)
            for a in stored.quality
        ],
    )


__all__ = ["consensus_public", "resolve", "review_counts", "review_items", "review_public"]
