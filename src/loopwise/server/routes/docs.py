"""Interactive API docs at /api/docs: Swagger UI served from the swagger-ui-bundle package, never a CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)
ASSETS = "/api/docs/assets"

# No inline script or style: the server's CSP allows scripts and styles from this origin only.
_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>loopwise API</title>
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    return HTMLResponse(_PAGE)


def install_docs(app: FastAPI) -> None:
    """Add /api/docs and the Swagger UI assets it loads (works offline: the package ships them)."""
    from swagger_ui_bundle import swagger_ui_path

    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=Path(str(swagger_ui_path))), name="swagger-ui")
