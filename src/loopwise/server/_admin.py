"""The admin console's services: user deactivation, the record browser, record history, adjudication, field checks."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError

from loopwise.errors import ConfigError
from loopwise.server import _schemas as s
from loopwise.server._export_formats import record_media_url
from loopwise.server._services import Services, require_admin
from loopwise.storage._annotation_admin import RecordFilter
from loopwise.storage._annotation_store import BrowsedRecord, HistoryEntry, UserInfo


def set_user_active(services: Services, actor: UserInfo, user_id: int, active: bool) -> UserInfo:
    """Deactivate a user (no sign-in, token revoked, leases freed) or reactivate them; not oneself."""
    require_admin(actor)
    if actor.id == user_id and not active:
        raise ConfigError("you cannot deactivate yourself; ask another admin")
    services.repo.set_user_active(user_id, active)
    services.forget()
    return services.repo.get_user(user_id)


def revoke_token(services: Services, actor: UserInfo, user_id: int) -> UserInfo:
    """Forget a user's API token (its hash): requests with it get 401 from now on."""
    if actor.id != user_id:
        require_admin(actor)
    services.repo.set_token_hash(user_id, None)
    services.forget()
    return services.repo.get_user(user_id)


def browse_records(
    services: Services, actor: UserInfo, project_id: int, where: RecordFilter, offset: int, limit: int
) -> tuple[list[BrowsedRecord], int]:
    require_admin(actor)
    services.repo.get_project(project_id)
    return services.repo.browse_records(project_id, where, offset, limit)


def record_history(services: Services, actor: UserInfo, project_id: int, record_id: int) -> list[HistoryEntry]:
    require_admin(actor)
    services.repo.get_project(project_id)
    return services.repo.record_history(project_id, record_id)


def adjudicate(services: Services, actor: UserInfo, project_id: int, record_id: int, value: str) -> HistoryEntry:
    """Decide a disagreement; the next retrain learns the decided label (it is scheduled now)."""
    require_admin(actor)
    services.repo.get_project(project_id)
    entry = services.repo.adjudicate(project_id, record_id, actor.id, actor.name, value)
    services.worker.schedule(project_id)
    return entry


def raise_field_issues(issues: list[tuple[str, str]]) -> None:
    """A 422 in FastAPI's own shape (``loc`` names the body field), so a form shows each message by its field."""
    if issues:
        raise RequestValidationError(
            [{"loc": ("body", field), "msg": message, "type": "value_error"} for field, message in issues]
        )


def browsed_public(project_id: int, record: BrowsedRecord) -> s.BrowsedRecordPublic:
    return s.BrowsedRecordPublic(
        id=record.record_id, external_id=record.external_id, payload=record.payload, role=record.role,
        state=record.state, n_labels=record.n_labels, media_url=record_media_url(project_id, record.record_id, record.payload), adjudicated=record.adjudicated,
        labels=[s.BrowsedLabelPublic(annotator=x.annotator, value=x.value, created_at=x.created_at) for x in record.labels],
        predicted=record.predicted, confidence=record.confidence,
    )


def history_public(entry: HistoryEntry) -> s.HistoryEntryPublic:
    return s.HistoryEntryPublic(
        id=entry.id, kind=entry.kind, annotator=entry.annotator, value=entry.value, reason=entry.reason,
        created_at=entry.created_at, undone=entry.undone,
    )


def filters(
    query: str | None, status: str | None, label: str | None, annotator: str | None,
    predicted: str | None = None, max_confidence: float | None = None,
) -> RecordFilter:
    """The browser's query parameters, empty ones dropped."""
    def clean(value: Any) -> str | None:
        return value.strip() or None if isinstance(value, str) else None

    return RecordFilter(
        query=clean(query), status=clean(status), label=clean(label), annotator=clean(annotator),
        predicted=clean(predicted), max_confidence=max_confidence,
    )


__all__ = [
    "adjudicate", "browse_records", "browsed_public", "filters", "history_public", "raise_field_issues",
    "record_history", "revoke_token", "set_user_active",
]
