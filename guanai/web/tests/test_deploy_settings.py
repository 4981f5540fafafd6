from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GUANAI_", "DJANGO_"))}
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def field_keys() -> dict[str, str]:
    return {
        "GUANAI_FIELD_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(16)).decode(),
        "GUANAI_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def test_check_deploy_is_clean_with_production_settings() -> None:
    production = {
        **field_keys(),
        "GUANAI_SECRET_KEY": secrets.token_urlsafe(64),
        "GUANAI_DEBUG": "0",
        "GUANAI_AUDIT_KEY": secrets.token_urlsafe(48),
        "GUANAI_ALLOWED_HOSTS": "guanai.example.cn",
    }
    done = run_manage("check", "--deploy", "--fail-level", "WARNING", **production)
    assert done.returncode == 0, done.stdout + done.stderr
    # One silenced on purpose: axes.W006 (addresses are rate limited, not locked out; see settings).
    assert "System check identified no issues (1 silenced)." in done.stdout


def test_settings_refuse_to_start_without_a_secret_key(tmp_path: Path) -> None:
    done = run_manage("check", GUANAI_SECRET_KEY="")
    assert done.returncode != 0
    assert "GUANAI_SECRET_KEY" in done.stderr


def test_secrets_can_be_read_from_files(tmp_path: Path) -> None:
    key_file = tmp_path / "secret"
    key_file.write_text(secrets.token_urlsafe(64) + "\n", encoding="utf-8")
    audit_key_file = tmp_path / "audit-key"
    audit_key_file.write_text(secrets.token_urlsafe(48) + "\n", encoding="utf-8")
    done = run_manage(
        "check",
        GUANAI_SECRET_KEY_FILE=str(key_file),
        GUANAI_AUDIT_KEY_FILE=str(audit_key_file),
        **field_keys(),
    )
    assert done.returncode == 0, done.stderr


def test_settings_refuse_to_start_without_an_audit_key() -> None:
    # Debug off explicitly: a developer's .env (debug on) would otherwise allow a derived key.
    done = run_manage(
        "check", GUANAI_SECRET_KEY=secrets.token_urlsafe(64), GUANAI_AUDIT_KEY="short", GUANAI_DEBUG="0"
    )
    assert done.returncode != 0
    assert "GUANAI_AUDIT_KEY" in done.stderr


def test_a_malformed_boolean_fails_loudly() -> None:
    done = run_manage("check", GUANAI_SECRET_KEY=secrets.token_urlsafe(64), GUANAI_DEBUG="perhaps")
    assert done.returncode != 0
    assert "GUANAI_DEBUG must be a boolean" in done.stderr
