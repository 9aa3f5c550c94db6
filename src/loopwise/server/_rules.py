"""Labelling rules on the server: keyword and regex rules per project, applied to the pool with Snorkel.

Glue only: the rules are ``labeling.keyword_lf`` / ``regex_lf``, applied by Snorkel's LFApplier, described by its
LFAnalysis, combined by its LabelModel with majority vote beside it as the baseline (``labeling._weak``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np

from loopwise.errors import ConfigError
from loopwise.server import _quality_schemas as q
from loopwise.server._services import Services, require_admin
from loopwise.storage._annotation_rules import LabelRule, WeakLabel
from loopwise.storage._annotation_store import AnnotationProjectInfo, UserInfo

WEAK_METHODS = ("label_model", "majority")
MIN_RULES_FOR_LABEL_MODEL = 3  # Snorkel's LabelModel refuses fewer


def labeling_function(rule: LabelRule | q.RuleCreate, names: list[str]) -> Any:
    """The Snorkel labelling function of a rule; a ConfigError naming the rule when it cannot be built."""
    from loopwise.labeling import keyword_lf, regex_lf

    if rule.label not in names:
        raise ConfigError(f"rule {rule.name!r}: label {rule.label!r} is not a class of this project; classes: {names}")
    label = names.index(rule.label)
    if rule.kind == "keyword":
        return keyword_lf(rule.name, [k.strip() for k in rule.pattern.split(",") if k.strip()], label)
    return regex_lf(rule.name, rule.pattern, label)


def create_rule(services: Services, actor: UserInfo, project_id: int, body: q.RuleCreate) -> LabelRule:
    """Add a rule (admins) once it builds: keywords given, the regular expression compiles, the class exists."""
    require_admin(actor)
    project = services.repo.get_project(project_id)
    labeling_function(body, project.label_names)
    return services.repo.create_rule(project_id, body.name, body.kind, body.pattern, body.label)


def _text(project: AnnotationProjectInfo, payload: dict[str, Any] | None) -> str:
    """What a rule reads: the text field of a text project, the payload as JSON otherwise."""
    payload = payload or {}
    if project.task == "text":
        value = payload.get(str(project.settings.get("text_field", "text")))
        return "" if value is None else str(value)
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def apply_rules(services: Services, actor: UserInfo, project_id: int) -> q.RuleStatsPublic:
    """Apply every rule to the pool, store the label model's weak labels and the statistics, and return them."""
    from loopwise.labeling import apply_lfs, lf_summary, weak_labels

    require_admin(actor)
    repo = services.repo
    project = repo.get_project(project_id)
    names = project.label_names
    rules = repo.list_rules(project_id)
    if not rules:
        raise ConfigError(f"project {project.name!r} has no rules to apply; add one first")
    pool = [r for r in repo.snapshot(project_id) if r.role == "pool" and r.state != "flagged"]
    if not pool:
        raise ConfigError(f"project {project.name!r} has no pool records to apply its rules to")
    lfs = [labeling_function(rule, names) for rule in rules]
    L = apply_lfs(lfs, [_text(project, r.payload) for r in pool])
    # The human training labels the rules are measured against: the retrain's consensus, else the first label.
    stored = repo.stored_consensus(project_id)
    human: dict[int, str] = {}
    for label in repo.current_labels(project_id):
        human.setdefault(label.record_id, label.value)
    if stored is not None:
        human.update({r: c.value for r, c in stored.labels.items()})
    checked = np.asarray([i for i, r in enumerate(pool) if r.record_id in human], dtype=np.int64)
    y = np.asarray([names.index(human[pool[i].record_id]) for i in checked], dtype=np.int64)
    overall = lf_summary(L, lfs)
    by_rule = lf_summary(L[checked], lfs, y) if len(checked) else []
    rule_rows = []
    for i, row in enumerate(overall):
        fired = int((L[checked, i] >= 0).sum()) if len(checked) else 0
        accuracy = _finite(by_rule[i]["accuracy"]) if by_rule and fired else None
        rule_rows.append(q.RuleStatPublic(
            name=row["name"], coverage=row["coverage"], overlap=row["overlap"], conflict=row["conflict"],
            accuracy=accuracy, n_checked=fired,
        ))
    models, kept = [], None
    for method in WEAK_METHODS:
        if method == "label_model" and len(rules) < MIN_RULES_FOR_LABEL_MODEL:
            models.append(q.WeakModelPublic(
                method=method, coverage=0.0, accuracy=None, n_checked=0,
                note=f"Snorkel's label model needs at least {MIN_RULES_FOR_LABEL_MODEL} rules; the weak labels are majority vote's",
            ))
            continue
        found = weak_labels(L, len(names), method, seed=int(project.settings.get("seed", 0)))
        hit = found.covered[checked] if len(checked) else np.zeros(0, dtype=bool)
        accuracy = float((found.labels[checked][hit] == y[hit]).mean()) if hit.any() else None
        models.append(q.WeakModelPublic(method=method, coverage=float(found.covered.mean()), accuracy=accuracy, n_checked=int(hit.sum())))
        kept = kept or found  # the label model's when it ran, else majority's
    assert kept is not None
    stats = q.RuleStatsPublic(
        n_records=len(pool), n_labelled=len(checked), rules=rule_rows, models=models, applied_at=datetime.now().astimezone(),
    )
    weak = [
        WeakLabel(pool[i].record_id, names[int(kept.labels[i])], float(kept.confidence[i])) for i in np.flatnonzero(kept.covered)
    ]
    repo.store_weak_labels(project_id, weak, kept.method, stats.model_dump(mode="json"))
    if project.settings.get("weak_start"):
        services.worker.schedule(project_id)  # before the first labels, the queue's order comes from them
    return stats


def rule_stats(services: Services, actor: UserInfo, project_id: int) -> q.RuleStatsPublic | None:
    """The last application's statistics (None before any)."""
    require_admin(actor)
    services.repo.get_project(project_id)
    found = services.repo.rule_stats(project_id)
    return None if found is None else q.RuleStatsPublic.model_validate(found.summary)


def rule_public(rule: LabelRule) -> q.RulePublic:
    return q.RulePublic(id=rule.id, name=rule.name, kind=rule.kind, pattern=rule.pattern, label=rule.label, created_at=rule.created_at)


__all__ = ["apply_rules", "create_rule", "labeling_function", "rule_public", "rule_stats"]
