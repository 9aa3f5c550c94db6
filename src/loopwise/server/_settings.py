"""Server settings, read from keyword arguments or ``LOOPWISE_*`` environment variables and validated at start-up."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1 << 20


class ServerSettings(BaseSettings):
    """Everything ``loopwise serve`` can be told; each field is also ``LOOPWISE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LOOPWISE_", extra="ignore")

    db: str = Field("sqlite:///loopwise.db", description="SQLAlchemy URL of the store.")
    artifacts_dir: Path | None = Field(None, description="Artifact folder; default next to a SQLite file.")
    import_dir: Path = Field(Path("imports"), description="Server-side imports may only read under this folder.")
    secret_key: str | None = Field(
        None, min_length=16,
        description="Signs session cookies; by default one generated once and kept in the artifact folder.",
    )
    admin_name: str = "admin"
    admin_password: str | None = Field(None, description="Password of the first admin when the store has none.")
    max_body_bytes: int = Field(1 * MiB, ge=1024, description="Largest JSON request body.")
    max_upload_bytes: int = Field(200 * MiB, ge=1024, description="Largest import upload.")
    max_zip_bytes: int = Field(2048 * MiB, ge=1024, description="Largest total uncompressed size of a zip import.")
    train_in_subprocess: bool = Field(True, description="Retrain in a child process so requests never wait on the GIL.")
    learn: bool = Field(True, description="Retrain in this process; off in the workers of `serve --workers N`, whose parent learns.")
    session_max_age: int = Field(14 * 24 * 3600, ge=60)
    cookie_secure: bool = Field(False, description="Send the session cookie over HTTPS only.")
