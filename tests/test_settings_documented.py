"""Every setting is documented where operators look (README, .env.example); the secret rules."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import DEFAULT_JWT_SECRET, Settings

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
        [None, DEFAULT_JWT_SECRET, "short-secret", " " * 40],
        ids=["missing", "default", "short", "blank"],
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

    def test_development_falls_back_to_its_own_secret(self, monkeypatch):
        assert Settings().jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET
