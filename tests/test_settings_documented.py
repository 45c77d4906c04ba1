"""Every setting is documented where operators look: the README table and .env.example."""

from pathlib import Path

import pytest

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
