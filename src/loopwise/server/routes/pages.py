"""HTML pages: Jinja templates that load plain JavaScript, which talks to the JSON API like any client."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from loopwise.errors import LoopwiseError
from loopwise.server._deps import SessionDep
from loopwise.server._errors import ForbiddenError
from loopwise.server._security import safe_next
from loopwise.server.routes._params import ProjectId

router = APIRouter(include_in_schema=False)
# Jinja2Templates turns autoescaping on for .html: every value is escaped unless marked safe, and
# nothing here is marked safe.
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")


def _signed_in(request: Request, services: SessionDep) -> object | None:
    user_id = request.session.get("uid")
    if user_id is None:
        return None
    try:
        user = services.user(int(user_id))
    except LoopwiseError:
        return None
    return user if user.active else None


def _to_login(request: Request) -> Response:
    """To the sign-in page, which brings the user back to this page once signed in."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303)


def _page(request: Request, services: SessionDep, template: str, **context: object) -> Response:
    user = _signed_in(request, services)
    if user is None:
        return _to_login(request)
    return templates.TemplateResponse(request, template, {"user": user, **context})


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    # Only a path on this site: ?next=https://evil.example must not turn sign-in into a redirector.
    return templates.TemplateResponse(request, "login.html", {"user": None, "next_url": safe_next(next)})


@router.get("/", response_class=HTMLResponse)
def projects_page(request: Request, services: SessionDep) -> Response:
    return _page(request, services, "projects.html")


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, services: SessionDep) -> Response:
    user = _signed_in(request, services)
    if user is not None and getattr(user, "role", None) != "admin":
        # The form and the list are for admins; an annotator gets a 403 page, not the form.
        raise ForbiddenError("only an admin can see the users page")
    return _page(request, services, "users.html")


@router.get("/projects/{project_id:int}", response_class=HTMLResponse)
def project_page(project_id: ProjectId, request: Request, services: SessionDep) -> Response:
    return _project_page(project_id, request, services, "project.html")


@router.get("/projects/{project_id:int}/annotate", response_class=HTMLResponse)
def annotate_page(project_id: ProjectId, request: Request, services: SessionDep) -> Response:
    return _project_page(project_id, request, services, "annotate.html")


@router.get("/projects/{project_id:int}/review", response_class=HTMLResponse)
def review_page(project_id: ProjectId, request: Request, services: SessionDep) -> Response:
    """The review queue: labels the audit doubts, kept or changed by someone who did not give them."""
    return _project_page(project_id, request, services, "review.html")


@router.get("/projects/{project_id:int}/rules", response_class=HTMLResponse)
def rules_page(project_id: ProjectId, request: Request, services: SessionDep) -> Response:
    """The project's labelling rules (admins): define them, apply them with Snorkel, read their statistics."""
    user = _signed_in(request, services)
    if user is not None and getattr(user, "role", None) != "admin":
        raise ForbiddenError("only an admin can define labelling rules")
    return _project_page(project_id, request, services, "rules.html")


def _project_page(project_id: int, request: Request, services: SessionDep, template: str) -> Response:
    """A project's page for the signed-in user (who must see the project), or the way to the login."""
    user = _signed_in(request, services)
    if user is None:
        return _to_login(request)
    project = services.project(user, project_id)  # type: ignore[arg-type]
    return templates.TemplateResponse(request, template, {"user": user, "project": project})


@router.get("/projects/{project_id:int}/admin", response_class=HTMLResponse)
def admin_page(project_id: ProjectId, request: Request, services: SessionDep) -> Response:
    """The admin console of a project: settings, pause/resume, records, disagreements, archive and delete."""
    user = _signed_in(request, services)
    if user is not None and getattr(user, "role", None) != "admin":
        raise ForbiddenError("only an admin can use the project console")
    return _project_page(project_id, request, services, "admin.html")
