"""`loopwise serve`: the annotation server and web UI over a store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loopwise.cli._common import DB_HELP, console, resolve_db, user_errors


def serve_cmd(
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on; 0.0.0.0 exposes the server to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    artifacts: Annotated[Path | None, typer.Option("--artifacts", help="Artifact folder (required for non-SQLite stores).")] = None,
    import_dir: Annotated[Path, typer.Option("--import-dir", help="Folder that server-side imports may read from.")] = Path("imports"),
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the annotation UI and JSON API (OpenAPI docs at /api/docs); labels go to the store."""
    # Imported here so the other commands start without loading the web stack.
    import uvicorn

    from loopwise.server import ServerSettings, create_app

    with user_errors():
        settings = ServerSettings(db=resolve_db(db), artifacts_dir=artifacts, import_dir=import_dir)
        app = create_app(settings)
        console.print(f"loopwise serve: http://{host}:{port}/ (API docs /api/docs), store {resolve_db(db)}", highlight=False)
        # One process: the queue's leases are serialised in the database either way, and SQLite wants one writer.
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, timeout_graceful_shutdown=5)
