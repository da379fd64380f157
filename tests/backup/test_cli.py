"""`govshare backup` at the console, against real databases: create, verify, digest, restore, prune."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from govshare.cli.main import app
from govshare.settings import Settings, get_settings
from tests.backup.conftest import BACKUP_KEY
from tests.conftest import TEST_AUDIT_KEY

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def as_json(output: str) -> Any:
    return json.loads(output[output.index("{") :])


@pytest.fixture
def console(cli_env: None, seeded: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("GOVSHARE_BACKUP_KEY", BACKUP_KEY)
    monkeypatch.setenv("GOVSHARE_BACKUP_DIR", str(seeded.backup_dir))
    monkeypatch.setenv("GOVSHARE_BACKUP_KEEP", "1")
    get_settings.cache_clear()
    return seeded


def test_create_verify_digest_restore_and_prune_from_the_console(
    console: Settings, fresh: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = invoke("backup", "digest", "--json")
    assert code == 0, out
    live = as_json(out)["value"]
    code, out = invoke("backup", "create", "--json")
    assert code == 0, out
    created = as_json(out)
    assert created["content_digest"] == live and BACKUP_KEY not in out and TEST_AUDIT_KEY not in out
    code, out = invoke("backup", "verify", created["path"])
    assert code == 0 and out.startswith("通过"), out

    damaged = Path(created["path"]).with_name("damaged.gsbk")
    blob = bytearray(Path(created["path"]).read_bytes())
    blob[-40] ^= 0xFF
    damaged.write_bytes(bytes(blob))
    code, out = invoke("backup", "verify", str(damaged), "--json")
    assert code == 1 and as_json(out)["code"] == "backup_invalid", out

    # On the fresh node (its own data directory), restore onto its empty database.
    monkeypatch.setenv("GOVSHARE_DATA_DIR", str(fresh.data_dir))
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", fresh.resolved_database_url)
    get_settings.cache_clear()
    code, out = invoke("backup", "restore", created["path"], "--to", fresh.resolved_database_url, "--json")
    assert code == 0, out
    assert as_json(out)["content_digest"] == live and as_json(out)["chain"]["ok"] is True
    code, out = invoke("backup", "restore", created["path"], "--to", fresh.resolved_database_url)
    assert code == 1 and "错误（conflict）" in out and "--force" in out

    monkeypatch.setenv("GOVSHARE_DATA_DIR", str(console.data_dir))
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", console.resolved_database_url)
    get_settings.cache_clear()
    code, out = invoke("backup", "create")
    assert code == 0, out
    code, out = invoke("backup", "prune", "--json")  # keep 1: the first backup goes, the newest stays
    assert code == 0, out
    assert [Path(p).name for p in as_json(out)["removed"]] == [Path(created["path"]).name]


def test_without_a_key_the_console_says_what_to_set(cli_env: None) -> None:
    code, out = invoke("backup", "create")
    assert code == 1 and "错误（backup_not_configured）" in out and "GOVSHARE_BACKUP_KEY" in out
