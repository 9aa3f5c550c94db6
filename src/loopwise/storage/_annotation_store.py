"""AnnotationRepository: the database work of the annotation server (users, projects, queue, labels).

Every method runs in its own transaction and returns plain dataclasses. The work is split by concern,
one mixin a module: users and tokens (_annotation_users), projects and members (_annotation_projects),
records and imports (_annotation_records), the queue (_annotation_queue, with _queue_sql and _queue_pg),
an annotator's history, changes and undo (_annotation_history), the retrain's notes per record (_annotation_notes),
reads for the dashboard (_annotation_reads), the learning side (_annotation_learning), retrain failures
(_annotation_failures), the admin console (_annotation_admin), the review queue (_annotation_review),
consensus labels and annotator quality (_annotation_consensus), labelling rules and weak labels
(_annotation_rules), auto-labels and their review (_annotation_auto), and durability: transactions, locks and WAL sync (_annotation_base). This module
composes them.
"""

from __future__ import annotations

from ._annotation_admin import AdminQueries
from ._annotation_auto import AutoLabelQueries
from ._annotation_consensus import ConsensusQueries
from ._annotation_failures import FailureQueries, RetrainFailure
from ._annotation_history import HistoryQueries
from ._annotation_learning import LearningQueries
from ._annotation_notes import NoteQueries
from ._annotation_projects import ProjectQueries
from ._annotation_reads import ReadQueries
from ._annotation_review import ReviewQueries
from ._annotation_rules import RuleQueries
from ._annotation_records import RecordQueries
from ._annotation_types import (
    RETRACTED,
    USER_NAME_CHARACTERS,
    AnnotationProjectInfo,
    BrowsedRecord,
    ConflictError,
    CurrentLabel,
    HistoryEntry,
    LabelAck,
    NewRecords,
    Progress,
    QueueRecord,
    SnapshotRecord,
    UserInfo,
    check_label_names,
)
from ._annotation_users import UserQueries


class AnnotationRepository(
    UserQueries, ProjectQueries, RecordQueries, HistoryQueries, ReadQueries, LearningQueries, FailureQueries,
    NoteQueries,
    AdminQueries, ReviewQueries, ConsensusQueries, RuleQueries, AutoLabelQueries,
):
    """Database work of the annotation server, over a :class:`Store`'s engine.

    The store keeps doing what it does (projects, runs, loops, artifacts); this adds what people
    labelling need. ORM rows stay inside; callers get dataclasses.
    """


__all__ = [
    "RETRACTED",
    "USER_NAME_CHARACTERS",
    "AnnotationProjectInfo",
    "AnnotationRepository",
    "BrowsedRecord",
    "ConflictError",
    "CurrentLabel",
    "HistoryEntry",
    "LabelAck",
    "NewRecords",
    "Progress",
    "QueueRecord",
    "RetrainFailure",
    "SnapshotRecord",
    "UserInfo",
    "check_label_names",
]
