"""API schemas of label quality: the review queue, and the project's labelling rules and their statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from loopwise.server._schemas import RecordPublic


class ReviewItemPublic(BaseModel):
    """A label the audit doubts, on a record, with the class the out-of-fold model prefers, and the decision."""

    id: int
    record: RecordPublic
    given: str = Field(description="The training label the audit doubts.")
    suggested: str | None = Field(description="The class the out-of-fold model gives the highest probability.")
    self_confidence: float = Field(description="The out-of-fold probability of the given label (lower: more suspect).")
    loop_index: int = Field(description="The retrain whose audit doubted it (last).")
    status: Literal["open", "kept", "changed", "withdrawn"]
    reviewer: str | None
    decided: str | None
    labelled_by: list[str] = Field(description="Who gave labels in force on the record: they may not review it.")
    created_at: datetime
    resolved_at: datetime | None


class ReviewDecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str | None = Field(None, min_length=1, max_length=255, description="The right class; null keeps the given label.")


class ConsensusLabelPublic(BaseModel):
    """A labelled record's training label from the consensus model, and the model's confidence in it."""

    record_id: int
    external_id: str
    value: str
    confidence: float = Field(description="Dawid-Skene: the posterior of the label; CROWDLAB: its consensus quality "
                              "score; majority: the share of votes; 1 for a decided (adjudicated or reviewed) record.")
    n_labels: int
