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


class AutoLabelPublic(BaseModel):
    """A label the model gave on its own (source auto), and what a person decided about it."""

    label_id: int
    record: RecordPublic
    value: str = Field(description="The auto-label's class.")
    source: Literal["auto"] = "auto"
    confidence: float | None = Field(description="The model's probability of that class.")
    model_version: int | None = Field(description="The loop index of the run's model that gave it.")
    status: Literal["auto", "accepted", "overridden", "retired"] = Field(
        description="auto: in force; accepted / overridden: a person's label (the same class / another) supersedes "
        "it; retired: the record left the auto state otherwise (flagged, or a label imported)."
    )
    reviewer: str | None
    decided: str | None = Field(description="The reviewer's class.")
    created_at: datetime


class AutoLabelDecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str | None = Field(None, min_length=1, max_length=255, description="The right class; null accepts the auto-label.")


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


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.-]+$", description="Unique in the project.")
    kind: Literal["keyword", "regex"] = Field(description="keyword: any of comma-separated words (whole words, any case); "
                                              "regex: a Python regular expression (any case).")
    pattern: str = Field(min_length=1, max_length=10_000)
    label: str = Field(min_length=1, max_length=255, description="The class the rule votes for when it fires.")


class RulePublic(BaseModel):
    id: int
    name: str
    kind: str
    pattern: str
    label: str
    created_at: datetime


class RuleStatPublic(BaseModel):
    """One rule over the pool (Snorkel's LFAnalysis): the share of records it labels, overlaps with another rule
    on, conflicts with another rule on; and its accuracy on the records people labelled that it fires on."""

    name: str
    coverage: float
    overlap: float
    conflict: float
    accuracy: float | None = Field(description="Null when it fires on no human-labelled record.")
    n_checked: int = Field(description="Human-labelled records it fires on.")


class WeakModelPublic(BaseModel):
    """A way to combine the rules' votes: Snorkel's label model, or majority vote (the baseline)."""

    method: Literal["label_model", "majority"]
    coverage: float = Field(description="Share of the pool that some rule labels.")
    accuracy: float | None = Field(description="On the covered records people labelled (null: none).")
    n_checked: int
    note: str | None = Field(None, description="Why it did not run, if it did not.")


class RuleStatsPublic(BaseModel):
    n_records: int = Field(description="Pool records the rules were applied to.")
    n_labelled: int = Field(description="Of those, with a human training label (what the accuracies are measured on).")
    rules: list[RuleStatPublic]
    models: list[WeakModelPublic]
    applied_at: datetime
