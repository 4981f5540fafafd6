"""Settings for the test suite: the production module with fast hashing and plain static files."""

import base64
import os
import secrets

os.environ.setdefault("GUANAI_SECRET_KEY", "test-only-key-" + "x" * 50)
# Fresh keys per test run, in the environment so that subprocesses started by tests share them.
os.environ.setdefault("GUANAI_FIELD_KEYS", "test1:" + base64.b64encode(secrets.token_bytes(16)).decode())
os.environ.setdefault("GUANAI_BLIND_INDEX_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
os.environ.setdefault("GUANAI_DEBUG", "0")
os.environ.setdefault("GUANAI_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("GUANAI_AUDIT_KEY", "test-only-audit-key-" + "x" * 32)

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, STORAGES

# A model with encrypted fields for the tests of guanai.core.crypto (no real app is required to have one).
INSTALLED_APPS = [*INSTALLED_APPS, "guanai.core.tests.encryption_testapp"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
