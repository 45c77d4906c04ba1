"""Every setting is documented where operators look (README, .env.example); the secret rules."""

import logging
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from app import config
from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("document", ["README.md", ".env.example"])
def test_every_setting_is_documented(document):
    text = (ROOT / document).read_text(encoding="utf-8")
    missing = [
        f"PROJOFFICE_{name.upper()}"
        for name in Settings.model_fields
        if f"PROJOFFICE_{name.upper()}" not in text
    ]
    assert not missing, f"{document} does not mention {missing}"


class TestJwtSecret:
    """The signing key: refused when it would let anyone forge tokens."""

    @pytest.fixture(autouse=True)
    def _clean_environment(self, monkeypatch, tmp_path):
        # Only what each test sets: no .env of the working tree, no secret of the suite.
        monkeypatch.chdir(tmp_path)
        for name in ("PROJOFFICE_ENV", "PROJOFFICE_JWT_SECRET"):
            monkeypatch.delenv(name, raising=False)

    @pytest.mark.parametrize(
        "secret",
        [None, "short-secret", " " * 40],
        ids=["missing", "short", "blank"],
    )
    def test_production_refuses_a_weak_secret(self, monkeypatch, secret):
        monkeypatch.setenv("PROJOFFICE_ENV", "production")
        if secret is not None:
            monkeypatch.setenv("PROJOFFICE_JWT_SECRET", secret)
        with pytest.raises(ValidationError, match="PROJOFFICE_JWT_SECRET"):
            Settings()

    def test_production_takes_a_random_secret(self, monkeypatch):
        monkeypatch.setenv("PROJOFFICE_ENV", "production")
        monkeypatch.setenv("PROJOFFICE_JWT_SECRET", "x7" * 24)
        assert Settings().jwt_secret.get_secret_value() == "x7" * 24

    @pytest.mark.parametrize("env", ["development", "test"])
    def test_an_empty_secret_is_refused_everywhere(self, monkeypatch, env):
        monkeypatch.setenv("PROJOFFICE_ENV", env)
        monkeypatch.setenv("PROJOFFICE_JWT_SECRET", "")
        with pytest.raises(ValidationError, match="must not be empty"):
            Settings()

    @pytest.mark.parametrize("env", ["development", "test"])
    def test_without_a_secret_a_random_one_is_made_and_kept(self, monkeypatch, tmp_path, env):
        """Not a key written in the code (anyone could forge tokens with it), but one made on
        the first start, kept in the local data folder, readable by its owner only, and taken
        again by the next start, so tokens outlive a restart."""
        monkeypatch.setenv("PROJOFFICE_ENV", env)
        kept = tmp_path / "var" / "jwt-secret"
        monkeypatch.setattr(config, "DEVELOPMENT_SECRET_FILE", kept)
        first = Settings().signing_key
        assert len(first) >= 48
        assert kept.read_text() == first
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert Settings().signing_key == first

        elsewhere = tmp_path / "other" / "jwt-secret"
        monkeypatch.setattr(config, "DEVELOPMENT_SECRET_FILE", elsewhere)
        assert Settings().signing_key != first

    def test_running_without_a_secret_is_warned_about(self, monkeypatch, tmp_path, caplog):
        monkeypatch.setattr(config, "DEVELOPMENT_SECRET_FILE", tmp_path / "jwt-secret")
        with caplog.at_level(logging.WARNING, logger="app.config"):
            Settings()
        assert "PROJOFFICE_JWT_SECRET is not set" in caplog.text
        assert str(tmp_path / "jwt-secret") in caplog.text
