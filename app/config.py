from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JWT_SECRET = "change-me-development-only-secret-0123456789"


class Settings(BaseSettings):
    """Every knob of the service; read from `PROJOFFICE_*` variables and an optional `.env`."""

    model_config = SettingsConfigDict(env_prefix="PROJOFFICE_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'projoffice.db'}"
    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    jwt_issuer: str = "projoffice"
    jwt_audience: str = "projoffice-api"
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins per account (email) before it is locked"
    )
    login_max_failures_per_address: int = Field(
        default=50,
        ge=1,
        description="Failed sign-ins per client address before it is locked (a school may share "
        "one address)",
    )
    login_window_seconds: int = Field(
        default=900, ge=1, description="Failures older than this stop counting"
    )
    login_lockout_seconds: int = Field(
        default=900, ge=1, description="How long a locked account or address waits (429)"
    )
    cors_origins: list[str] = []
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    docs_enabled: bool = True
    db_pool_size: int = Field(default=10, ge=1)
    min_conclusions: int = Field(
        default=2, ge=0, le=20, description="Submitted conclusions needed before `approve`"
    )
    blind_reviews: bool = Field(
        default=True, description="Authors read conclusions without the experts' identity"
    )
    disagreement_threshold: float = Field(
        default=30.0,
        ge=0,
        le=100,
        description="Spread of normalised scores (0-100) above which experts disagree strongly",
    )
    charter_voting_days: int = Field(
        default=14, ge=1, le=90, description="How long an amendment's vote stays open, in days"
    )
    charter_quorum: float = Field(
        default=0.5, gt=0, le=1, description="Share of network members who must cast a vote"
    )
    charter_threshold: float = Field(
        default=2 / 3,
        gt=0,
        le=1,
        description="Share of `agree` among `agree` + `disagree` an amendment needs to pass",
    )
    charter_blocks_to_reject: int = Field(
        default=1, ge=1, description="This many reasoned `block` votes reject an amendment"
    )

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> "Settings":
        secret = self.jwt_secret.get_secret_value().strip()
        if not secret:
            # An empty HS256 key signs tokens anyone can forge, in any environment.
            raise ValueError("PROJOFFICE_JWT_SECRET must not be empty")
        if self.env == "production" and (secret == DEFAULT_JWT_SECRET or len(secret) < 32):
            raise ValueError(
                "PROJOFFICE_JWT_SECRET must be set to a random string of at least 32 characters "
                "when PROJOFFICE_ENV=production"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
