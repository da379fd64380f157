"""Settings: validated at start-up, default secrets refused outside development, every one documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from govshare.settings import DEV_AUDIT_KEY, Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
STRONG = SecretStr("x" * 40)


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_development_runs_with_defaults() -> None:
    settings = make(env="development")
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("/data/govshare.db")


@pytest.mark.parametrize("env", ["production", "test"])
def test_default_secrets_are_refused_outside_development(env: str) -> None:
    with pytest.raises(ValidationError, match="GOVSHARE_SECRET_KEY"):
        make(env=env, audit_key=STRONG)
    with pytest.raises(ValidationError, match="GOVSHARE_AUDIT_KEY"):
        make(env=env, secret_key=STRONG, audit_key=SecretStr(DEV_AUDIT_KEY))
    with pytest.raises(ValidationError, match="至少需要 32 个字符"):
        make(env=env, secret_key=SecretStr("short"), audit_key=STRONG)
    assert make(env=env, secret_key=STRONG, audit_key=SecretStr("y" * 40)).env == env


@pytest.mark.parametrize("env", ["production", "test"])
def test_equal_secret_and_audit_keys_are_refused_outside_development(env: str) -> None:
    with pytest.raises(ValidationError, match="GOVSHARE_SECRET_KEY 与 GOVSHARE_AUDIT_KEY 不能相同"):
        make(env=env, secret_key=STRONG, audit_key=STRONG)
    assert make(env="development", secret_key=STRONG, audit_key=STRONG).env == "development"


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValidationError, match="6 位数字"):
        make(node_division_code="99010")
    with pytest.raises(ValidationError):
        make(port=70000)
    with pytest.raises(ValidationError, match="API_KEY_DEFAULT_DAYS"):
        make(env="production", secret_key=STRONG, audit_key=STRONG, api_key_default_days=400)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSHARE_LOGIN_MAX_FAILURES", "7")
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    settings = make()
    assert (settings.login_max_failures, settings.resolved_database_url) == (7, "postgresql+psycopg://u@h/db")


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`GOVSHARE_([A-Z0-9_]+)`", DOC.read_text(encoding="utf-8")))
    declared = {name.upper() for name in Settings.model_fields}
    assert declared - documented == set(), "settings missing from docs/configuration.md"
    assert documented - declared <= {"ADMIN_PASSWORD", "TEST_PG_URL"}, "docs name settings that do not exist"


def test_secrets_do_not_leak_through_repr() -> None:
    settings = make(env="production", secret_key=SecretStr("s" * 40), audit_key=SecretStr("a" * 40))
    assert "s" * 40 not in repr(settings) and "a" * 40 not in str(settings.model_dump())
