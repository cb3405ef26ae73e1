"""Settings from the environment (prefix ``SMM_``); see the README's configuration table."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SMM_", env_file=None, extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'smm.db'}",
        description="SQLAlchemy URL; SQLite (default) or postgresql://...",
    )
    questionnaires_dir: Path = Field(
        default=PROJECT_ROOT / "questionnaires",
        description="Folder of questionnaire definitions (<id>/v<N>.yaml).",
    )
    host: str = Field(default="127.0.0.1", description="Address `smm serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `smm serve` listens on.")
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted (bytes)."
    )
    log_level: str = Field(default="info", description="Log level for the service.")
    render_timeout_seconds: float = Field(
        default=60, gt=0, le=3600, description="Longest a report may take to render."
    )
    render_memory_mb: int = Field(
        default=1024, ge=128, le=65536, description="Memory a report render may use (MiB)."
    )
    run_report_jobs: bool = Field(
        default=True, description="Run the embedded report-job runner in each API process."
    )
    render_workers: int = Field(
        default=2, ge=1, le=64, description="Reports rendered at once by the embedded runner."
    )

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an embedded SQLite file."""
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
