"""Test settings: the base settings with fast hashing and no forced secure cookies.

DATABASE_URL still selects SQLite (default) or PostgreSQL, so the same suite runs on both.
"""

import os

os.environ.setdefault("YIWANG_DEMO", "0")
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("YIWANG_FIELD_KEY", "test-field-key")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("CELERY_BROKER_URL", "")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
YIWANG_REQUIRE_2FA = False
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = ""
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
LANGUAGE_CODE = "zh-hans"
