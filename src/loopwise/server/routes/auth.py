"""Sign in and out with a password; the session cookie carries the user id and a CSRF token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from loopwise.server import _schemas as s
from loopwise.server._deps import CurrentUser, SessionDep, check_origin
from loopwise.server._security import ThrottledError, new_csrf_token
from loopwise.server.routes._convert import user_public
from loopwise.server.routes._params import errors

router = APIRouter(tags=["auth"], responses=errors(400, 401, 403, 413, 422))


@router.post(
    "/login", response_model=s.SessionPublic,
    responses={429: {"model": s.Message, "description": "Too many failed sign-ins; wait Retry-After seconds"}},
)
def login(body: s.LoginCreate, request: Request, services: SessionDep) -> s.SessionPublic:
    # A JSON body cannot be sent cross-site without a CORS preflight we never grant; the Origin
    # check also stops a hostile page from signing a visitor in as someone else.
    check_origin(request)
    try:
        user = services.login(body, request.client.host if request.client else "")
    except ThrottledError as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = new_csrf_token()
    return s.SessionPublic(user=user_public(user), csrf_token=request.session["csrf"])


@router.post("/logout", response_model=s.Message)
def logout(request: Request, user: CurrentUser) -> s.Message:
    request.session.clear()
    return s.Message(detail=f"signed out {user.name}")


@router.get("/session", response_model=s.SessionPublic)
def session(request: Request, user: CurrentUser) -> s.SessionPublic:
    if "csrf" not in request.session:
        request.session["csrf"] = new_csrf_token()
    return s.SessionPublic(user=user_public(user), csrf_token=request.session.get("csrf", ""))
