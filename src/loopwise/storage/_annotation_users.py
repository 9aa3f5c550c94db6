"""Users of the annotation server: accounts, roles, passwords and API tokens (stored as hashes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loopwise.errors import ConfigError, NotFoundError

from ._annotation_base import AnnotationBase
from ._annotation_models import AnnotatorPasswordRow
from ._annotation_types import USER_NAME_CHARACTERS, ConflictError, UserInfo
from ._models import ROLES, AnnotatorRow
from ._util import as_utc, utc_now


class UserQueries(AnnotationBase):
    """Creating and finding users, and setting their password and token hashes."""

    def create_user(self, name: str, role: str, password_hash: str | None = None) -> UserInfo:
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ConfigError(f"a user name must be 1 to 255 characters, got {name!r}")
        bad = next((c for c in name.strip() if c not in USER_NAME_CHARACTERS), None)
        if bad is not None:
            raise ConfigError(
                f"a user name may hold only ASCII letters, digits and . _ @ + -; {name!r} has {bad!r} (U+{ord(bad):04X})"
            )
        if role not in ROLES:
            raise ConfigError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
        now = utc_now()
        try:
            with self._write() as session:
                row = AnnotatorRow(name=name.strip(), role=role, token_hash=None, created_at=now)
                session.add(row)
                session.flush()
                if password_hash is not None:
                    session.add(AnnotatorPasswordRow(annotator_id=row.id, password_hash=password_hash, updated_at=now))
                return UserInfo(row.id, row.name, row.role, as_utc(row.created_at), password_hash is not None, False)
        except IntegrityError:
            raise ConflictError(f"a user called {name.strip()!r} already exists") from None

    def get_user(self, user_id: int) -> UserInfo:
        with self._engine.connect() as conn:
            row = conn.execute(_USER_BY_ID, {"id": user_id}).first()
        if row is None:
            raise NotFoundError(f"no user with id {user_id}")
        return user_info(row)

    def list_users(self) -> list[UserInfo]:
        with self._sessions() as session:
            return users_where(session)

    def count_admins(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).where(AnnotatorRow.role == "admin")) or 0)

    def user_with_password(self, name: str) -> tuple[UserInfo, str | None] | None:
        with self._sessions() as session:
            found = session.execute(
                select(AnnotatorRow.id, AnnotatorPasswordRow.password_hash)
                .outerjoin(AnnotatorPasswordRow, AnnotatorPasswordRow.annotator_id == AnnotatorRow.id)
                .where(AnnotatorRow.name == name)
            ).first()
            if found is None:
                return None
            return users_where(session, AnnotatorRow.id == found[0])[0], found[1]

    def user_by_token_hash(self, token_hash: str) -> UserInfo | None:
        """The owner of an API token (by its hash): a lookup behind every API request, so Core, no ORM objects."""
        with self._engine.connect() as conn:
            row = conn.execute(_USER_BY_TOKEN, {"hash": token_hash}).first()
        return None if row is None else user_info(row)

    def token_owners(self) -> dict[str, UserInfo]:
        """Every API token's hash and its owner, in one statement: the server refreshes it every few seconds
        instead of looking each annotator up on their own."""
        with self._engine.connect() as conn:
            return {row.token_hash: user_info(row) for row in conn.execute(_TOKEN_OWNERS)}

    def set_token_hash(self, user_id: int, token_hash: str | None) -> None:
        with self._write() as session:
            touched = session.execute(
                update(AnnotatorRow).where(AnnotatorRow.id == user_id).values(token_hash=token_hash)
            )
            if touched.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError(f"no user with id {user_id}")

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._write() as session:
            if session.get(AnnotatorRow, user_id) is None:
                raise NotFoundError(f"no user with id {user_id}")
            row = session.get(AnnotatorPasswordRow, user_id)
            if row is None:
                session.add(AnnotatorPasswordRow(annotator_id=user_id, password_hash=password_hash, updated_at=utc_now()))
            else:
                row.password_hash = password_hash
                row.updated_at = utc_now()


# A UserInfo's columns (whether the user has a password and a token, not the hashes), built once:
# the server looks users up on many requests, and columns skip the ORM's per-row objects.
USER_COLUMNS = select(
    AnnotatorRow.id, AnnotatorRow.name, AnnotatorRow.role, AnnotatorRow.created_at,
    (AnnotatorRow.token_hash.is_not(None)).label("has_token"), AnnotatorRow.deactivated_at,
    exists()
    .where(AnnotatorPasswordRow.annotator_id == AnnotatorRow.id)
    .correlate(AnnotatorRow)
    .label("has_password"),
)
_USER_BY_ID = USER_COLUMNS.where(AnnotatorRow.id == bindparam("id"))
_USER_BY_TOKEN = USER_COLUMNS.where(AnnotatorRow.token_hash == bindparam("hash"))
_TOKEN_OWNERS = USER_COLUMNS.add_columns(AnnotatorRow.token_hash).where(AnnotatorRow.token_hash.is_not(None))


def user_info(row: Any) -> UserInfo:
    """The UserInfo of a row of :data:`USER_COLUMNS`."""
    return UserInfo(
        row.id, row.name, row.role, as_utc(row.created_at), bool(row.has_password), bool(row.has_token),
        row.deactivated_at is None,
    )


def users_where(session: Session, *where: Any) -> list[UserInfo]:
    """The users matching ``where``, by id, each with whether they have a password and a token."""
    return [user_info(row) for row in session.execute(USER_COLUMNS.where(*where).order_by(AnnotatorRow.id))]
