"""Users: admins create, deactivate and reactivate users; anyone can get or revoke an API token for themselves."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.server import _admin
from loopwise.server import _schemas as s
from loopwise.server._deps import CurrentUser, SessionDep
from loopwise.server.routes._convert import user_public
from loopwise.server.routes._params import UserId, errors

router = APIRouter(prefix="/users", tags=["users"], responses=errors(400, 401, 403, 413, 422))


@router.get("", response_model=s.Page[s.UserPublic])
def list_users(services: SessionDep, user: CurrentUser) -> s.Page[s.UserPublic]:
    users = [user_public(u) for u in services.list_users(user)]
    return s.Page(data=users, count=len(users))


@router.post("", response_model=s.UserPublic, status_code=201, responses=errors(409))
def create_user(body: s.UserCreate, services: SessionDep, user: CurrentUser) -> s.UserPublic:
    return user_public(services.create_user(user, body))


@router.get("/me", response_model=s.UserPublic)
def me(user: CurrentUser) -> s.UserPublic:
    return user_public(user)


@router.patch("/{user_id:int}", response_model=s.UserPublic, responses=errors(404))
def update_user(user_id: UserId, body: s.UserUpdate, services: SessionDep, user: CurrentUser) -> s.UserPublic:
    return user_public(services.set_password(user, user_id, body))


@router.post("/{user_id:int}/token", response_model=s.TokenPublic, status_code=201, responses=errors(404))
def new_token(user_id: UserId, services: SessionDep, user: CurrentUser) -> s.TokenPublic:
    token, owner = services.new_token(user, user_id)
    return s.TokenPublic(token=token, user=user_public(owner))


@router.delete("/{user_id:int}/token", response_model=s.UserPublic, responses=errors(404))
def revoke_token(user_id: UserId, services: SessionDep, user: CurrentUser) -> s.UserPublic:
    """Revoke the user's API token: requests that send it get 401 from now on."""
    return user_public(_admin.revoke_token(services, user, user_id))


@router.post("/{user_id:int}/deactivate", response_model=s.UserPublic, responses=errors(404))
def deactivate(user_id: UserId, services: SessionDep, user: CurrentUser) -> s.UserPublic:
    """Deactivate a user (admins): no sign-in, sessions refused, token revoked, held records released."""
    return user_public(_admin.set_user_active(services, user, user_id, False))


@router.post("/{user_id:int}/activate", response_model=s.UserPublic, responses=errors(404))
def activate(user_id: UserId, services: SessionDep, user: CurrentUser) -> s.UserPublic:
    """Reactivate a deactivated user (admins); they need a new token, the old one stays revoked."""
    return user_public(_admin.set_user_active(services, user, user_id, True))
