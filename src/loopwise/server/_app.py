"""The FastAPI application: JSON API under /api, annotation UI pages, static files."""

from __future__ import annotations

import atexit
import gc
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from loopwise.server._errors import install_error_handlers
from loopwise.server._learning import LearningWorker, _die_with_parent
from loopwise.server._limits import BodyLimitMiddleware
from loopwise.server._security import session_secret
from loopwise.server._services import Services
from loopwise.server._settings import ServerSettings
from loopwise.server.routes import auth, pages, projects, queue, records, review, rules, users
from loopwise.server.routes._hot import HotRoutes
from loopwise.server.routes.docs import install_docs
from loopwise.storage import AnnotationRepository, Store

HERE = Path(__file__).resolve().parent
log = logging.getLogger("loopwise.server")
# Routes that take a file of records get the upload limit instead of the body limit.
UPLOAD_SUFFIXES = ("/import/upload", "/api/projects/upload")


def create_app(settings: ServerSettings | None = None, *, store: Store | None = None, **overrides: Any) -> FastAPI:
    """The app over the store at ``settings.db`` (or the given open ``store``, which the caller closes)."""
    settings = settings or ServerSettings(**overrides)
    own_store = store is None
    opened = store or Store.open(settings.db, artifacts_dir=settings.artifacts_dir)
    repo = AnnotationRepository(opened)
    worker = LearningWorker(repo, Path(opened.artifacts_dir) / "media", subprocess=settings.train_in_subprocess)
    services = Services(repo, settings, worker)
    worker.on_change = services.forget
    if not settings.learn:
        worker.passive = True
    generated = services.ensure_admin()
    if generated is not None:
        # Shown once, like a Jupyter token: the store keeps only its hash.
        print(f"loopwise: created user {settings.admin_name!r} (admin) with password: {generated}", flush=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.learn:
            worker.start()
        try:
            yield
        finally:
            if settings.learn:
                worker.stop()
            if own_store:
                opened.close()

    app = FastAPI(
        title="loopwise annotation server",
        version="0.1.0",
        description="Serve each annotator the next most useful record; retrain in the background.",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,  # served by routes.docs from a package, so it works offline and under the CSP
        redoc_url=None,
    )
    app.state.services = services
    app.state.settings = settings
    install_error_handlers(app)
    # The queue first: a request is matched against routes in order, and its two routes take most requests.
    for module in (queue, auth, users, projects, records, review, rules):
        app.include_router(module.router, prefix="/api")
    app.include_router(pages.router)
    install_docs(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=_secret(settings, Path(opened.artifacts_dir)),
        session_cookie="loopwise_session",
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    # Outside the session layer (a token request has no cookie), inside the body limit and safety headers.
    app.add_middleware(HotRoutes, api=app)
    # Outermost, so an oversized body is refused before anything reads it.
    app.add_middleware(
        BodyLimitMiddleware,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
        upload_suffixes=UPLOAD_SUFFIXES,
    )
    return app


def _secret(settings: ServerSettings, folder: Path) -> str:
    """The key that signs session cookies; a warning when it dies with this process."""
    secret, persistent = session_secret(settings.secret_key, folder)
    if not persistent:
        message = (
            f"loopwise: warning: cannot keep a session secret in {folder}; sessions end when the server stops "
            "(set LOOPWISE_SECRET_KEY to keep them)"
        )
        log.warning(message)
        print(message, file=sys.stderr, flush=True)
    return secret


def app_from_env() -> FastAPI:
    """The app with its settings from ``LOOPWISE_*`` variables: what each worker of ``serve --workers N`` runs."""
    # A worker dies with `serve`, kill -9 included: an orphan would keep the port and the store.
    _die_with_parent()
    tune_for_serving()
    return create_app(ServerSettings())


def tune_for_serving(switch_interval: float = 0.0005) -> None:
    """Let a thread whose database answer has arrived take the GIL back within 0.5 ms, not 5 ms.

    A queue transaction holds the project's lock (PostgreSQL: a row lock) across several round
    trips; after each, its thread may wait for the GIL while the event loop runs: up to Python's
    switch interval (default 5 ms) per statement, with the lock held and every other annotator of
    the project waiting on it. Only for a server process.

    It also makes the process exit promptly once stopped: the interpreter's last garbage collections
    would walk every object scikit-learn and the rest allocated (seconds on a busy machine) only to
    free memory the OS takes back anyway, so those objects are frozen out of them at exit.
    """
    sys.setswitchinterval(switch_interval)
    atexit.register(gc.freeze)


@contextmanager
def learning_only(settings: ServerSettings) -> Iterator[None]:
    """Background learning without an app, for the parent of ``serve --workers N``.

    The workers take the labels; this process polls the store for projects that have
    ``retrain_every`` new labels and retrains them, so each project is retrained by one process.
    """
    with Store.open(settings.db, artifacts_dir=settings.artifacts_dir) as store:
        repo = AnnotationRepository(store)
        worker = LearningWorker(
            repo, Path(store.artifacts_dir) / "media", subprocess=settings.train_in_subprocess, poll_seconds=1.0
        )
        generated = Services(repo, settings, worker).ensure_admin()
        if generated is not None:
            print(f"loopwise: created user {settings.admin_name!r} (admin) with password: {generated}", flush=True)
        worker.start()
        try:
            yield
        finally:
            worker.stop()
