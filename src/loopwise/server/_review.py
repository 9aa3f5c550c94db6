"""The review queue's and annotator quality's services: who may review what, and the dashboard's figures."""

from __future__ import annotations

import json
from typing import Any

from loopwise.server import _quality_schemas as q
from loopwise.server import _schemas as s
from loopwise.server._errors import ForbiddenError
from loopwise.server._export_formats import record_media_url
from loopwise.server._project_checks import retrain_every
from loopwise.server._services import Services, require_admin
from loopwise.storage._annotation_auto import AutoLabel
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
    return q.ReviewItemPublic(
        id=item.id, given=item.given, suggested=item.suggested, self_confidence=item.self_confidence,
        loop_index=item.loop_index, status=item.status, reviewer=item.reviewer, decided=item.decided,  # type: ignore[arg-type]
        labelled_by=item.labelled_by, created_at=item.created_at, resolved_at=item.resolved_at,
        record=s.RecordPublic(
            id=item.record_id, external_id=item.external_id, payload=item.payload, role="pool", state="done",
            n_labels=len(item.labelled_by), media_url=record_media_url(project_id, item.record_id, item.payload),
        ),
    )


def auto_labels(
    services: Services, actor: UserInfo, project_id: int, status: str | None, offset: int, limit: int
) -> tuple[list[AutoLabel], int]:
    """The project's auto-labels of ``status`` (None: all), least confident first (admins only)."""
    require_admin(actor)
    services.project(actor, project_id)
    return services.repo.auto_labels(project_id, status, offset, limit)


def decide_auto_label(services: Services, actor: UserInfo, project_id: int, record_id: int, value: str | None) -> AutoLabel:
    """Accept (``value`` null or the same class) or override a record's auto-label: the admin's label supersedes it."""
    require_admin(actor)
    project = services.project(actor, project_id)
    decided = services.repo.review_auto_label(project_id, record_id, actor, value, int(project.settings.get("labels_per_record", 1)))
    services.worker.label_added(project_id, retrain_every(project.settings))  # a person's label, counted like one
    return decided


def auto_label_public(project_id: int, label: AutoLabel) -> q.AutoLabelPublic:
    return q.AutoLabelPublic(
        label_id=label.label_id, value=label.value, confidence=label.confidence, model_version=label.model_version,
        status=label.status, reviewer=label.reviewer, decided=label.decided, created_at=label.created_at,  # type: ignore[arg-type]
        record=s.RecordPublic(
            id=label.record_id, external_id=label.external_id, payload=label.payload, role="pool",
            state="auto" if label.status == "auto" else "done", n_labels=0 if label.status == "auto" else 1,
            media_url=record_media_url(project_id, label.record_id, label.payload),
        ),
    )


_summaries: dict[str, dict[str, Any] | None] = {}  # artifact hash -> its auto-labelling figures (artifacts never change)


def auto_label_counts(services: Services, run_id: str, project_id: int) -> s.AutoLabelCountsPublic:
    """The auto-labels by status, and the latest loop's auto-labelling figures (from its stored arrays)."""
    counts = services.repo.auto_label_counts(project_id)
    loops = services.repo.store.loops(run_id)
    last = None
    if loops:
        loop = loops[-1]
        if loop.artifact_hash not in _summaries:
            if len(_summaries) > 256:
                _summaries.clear()
            arrays = services.repo.store.load_arrays(loop.artifact_hash)
            _summaries[loop.artifact_hash] = json.loads(str(arrays["auto_label"])) if "auto_label" in arrays else None
        summary = _summaries[loop.artifact_hash]
        if summary is not None:
            last = {"loop_index": loop.loop_index, **{k: (None if v == float("inf") else v) for k, v in summary.items()}}
    return s.AutoLabelCountsPublic(
        n_auto=counts["auto"], n_accepted=counts["accepted"], n_overridden=counts["overridden"],
        n_retired=counts["retired"], last=last,
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


__all__ = ["auto_label_counts", "auto_label_public", "auto_labels", "consensus_public", "decide_auto_label", "resolve", "review_counts", "review_items", "review_public"]
