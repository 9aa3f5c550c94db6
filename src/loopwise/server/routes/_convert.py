"""Storage dataclasses to API schemas."""

from __future__ import annotations

from loopwise.server import _schemas as s
from loopwise.server._export_formats import record_media_url
from loopwise.storage._annotation_store import AnnotationProjectInfo, LabelAck, QueueRecord, UserInfo


def user_public(user: UserInfo) -> s.UserPublic:
    return s.UserPublic(
        id=user.id, name=user.name, role=user.role, created_at=user.created_at,
        has_password=user.has_password, has_token=user.has_token, active=user.active,
    )


def project_public(project: AnnotationProjectInfo) -> s.ProjectPublic:
    return s.ProjectPublic(
        id=project.id, name=project.name, task=project.task, label_names=project.label_names,
        instructions=project.instructions, settings=s.ProjectSettings.model_validate(project.settings),
        status=project.status, run_id=project.run_id, created_at=project.created_at,
        archived=project.archived, cost_per_label=project.cost_per_label,
    )


def record_public(project_id: int, record: QueueRecord) -> s.RecordPublic:
    return s.RecordPublic(
        id=record.record_id, external_id=record.external_id, payload=record.payload, role=record.role,
        state=record.state, n_labels=record.n_labels, lease_expires_at=record.lease_expires_at, media_url=record_media_url(project_id, record.record_id, record.payload),
    )


def label_public(ack: LabelAck) -> s.LabelPublic:
    return s.LabelPublic(
        id=ack.label_id, record_id=ack.record_id, external_id=ack.external_id, value=ack.value,
        annotator=ack.annotator, created_at=ack.created_at,
    )
