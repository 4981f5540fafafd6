"""Settings for the test suite: the production module with fast hashing and plain static files."""

import os

os.environ.setdefault("GUANAI_SECRET_KEY", "test-only-key-" + "x" * 50)
os.environ.setdefault("GUANAI_DEBUG", "0")
os.environ.setdefault("GUANAI_SECURE_SSL_REDIRECT", "0")

from config.settings import *  # noqa: F403
from config.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
