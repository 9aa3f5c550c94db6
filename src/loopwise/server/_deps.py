"""Dependencies that keep route signatures short: ``SessionDep`` (the services) and ``CurrentUser``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from loopwise.errors import NotFoundError
from loopwise.server._errors import AuthError, ForbiddenError
from loopwise.server._security import same_secret
from loopwise.server._services import Services
from loopwise.storage._annotation_store import UserInfo

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"


async def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


# The services stand where the full-stack template has its database session: the one handle a route
# needs, and the one a test overrides.
SessionDep = Annotated[Services, Depends(get_services)]


def check_origin(request: Request) -> None:
    """Refuse a cross-site state-changing request: its Origin (when the browser sends one) must be ours."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise ForbiddenError(f"cross-origin request from {origin} refused")
    elif origin == "null":
        raise ForbiddenError("requests from an opaque origin are refused")


async def get_current_user(request: Request, services: SessionDep) -> UserInfo:
    """The user of a Bearer token, else of the session cookie (then unsafe methods need the CSRF token).

    Async, so it runs on the event loop without a thread hop: its lookups are cached for seconds.
    """
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("the Authorization header must be 'Bearer <token>'")
        return services.user_for_token(token.strip())
    user_id = request.session.get("uid")
    if user_id is None:
        raise AuthError("sign in first, or send an API token as 'Authorization: Bearer <token>'")
    if request.method not in SAFE_METHODS:
        # A cookie rides along on any request the browser makes, including ones a hostile page
        # triggers; only our own pages know the per-session token to put in this header.
        check_origin(request)
        if not same_secret(request.headers.get(CSRF_HEADER), request.session.get("csrf")):
            raise ForbiddenError("missing or wrong CSRF token: send the X-CSRF-Token header from GET /api/session")
    try:
        user = services.cached_user(int(user_id))
    except NotFoundError:
        request.session.clear()
        raise AuthError("your account no longer exists; sign in again") from None
    if not user.active:
        request.session.clear()
        raise AuthError("your account is deactivated; ask an admin")
    return user


CurrentUser = Annotated[UserInfo, Depends(get_current_user)]
