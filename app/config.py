import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Where a server started without PROJOFFICE_JWT_SECRET (development, test) keeps the random key
# it made on its first start: next to the default SQLite file, never in the repository.
DEVELOPMENT_SECRET_FILE = PROJECT_ROOT / "var" / "jwt-secret"

logger = logging.getLogger("app.config")


def development_secret(path: Path) -> str:
    """The random signing key kept in `path`, made on first use. A key written in the code
    would let anyone who reads it forge an administrator's token for such a server."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        # O_EXCL: of two processes starting at once, one writes and both read the same key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(key)
    return key


class Settings(BaseSettings):
    """Every knob of the service; read from `PROJOFFICE_*` variables and an optional `.env`."""

    model_config = SettingsConfigDict(env_prefix="PROJOFFICE_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'projoffice.db'}"
    # None: production refuses to start; elsewhere a random key kept in var/jwt-secret.
    jwt_secret: SecretStr | None = None
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
    maturity_gating: Literal["advisory", "enforced"] = Field(
        default="advisory",
        description="`enforced`: a capability whose function is below its required level "
        "answers 409; `advisory`: nothing is blocked, GET /office/capabilities shows it",
    )
    maturity_required_levels: dict[str, Annotated[int, Field(ge=0, le=5)]] = Field(
        default_factory=dict,
        description="Capability code → the level its function needs (unlisted ones: 1), as JSON",
    )
    maturity_stale_months: int = Field(
        default=12, ge=1, le=120, description="An assessment older than this is stale"
    )

    @model_validator(mode="after")
    def _signing_key(self) -> "Settings":
        if self.jwt_secret is None:
            if self.env == "production":
                raise ValueError(
                    "PROJOFFICE_JWT_SECRET must be set to a random string of at least 32 "
                    "characters when PROJOFFICE_ENV=production"
                )
            self.jwt_secret = SecretStr(development_secret(DEVELOPMENT_SECRET_FILE))
            logger.warning(
                "PROJOFFICE_JWT_SECRET is not set: tokens are signed with a random key kept in "
                "%s. Set PROJOFFICE_JWT_SECRET (and PROJOFFICE_ENV=production) for a real "
                "deployment.",
                DEVELOPMENT_SECRET_FILE,
            )
            return self
        secret = self.jwt_secret.get_secret_value().strip()
        if not secret:
            # An empty HS256 key signs tokens anyone can forge, in any environment.
            raise ValueError("PROJOFFICE_JWT_SECRET must not be empty")
        if self.env == "production" and len(secret) < 32:
            raise ValueError(
                "PROJOFFICE_JWT_SECRET must be set to a random string of at least 32 characters "
                "when PROJOFFICE_ENV=production"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unknown_capabilities(self) -> "Settings":
        # Imported when validating: importing the settings must not load the models too.
        from app.services.maturity.capabilities import unknown_codes

        unknown = unknown_codes(set(self.maturity_required_levels))
        if unknown:
            # A misspelt code would leave its capability at the default level unnoticed.
            raise ValueError(
                f"PROJOFFICE_MATURITY_REQUIRED_LEVELS names unknown capabilities: {unknown}"
            )
        return self

    @property
    def signing_key(self) -> str:
        assert self.jwt_secret is not None  # set by the validator
        return self.jwt_secret.get_secret_value()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
