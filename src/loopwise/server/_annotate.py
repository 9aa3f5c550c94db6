"""The annotate page's services: the model's note on a record, the annotator's history, change and undo."""

from __future__ import annotations

from typing import Any

from loopwise.server._services import Services
from loopwise.storage._annotation_history import HistoryItem
from loopwise.storage._annotation_notes import QueueNote
from loopwise.storage._annotation_store import AnnotationProjectInfo, LabelAck, QueueRecord, UserInfo


def note_for(services: Services, actor: UserInfo, project: AnnotationProjectInfo, record: QueueRecord | None) -> tuple[QueueNote | None, bool]:
    """The retrain's note on ``record`` and whether ``actor`` may see its suggested label (admins always)."""
    if record is None:
        return None, False
    show = actor.role == "admin" or not project.settings.get("hide_suggestions", False)
    return (record.note if record.noted else services.repo.queue_note(record.record_id)), show


def reopen(services: Services, actor: UserInfo, project_id: int, record_id: int) -> tuple[AnnotationProjectInfo, QueueRecord, str | None]:
    """A record the annotator saw before, with their label in force on it (to change it)."""
    project = services.project(actor, project_id)
    record = services.repo.get_record(project_id, record_id)
    return project, record, services.repo.my_label(project_id, record_id, actor.id)


def history(services: Services, actor: UserInfo, project_id: int, limit: int) -> list[HistoryItem]:
    """The annotator's latest labels, skips and flags in the project, newest first."""
    services.project(actor, project_id)
    return services.repo.history(project_id, actor.id, limit)


def change_label(services: Services, actor: UserInfo, project_id: int, record_id: int, value: Any) -> LabelAck:
    """Replace the annotator's own label on a record; the old label stays in the history, superseded."""
    project = services.project(actor, project_id)
    return services.repo.change_label(project, record_id, actor, services.label_text(project, record_id, value))


def undo(services: Services, actor: UserInfo, project_id: int) -> tuple[AnnotationProjectInfo, str, QueueRecord]:
    """Undo the annotator's last action, whatever it was (label, skip or flag); its record comes back."""
    project = services.project(actor, project_id)
    k = int(project.settings.get("labels_per_record", 1))
    kind, record = services.repo.undo_last_action(project_id, actor, k, float(project.settings.get("lease_seconds", 600)))
    return project, kind, record


__all__ = ["change_label", "history", "note_for", "reopen", "undo"]
