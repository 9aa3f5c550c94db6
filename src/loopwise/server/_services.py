"""Services: what the API does, in terms of the store. Routes call these; these call storage."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import anyio
import anyio.to_thread
from pydantic import BaseModel, ValidationError

from loopwise.errors import ConfigError, DataError, LoopwiseError
from loopwise.server import _schemas as s
from loopwise.server._errors import AuthError, ForbiddenError
from loopwise.server._export_formats import FORMATS, export_file
from loopwise.server._imports import confine, read_path, read_upload
from loopwise.server._label_kinds import canonical_value
from loopwise.server._learning import LearningWorker
from loopwise.server._project_checks import check_settings, project_settings
from loopwise.server._project_checks import retrain_every as _retrain_every
from loopwise.server._security import LoginThrottle, hash_password, new_token, token_hash, verify_password
from loopwise.server._settings import ServerSettings
from loopwise.stopping import parse_stopping
from loopwise.storage import SELECTION, AnnotationRepository
from loopwise.storage._annotation_store import AnnotationProjectInfo, CurrentLabel, NewRecords, QueueRecord, UserInfo

log = logging.getLogger("loopwise.server")


class _TTLCache:
    """A few seconds of memory for the lookups every request makes (token owner, project, membership)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, load: Any) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Services:
    """One per app: the repository, the learning worker and the settings, shared by every request."""

    def __init__(self, repo: AnnotationRepository, settings: ServerSettings, worker: LearningWorker) -> None:
        self.repo = repo
        self.settings = settings
        self.worker = worker
        self.media_dir = Path(repo.store.artifacts_dir) / "media"
        # Changes made through this server clear it at once; ones made by another process show within 2 s.
        self._cache = _TTLCache(2.0)
        # One writer thread on SQLite (one writer in the database); a few on PostgreSQL, whose row lock
        # serialises only the annotators of the same project.
        self._writer = anyio.CapacityLimiter(1 if repo.dialect == "sqlite" else 4)
        self._syncers = anyio.CapacityLimiter(8)
        self.login_throttle = LoginThrottle()

    def forget(self) -> None:
        self._cache.clear()

    # -- users -----------------------------------------------------------------------------------

    def ensure_admin(self) -> str | None:
        """Create the first admin if the store has none; returns a generated password to print, if any."""
        if self.repo.count_admins() > 0:
            return None
        import secrets

        password = self.settings.admin_password or secrets.token_urlsafe(12)
        self.repo.create_user(self.settings.admin_name, "admin", hash_password(password))
        return None if self.settings.admin_password else password

    def login(self, body: s.LoginCreate, address: str = "") -> UserInfo:
        """The user of a name and password; failures are throttled per name and per client address."""
        self.login_throttle.check(body.name, address)
        found = self.repo.user_with_password(body.name)
        stored = found[1] if found else None
        if not verify_password(body.password, stored) or found is None:
            self.login_throttle.failed(body.name, address)
            raise AuthError("wrong user name or password")
        self.login_throttle.succeeded(body.name)
        if not found[0].active:
            raise AuthError(f"the account {body.name!r} is deactivated; ask an admin")
        return found[0]

    def user_for_token(self, token: str) -> UserInfo:
        """The token's owner; every token is read in one statement every 2 s, not each annotator's on its own."""
        digest = token_hash(token)
        user = self._cache.get("token owners", self.repo.token_owners).get(digest)
        if user is None:  # a token made in another process since
            user = self._cache.get(("token", digest), lambda: self.repo.user_by_token_hash(digest))
        if user is None or not user.active:
            raise AuthError("invalid API token")
        return user

    def user(self, user_id: int) -> UserInfo:
        return self.repo.get_user(user_id)

    def cached_user(self, user_id: int) -> UserInfo:
        return self._cache.get(("user", user_id), lambda: self.repo.get_user(user_id))  # type: ignore[no-any-return]

    def list_users(self, actor: UserInfo) -> list[UserInfo]:
        require_admin(actor)
        return self.repo.list_users()

    def create_user(self, actor: UserInfo, body: s.UserCreate) -> UserInfo:
        require_admin(actor)
        return self.repo.create_user(body.name, body.role, hash_password(body.password) if body.password else None)

    def set_password(self, actor: UserInfo, user_id: int, body: s.UserUpdate) -> UserInfo:
        if actor.id != user_id:
            require_admin(actor)
        self.repo.set_password_hash(user_id, hash_password(body.password))
        self.forget()
        return self.repo.get_user(user_id)

    def new_token(self, actor: UserInfo, user_id: int) -> tuple[str, UserInfo]:
        """A fresh API token for ``user_id`` (it replaces the old one), returned once."""
        if actor.id != user_id:
            require_admin(actor)
        token = new_token()
        self.repo.set_token_hash(user_id, token_hash(token))
        self.forget()
        return token, self.repo.get_user(user_id)

    # -- projects --------------------------------------------------------------------------------

    def project(self, actor: UserInfo, project_id: int) -> AnnotationProjectInfo:
        """The project, if ``actor`` may see it; otherwise 'not found', so ids of others' projects leak nothing."""
        project = self._cache.get(("project", project_id), lambda: self.repo.get_project(project_id))
        # Every member read in one statement every 2 s; someone added since (by another process) on their own.
        member = (
            actor.role == "admin"
            or actor.id in self._cache.get(("members", project_id), lambda: self.repo.member_ids(project_id))
            or self._cache.get(("member", project_id, actor.id), lambda: self.repo.is_member(project_id, actor.id))
        )
        if not member:
            from loopwise.errors import NotFoundError

            raise NotFoundError(f"no project with id {project_id}")
        return project

    def list_projects(self, actor: UserInfo) -> list[AnnotationProjectInfo]:
        if actor.role == "admin":
            return self.repo.list_projects(None)
        return [p for p in self.repo.list_projects(actor.id) if not p.archived]

    def create_project(self, actor: UserInfo, body: s.ProjectCreate) -> AnnotationProjectInfo:
        require_admin(actor)
        settings = project_settings(body)
        return self.repo.create_project(
            body.name, body.task, body.label_names, body.instructions, settings.model_dump(), body.cost_per_label
        )

    def create_project_with_records(
        self, actor: UserInfo, project_json: str, handle: BinaryIO, filename: str, id_column: str | None
    ) -> AnnotationProjectInfo:
        """A new project and its records in one transaction: a file that is refused leaves no project."""
        require_admin(actor)
        try:
            body = s.ProjectCreate.model_validate_json(project_json)
        except ValidationError as exc:
            issue = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in issue["loc"]) or "the JSON"
            raise DataError(f"the 'project' form field: {where}: {issue['msg']}") from None
        settings = project_settings(body)
        records = read_upload(
            handle, filename, task=body.task, media_dir=self.media_dir, id_column=id_column or None,
            label_column="label", split_column="split", label_names=body.label_names,
            max_zip_bytes=self.settings.max_zip_bytes, text_field=settings.text_field, resolve_image=self._stored_image,
            import_dir=self.settings.import_dir, label_kind=settings.label_kind,
        )
        project = self.repo.create_project(
            body.name, body.task, body.label_names, body.instructions, settings.model_dump(), body.cost_per_label,
            records=NewRecords(records.external_ids, records.payloads, records.roles, records.gold, records.labels),
            seed=settings.seed,
        )
        self._cold_start(project)
        return project

    def delete_project(self, actor: UserInfo, project_id: int) -> str:
        """Delete a project and everything in it (admins); returns its name."""
        require_admin(actor)
        name = self.repo.delete_project(project_id)
        self.forget()
        return name

    def update_project(self, actor: UserInfo, project_id: int, body: s.ProjectUpdate) -> AnnotationProjectInfo:
        require_admin(actor)
        project = self.repo.get_project(project_id)
        from loopwise.server._admin import raise_field_issues
        from loopwise.server._project_checks import settings_issues

        changes = body.model_dump(exclude_unset=True)
        instructions = changes.pop("instructions", None)
        status = changes.pop("status", None)
        archived, cost = changes.pop("archived", None), changes.pop("cost_per_label", None)
        settings = None
        if changes:
            settings = s.ProjectSettings.model_validate({**project.settings, **changes})
            raise_field_issues(settings_issues(settings, project.task))
        self.forget()
        if archived is not None or cost is not None:
            self.repo.set_project_admin_fields(project_id, archived=archived, cost_per_label=cost)
        updated = self.repo.update_project(
            project_id, instructions=instructions, status=status,
            settings=None if settings is None else settings.model_dump(),
        )
        if status == "active":
            self.worker.schedule(project_id)
        elif "initializer" in changes or "weak_start" in changes:
            self._cold_start(updated)
        return updated

    def _cold_start(self, project: AnnotationProjectInfo) -> None:
        """Order the queue by the project's loop-0 strategy in the background, if it has one (not random)."""
        if str(project.settings.get("initializer", "random")) != "random" or project.settings.get("weak_start"):
            self.worker.schedule(project.id)

    def add_member(self, actor: UserInfo, project_id: int, user_id: int) -> list[UserInfo]:
        require_admin(actor)
        self.repo.get_project(project_id)
        self.repo.add_member(project_id, user_id)
        self.forget()
        return self.repo.list_members(project_id)

    def remove_member(self, actor: UserInfo, project_id: int, user_id: int) -> list[UserInfo]:
        require_admin(actor)
        self.repo.remove_member(project_id, user_id)
        self.forget()
        return self.repo.list_members(project_id)

    def members(self, actor: UserInfo, project_id: int) -> list[UserInfo]:
        self.project(actor, project_id)
        return self.repo.list_members(project_id)

    def import_upload(self, actor: UserInfo, project_id: int, handle: BinaryIO, filename: str, id_column: str | None) -> s.ImportPublic:
        require_admin(actor)
        project = self.repo.get_project(project_id)
        records = read_upload(
            handle, filename, task=project.task, media_dir=self.media_dir, id_column=id_column or None,
            label_column="label", split_column="split", label_names=project.label_names,
            max_zip_bytes=self.settings.max_zip_bytes, text_field=str(project.settings.get("text_field", "text")),
            resolve_image=self._stored_image, import_dir=self.settings.import_dir, label_kind=project.label_kind,
        )
        return self._add(project, records)

    def _stored_image(self, project_id: int, record_id: int) -> str | None:
        """The stored image file of a record of this server (what its exports' image URLs point at)."""
        try:
            payload = self.repo.get_record(project_id, record_id).payload or {}
        except LoopwiseError:
            return None
        return str(payload.get("image") or "") or None

    def import_path(self, actor: UserInfo, project_id: int, body: s.ImportPath) -> s.ImportPublic:
        require_admin(actor)
        project = self.repo.get_project(project_id)
        path = confine(self.settings.import_dir, body.path)
        records = read_path(
            path, task=project.task, media_dir=self.media_dir, id_column=body.id_column,
            label_column=body.label_column, split_column=body.split_column, label_names=project.label_names,
            max_zip_bytes=self.settings.max_zip_bytes, text_field=str(project.settings.get("text_field", "text")),
            resolve_image=self._stored_image, import_dir=self.settings.import_dir, label_kind=project.label_kind,
        )
        return self._add(project, records)

    def _add(self, project: AnnotationProjectInfo, records: Any) -> s.ImportPublic:
        added = self.repo.add_records(
            project.id, records.external_ids, records.payloads, roles=records.roles, gold=records.gold,
            seed=int(project.settings.get("seed", 0)), labels=records.labels,
        )
        if added:
            self._cold_start(project)
        return s.ImportPublic(
            n_read=len(records), n_added=added, n_test=sum(r == "test" for r in records.roles),
            n_labels=len(records.labels), n_predictions=records.n_predictions,
        )

    # -- records and the queue -------------------------------------------------------------------

    def record(self, actor: UserInfo, project_id: int, record_id: int) -> QueueRecord:
        self.project(actor, project_id)
        return self.repo.get_record(project_id, record_id)

    def media_path(self, actor: UserInfo, project_id: int, record_id: int) -> Path:
        import re

        record = self.record(actor, project_id, record_id)
        name = str((record.payload or {}).get("image", ""))
        if not re.fullmatch(r"[0-9a-f]{64}\.(png|jpeg|gif|bmp|webp)", name):
            from loopwise.errors import NotFoundError

            raise NotFoundError(f"record {record_id} has no image")
        return self.media_dir / name

    def next_record(self, actor: UserInfo, project_id: int) -> tuple[QueueRecord | None, str | None]:
        project = self.project(actor, project_id)
        if project.archived:
            return None, "the project is archived: an admin keeps it for reference, it takes no labels"
        if project.status != "active":
            return None, "the project is stopped: its stopping rule fired or an admin paused it"
        k = int(project.settings.get("labels_per_record", 1))
        budget = label_budget(project.settings)
        record = self.repo.lease_next(
            project_id, actor.id, k, float(project.settings.get("lease_seconds", 600)), budget=budget
        )
        if record is not None:
            return record, None
        if budget is not None and self.repo.budget_used(project_id) >= budget:
            return None, f"the label budget of {budget} records is spent (labelled or held by annotators)"
        return None, "no record is waiting for you: everything is labelled or held"

    def label_text(self, project: AnnotationProjectInfo, record_id: int, value: Any) -> str:
        """The text stored for ``value`` on a record of ``project``, checked against the project's label kind."""
        if project.label_kind == "single" and isinstance(value, str):
            return value  # the hot path: the store checks the class
        if isinstance(value, list):
            value = [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
        payload = None
        if project.label_kind == "spans":
            payload = self.repo.get_record(project.id, record_id).payload
        return canonical_value(project.label_kind, value, project.label_names, payload, project.settings.get("text_field", "text"))

    def label(self, actor: UserInfo, project_id: int, record_id: int, value: Any) -> Any:
        project = self.project(actor, project_id)
        value = self.label_text(project, record_id, value)
        k = int(project.settings.get("labels_per_record", 1))
        budget = label_budget(project.settings)
        ack = self.repo.submit_label(project, record_id, actor, value, k, budget=budget)
        self._after_label(project_id, project.settings, budget)
        return ack

    def _after_label(self, project_id: int, settings: dict[str, Any], budget: int | None) -> None:
        self.worker.label_added(project_id, _retrain_every(settings))
        # The last label the budget pays for: learn from it now, so the stopping rule fires and the
        # project's status says stopped, rather than waiting for a retrain that never comes.
        if budget is not None and self.repo.budget_used(project_id) >= budget:
            self.worker.schedule(project_id)

    # The queue's two hot calls, for async routes. Their transactions run one at a time on a worker
    # thread (the store has one writer anyway), so a burst of annotators queues on a limiter instead
    # of forty threads fighting over the GIL and the write lock; the fsync that makes a label durable
    # runs on another thread, shared by every label committed before it starts.

    async def next_record_async(self, actor: UserInfo, project_id: int) -> tuple[QueueRecord | None, str | None]:
        return await anyio.to_thread.run_sync(self.next_record, actor, project_id, limiter=self._writer)

    async def label_async(self, actor: UserInfo, project_id: int, record_id: int, value: Any) -> Any:
        project = self.project(actor, project_id)
        value = self.label_text(project, record_id, value)
        k = int(project.settings.get("labels_per_record", 1))
        budget = label_budget(project.settings)
        ack = await anyio.to_thread.run_sync(
            partial(self.repo.submit_label, project, record_id, actor, value, k, sync=False, budget=budget),
            limiter=self._writer,
        )
        await anyio.to_thread.run_sync(self.repo.sync, limiter=self._syncers)
        if budget is None:
            self.worker.label_added(project_id, _retrain_every(project.settings))
        else:
            await anyio.to_thread.run_sync(self._after_label, project_id, project.settings, budget)
        return ack

    def skip(self, actor: UserInfo, project_id: int, record_id: int) -> None:
        self.project(actor, project_id)
        self.repo.skip(project_id, record_id, actor.id)

    def flag(self, actor: UserInfo, project_id: int, record_id: int, reason: str) -> None:
        """Take a record out of the queue and of training: admins any record, annotators one they hold or labelled."""
        self.project(actor, project_id)
        if actor.role != "admin" and not self.repo.holds_or_labelled(project_id, record_id, actor.id):
            raise ForbiddenError(f"you may flag only a record you hold or have labelled; record {record_id} is neither")
        self.repo.flag(project_id, record_id, actor.id, reason)

    def unflag(self, actor: UserInfo, project_id: int, record_id: int) -> None:
        """Put a flagged record back into the queue and training (admins only)."""
        require_admin(actor)
        project = self.repo.get_project(project_id)
        self.repo.unflag(project_id, record_id, actor.id, int(project.settings.get("labels_per_record", 1)))

    # -- dashboard and export --------------------------------------------------------------------

    def progress(self, actor: UserInfo, project_id: int) -> s.ProgressPublic:
        self.project(actor, project_id)
        p = self.repo.progress(project_id)
        return s.ProgressPublic(
            n_pool=p.n_pool, n_test=p.n_test, n_done=p.n_done, n_open=p.n_open, n_flagged=p.n_flagged,
            n_labels=p.n_labels, n_skips=p.n_skips, n_held=p.n_held, n_mine=p.labels_per_annotator.get(actor.name, 0),
            n_auto=p.n_auto,
        )

    def stats(self, actor: UserInfo, project_id: int) -> s.StatsPublic:
        from loopwise.server import _review  # it builds on this module

        project = self.project(actor, project_id)
        progress = self.progress(actor, project_id)
        labels = self.repo.current_labels(project_id, adjudicated=False)
        per_annotator = Counter(label.annotator for label in labels)
        loops = [
            s.LoopPublic(
                loop_index=loop.loop_index, n_labelled=loop.n_labelled, strategy=loop.strategy,
                metrics={k: v for k, v in loop.metrics.items() if k in ("accuracy", "macro_f1", "log_loss", "evaluation", "note", "random_control")},
                timings=loop.timings, created_at=loop.created_at,
                # Without past_arms: every loop repeats the arms of all the loops before it.
                selection={k: v for k, v in (loop.metrics.get(SELECTION) or {}).items() if k != "past_arms"},
            )
            for loop in self.repo.store.loops(project.run_id)
        ]
        evaluation = next((loop.metrics.get("evaluation") for loop in reversed(loops) if loop.metrics.get("evaluation")), None)
        failure = self.repo.retrain_failure(project_id)
        return s.StatsPublic(
            progress=progress, labels_per_annotator=dict(per_annotator), loops=loops, evaluation=evaluation,
            agreement=agreement(labels, project.label_names), training=self.worker.training(project_id),
            last_retrain_error=None if failure is None else s.RetrainErrorPublic.model_validate(failure, from_attributes=True),
            review=_review.review_counts(self, project_id), consensus=_review.consensus_public(self, project_id),
            auto_labels=_review.auto_label_counts(self, project.run_id, project_id),
            active_losing=[loop.loop_index for loop in loops if loop.selection.get("active_losing") is True],
        )

    def export(
        self, actor: UserInfo, project_id: int, fmt: str, base_url: str = "", history: bool = False
    ) -> tuple[str, str, Iterator[str]]:
        """(media type, file name, chunks) of the project in ``fmt``; image URLs start with ``base_url``;
        ``history`` adds every label row of each record, superseded ones included (CSV and JSONL)."""
        require_admin(actor)
        if fmt not in FORMATS:
            raise ConfigError(f"export format must be one of {', '.join(FORMATS)}; got {fmt!r}")
        project = self.repo.get_project(project_id)
        labels = self.repo.current_labels(project_id)
        # ASCII only: the file name goes in a header, which must be Latin-1 ('ꁰ' raised UnicodeEncodeError: a 500).
        stem = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "_" for c in project.name)[:64] or "project"
        records = {r.record_id: r for r in self.repo.snapshot(project_id)}
        user_ids = {user.name: user.id for user in self.repo.list_users()}
        rows = self.repo.label_histories(project_id) if history else None
        media_type, suffix, chunks = export_file(fmt, project, labels, records, user_ids, base_url, rows)
        return media_type, stem + suffix, chunks


