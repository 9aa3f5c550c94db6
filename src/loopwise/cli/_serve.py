"""`loopwise serve`: the annotation server and web UI over a store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loopwise.cli._common import DB_HELP, console, resolve_db, user_errors

if TYPE_CHECKING:
    from loopwise.server import ServerSettings


def serve_cmd(
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on; 0.0.0.0 exposes the server to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    artifacts: Annotated[Path | None, typer.Option("--artifacts", help="Artifact folder (required for non-SQLite stores).")] = None,
    import_dir: Annotated[Path, typer.Option("--import-dir", help="Folder that server-side imports may read from.")] = Path("imports"),
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes sharing the port (leases and labels are serialised in the database; PostgreSQL suits several best). Retraining runs once, in the parent.")] = 1,
) -> None:
    """Serve the annotation UI and JSON API (OpenAPI docs at /api/docs); labels go to the store."""
    # Imported here so the other commands start without loading the web stack.
    import uvicorn

    from loopwise.server import ServerSettings, create_app
    from loopwise.server._app import tune_for_serving

    with user_errors():
        settings = ServerSettings(db=resolve_db(db), artifacts_dir=artifacts, import_dir=import_dir)
        if workers > 1:
            _serve_workers(settings, host, port, log_level, workers)
            return
        tune_for_serving()
        app = create_app(settings)
        console.print(f"loopwise serve: http://{host}:{port}/ (API docs /api/docs), store {resolve_db(db)}", highlight=False)
        # One process: the queue's leases are serialised in the database either way, and SQLite wants one writer.
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, timeout_graceful_shutdown=5)


def _serve_workers(settings: ServerSettings, host: str, port: int, log_level: str, workers: int) -> None:
    """``workers`` uvicorn processes on one port, each an app without learning; this process retrains."""
    import os

    import uvicorn

    from loopwise.server._app import learning_only

    # The workers read their settings from the environment. Without a secret key set, each reads
    # the one kept with the store, so a session cookie signed by one worker is good in every other.
    os.environ.update({
        "LOOPWISE_DB": settings.db, "LOOPWISE_IMPORT_DIR": str(settings.import_dir), "LOOPWISE_LEARN": "false",
    })
    if settings.secret_key:
        os.environ["LOOPWISE_SECRET_KEY"] = settings.secret_key
    if settings.artifacts_dir is not None:
        os.environ["LOOPWISE_ARTIFACTS_DIR"] = str(settings.artifacts_dir)
    with learning_only(settings):
        console.print(
            f"loopwise serve: http://{host}:{port}/ (API docs /api/docs), store {settings.db}, {workers} workers",
            highlight=False,
        )
        uvicorn.run(
            "loopwise.server._app:app_from_env", factory=True, workers=workers, host=host, port=port,
            log_level=log_level, access_log=False, timeout_graceful_shutdown=5,
            # A worker answers the supervisor's pings only once it has imported everything, which
            # takes more than uvicorn's default 5 s on a busy machine; it would be killed and respawned.
            timeout_worker_healthcheck=60,
        )