def require_admin(user: UserInfo) -> None:
    if user.role != "admin":
        raise ForbiddenError("only an admin can do this")


def label_budget(settings: dict[str, Any]) -> int | None:
    """The records a project's stopping rule pays for, if it caps them (a LabelBudget, alone or in AnyOf)."""
    spec = settings.get("stopping")
    return parse_stopping(spec).label_budget() if spec else None


def agreement(labels: list[CurrentLabel], label_names: list[str]) -> s.AgreementPublic:
    """Observed pairwise agreement and Fleiss' kappa over records with two or more labels."""
    by_record: dict[int, list[str]] = {}
    for label in labels:
        by_record.setdefault(label.record_id, []).append(label.value)
    multi = [values for values in by_record.values() if len(values) >= 2]
    if not multi:
        return s.AgreementPublic(n_records=0, percent=None, kappa=None)
    per_record = []
    totals: Counter[str] = Counter()
    for values in multi:
        counts = Counter(values)
        n = len(values)
        per_record.append(sum(c * (c - 1) for c in counts.values()) / (n * (n - 1)))
        totals.update(values)
    observed = sum(per_record) / len(per_record)
    n_all = sum(totals.values())
    expected = sum((c / n_all) ** 2 for c in totals.values())
    kappa = None if expected >= 1.0 else (observed - expected) / (1.0 - expected)
    return s.AgreementPublic(n_records=len(multi), percent=observed, kappa=kappa)


__all__ = ["Services", "agreement", "check_settings", "label_budget", "require_admin"]
